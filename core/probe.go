package core

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
)

// SCSI operation codes used by the probe (SPC-4, Sections 6.4 and 6.27).
const (
	opInquiry    = 0x12
	opReportLUNs = 0xa0
)

// maxProbeRead bounds a probe command's data: enough for 8190 LUNs.
const maxProbeRead = 64 << 10

// readCommand sends a SCSI command that reads at most n bytes and gathers
// its Data-In PDUs until the status arrives (RFC 7143, Sections 11.3,
// 11.4 and 11.7).
func (s *Session) readCommand(ctx context.Context, lun uint64, cdb []byte, n uint32) ([]byte, error) {
	itt := s.nextITT()
	cmd := &SCSICommand{Read: true, Attr: attrSimple, LUN: EncodeLUN(lun), ITT: itt, ExpectedLength: n}
	copy(cmd.CDB[:], cdb)
	if err := s.sendCommand(ctx, cmd.Encode()); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, n)
	for i := 0; ; i++ {
		if i > int(n/512)+16 {
			return nil, fmt.Errorf("SCSI 0x%02x: too many Data-In PDUs: %w", cdb[0], ErrProtocol)
		}
		p, err := s.await(ctx, itt)
		if err != nil {
			return nil, err
		}
		switch p.Opcode() {
		case OpSCSIDataIn:
			var d DataIn
			d.decode(p)
			if int(d.BufferOffset) != len(buf) || len(buf)+len(d.Data) > int(n) {
				return nil, fmt.Errorf("SCSI 0x%02x: Data-In at offset %d, expected %d: %w", cdb[0], d.BufferOffset, len(buf), ErrProtocol)
			}
			buf = append(buf, d.Data...)
			if d.HasStatus {
				s.statusUpdate(d.StatSN, d.MaxCmdSN)
				if d.Status != scsiStatusGood {
					return nil, fmt.Errorf("SCSI 0x%02x: status 0x%02x", cdb[0], d.Status)
				}
				return buf, nil
			}
		case OpSCSIResponse:
			var r SCSIResponse
			r.decode(p)
			s.statusUpdate(r.StatSN, r.MaxCmdSN)
			if r.Response != 0 {
				return nil, fmt.Errorf("SCSI 0x%02x: target failure (response 0x%02x)", cdb[0], r.Response)
			}
			if r.Status != scsiStatusGood {
				return nil, fmt.Errorf("SCSI 0x%02x: status 0x%02x%s", cdb[0], r.Status, senseText(r.Data))
			}
			return buf, nil
		default:
			return nil, fmt.Errorf("got %s for a SCSI command: %w", p.Opcode(), ErrProtocol)
		}
	}
}

// senseText decodes the sense key and additional sense code of fixed or
// descriptor sense data behind the 2-byte SenseLength (RFC 7143, Section
// 11.4.7; SPC-4, Section 4.5).
func senseText(d []byte) string {
	if len(d) < 2 {
		return ""
	}
	n := int(binary.BigEndian.Uint16(d))
	sense := d[2:]
	if n < len(sense) {
		sense = sense[:n]
	}
	switch {
	case len(sense) >= 14 && sense[0]&0x7e == 0x70:
		return fmt.Sprintf(", sense key 0x%x ASC/ASCQ 0x%02x/0x%02x", sense[2]&0xf, sense[12], sense[13])
	case len(sense) >= 4 && sense[0]&0x7e == 0x72:
		return fmt.Sprintf(", sense key 0x%x ASC/ASCQ 0x%02x/0x%02x", sense[1]&0xf, sense[2], sense[3])
	}
	return ""
}

// ReportLUNs lists the logical units of the target (SPC-4, Section 6.27).
func (s *Session) ReportLUNs(ctx context.Context) ([]uint64, error) {
	cdb := make([]byte, 12)
	cdb[0] = opReportLUNs
	binary.BigEndian.PutUint32(cdb[6:], maxProbeRead)
	b, err := s.readCommand(ctx, 0, cdb, maxProbeRead)
	if err != nil {
		return nil, fmt.Errorf("REPORT LUNS: %w", err)
	}
	if len(b) < 8 {
		return nil, fmt.Errorf("REPORT LUNS: %d bytes of data: %w", len(b), ErrProtocol)
	}
	n := int(binary.BigEndian.Uint32(b)) / 8
	var luns []uint64
	for i := 0; i < n && 8+8*i+8 <= len(b); i++ {
		var l [8]byte
		copy(l[:], b[8+8*i:])
		luns = append(luns, DecodeLUN(l))
	}
	return luns, nil
}

// Inquiry is what a standard INQUIRY says of a logical unit (SPC-4,
// Section 6.4.2). SPC-4 allows only ASCII 20h-7Eh in the strings, but they
// hold what the target sent, with invalid UTF-8 replaced: print them with
// esc.String.
type Inquiry struct {
	DeviceType uint8 // peripheral device type: 0 disk, 5 CD/DVD, 0x0c controller
	Vendor     string
	Product    string
	Revision   string
}

// DeviceTypeName names the peripheral device type as lsscsi does.
func (q Inquiry) DeviceTypeName() string {
	switch q.DeviceType {
	case 0x00:
		return "disk"
	case 0x01:
		return "tape"
	case 0x05:
		return "cd/dvd"
	case 0x0c:
		return "storage"
	case 0x1f:
		return "no-lun"
	}
	return fmt.Sprintf("type-0x%02x", q.DeviceType)
}

// Inquiry sends a standard INQUIRY to lun.
func (s *Session) Inquiry(ctx context.Context, lun uint64) (Inquiry, error) {
	const n = 96
	cdb := []byte{opInquiry, 0, 0, 0, n, 0}
	b, err := s.readCommand(ctx, lun, cdb, n)
	if err != nil {
		return Inquiry{}, fmt.Errorf("INQUIRY LUN %d: %w", lun, err)
	}
	if len(b) < 36 {
		return Inquiry{}, fmt.Errorf("INQUIRY LUN %d: %d bytes of data: %w", lun, len(b), ErrProtocol)
	}
	str := func(x []byte) string { return strings.TrimSpace(strings.ToValidUTF8(string(x), "?")) }
	return Inquiry{DeviceType: b[0] & 0x1f, Vendor: str(b[8:16]), Product: str(b[16:32]), Revision: str(b[32:36])}, nil
}
