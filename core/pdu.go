package core

import (
	"encoding/binary"
	"fmt"
)

// BHSLen is the length of the Basic Header Segment (RFC 7143, Section 11.2).
const BHSLen = 48

// Opcode is the iSCSI opcode in the low six bits of the first BHS byte
// (RFC 7143, Section 11.2.1.2).
type Opcode uint8

// Initiator opcodes (RFC 7143, Section 11.2.1.2).
const (
	OpNOPOut       Opcode = 0x00
	OpSCSICommand  Opcode = 0x01
	OpTaskMgmtReq  Opcode = 0x02
	OpLoginReq     Opcode = 0x03
	OpTextReq      Opcode = 0x04
	OpSCSIDataOut  Opcode = 0x05
	OpLogoutReq    Opcode = 0x06
	OpSNACKReq     Opcode = 0x10
	OpNOPIn        Opcode = 0x20
	OpSCSIResponse Opcode = 0x21
	OpTaskMgmtResp Opcode = 0x22
	OpLoginResp    Opcode = 0x23
	OpTextResp     Opcode = 0x24
	OpSCSIDataIn   Opcode = 0x25
	OpLogoutResp   Opcode = 0x26
	OpR2T          Opcode = 0x31
	OpAsyncMessage Opcode = 0x32
	OpReject       Opcode = 0x3f
	opcodeMask            = 0x3f
	immediateBit          = 0x40
	finalBit              = 0x80
	reservedTag    uint32 = 0xffffffff
	maxDataSegment        = 1<<24 - 1
)

var opNames = table[Opcode, string]{
	{OpNOPOut, "NOP-Out"}, {OpSCSICommand, "SCSI Command"}, {OpTaskMgmtReq, "Task Management Request"},
	{OpLoginReq, "Login Request"}, {OpTextReq, "Text Request"}, {OpSCSIDataOut, "SCSI Data-Out"},
	{OpLogoutReq, "Logout Request"}, {OpSNACKReq, "SNACK Request"}, {OpNOPIn, "NOP-In"},
	{OpSCSIResponse, "SCSI Response"}, {OpTaskMgmtResp, "Task Management Response"},
	{OpLoginResp, "Login Response"}, {OpTextResp, "Text Response"}, {OpSCSIDataIn, "SCSI Data-In"},
	{OpLogoutResp, "Logout Response"}, {OpR2T, "R2T"}, {OpAsyncMessage, "Asynchronous Message"},
	{OpReject, "Reject"},
}

func (o Opcode) String() string {
	if n, ok := opNames.get(o); ok {
		return n
	}
	return fmt.Sprintf("opcode 0x%02x", uint8(o))
}

// PDU is one iSCSI PDU as it travels: the 48-byte BHS, the Additional Header
// Segments and the data segment without padding and without digests
// (RFC 7143, Section 11.2). The BHS fields TotalAHSLength and
// DataSegmentLength are kept in step with AHS and Data by the transports.
type PDU struct {
	BHS  [BHSLen]byte
	AHS  []byte
	Data []byte
}

// Opcode returns the opcode of the PDU (RFC 7143, Section 11.2.1.2).
func (p *PDU) Opcode() Opcode { return Opcode(p.BHS[0] & opcodeMask) }

// Immediate reports the I bit (RFC 7143, Section 11.2.1.1).
func (p *PDU) Immediate() bool { return p.BHS[0]&immediateBit != 0 }

// Final reports the F bit of byte 1 (RFC 7143, Section 11.2.1.2).
func (p *PDU) Final() bool { return p.BHS[1]&finalBit != 0 }

// ITT returns the Initiator Task Tag (RFC 7143, Section 11.2.1.8).
func (p *PDU) ITT() uint32 { return binary.BigEndian.Uint32(p.BHS[16:20]) }

// TotalAHSLength returns the AHS length field in 4-byte words (RFC 7143,
// Section 11.2.1.4).
func (p *PDU) TotalAHSLength() int { return int(p.BHS[4]) }

// DataSegmentLength returns the data segment length field in bytes, without
// padding (RFC 7143, Section 11.2.1.5).
func (p *PDU) DataSegmentLength() int {
	return int(p.BHS[5])<<16 | int(p.BHS[6])<<8 | int(p.BHS[7])
}

// setLengths writes TotalAHSLength and DataSegmentLength from AHS and Data.
func (p *PDU) setLengths() error {
	if len(p.AHS)%4 != 0 || len(p.AHS)/4 > 255 {
		return fmt.Errorf("pdu: AHS length %d: %w", len(p.AHS), errBadAHS)
	}
	if len(p.Data) > maxDataSegment {
		return fmt.Errorf("pdu: data segment length %d: %w", len(p.Data), errTooLong)
	}
	p.BHS[4] = byte(len(p.AHS) / 4)
	p.BHS[5] = byte(len(p.Data) >> 16)
	p.BHS[6] = byte(len(p.Data) >> 8)
	p.BHS[7] = byte(len(p.Data))
	return nil
}

// pad4 returns n rounded up to a multiple of four: data segments are padded
// to a 4-byte boundary on the wire (RFC 7143, Section 11.1).
func pad4(n int) int { return (n + 3) &^ 3 }

// MarshalBinary returns the PDU as it is sent without digests: BHS, AHS,
// data segment and padding.
func (p *PDU) MarshalBinary() ([]byte, error) {
	q := *p
	if err := q.setLengths(); err != nil {
		return nil, err
	}
	b := make([]byte, BHSLen+len(q.AHS)+pad4(len(q.Data)))
	copy(b, q.BHS[:])
	copy(b[BHSLen:], q.AHS)
	copy(b[BHSLen+len(q.AHS):], q.Data)
	return b, nil
}

// UnmarshalBinary parses a PDU without digests from b, which must hold the
// whole PDU including padding.
func (p *PDU) UnmarshalBinary(b []byte) error {
	if len(b) < BHSLen {
		return fmt.Errorf("pdu: %d bytes, BHS needs %d: %w", len(b), BHSLen, errShort)
	}
	copy(p.BHS[:], b)
	ahs := p.TotalAHSLength() * 4
	dl := p.DataSegmentLength()
	if need := BHSLen + ahs + pad4(dl); len(b) < need {
		return fmt.Errorf("pdu: %s of %d bytes, header says %d: %w", p.Opcode(), len(b), need, errShort)
	}
	p.AHS = append([]byte(nil), b[BHSLen:BHSLen+ahs]...)
	p.Data = append([]byte(nil), b[BHSLen+ahs:BHSLen+ahs+dl]...)
	return nil
}

// Stage is a login stage code in CSG and NSG (RFC 7143, Section 11.12.3).
type Stage uint8

// Login stages (RFC 7143, Section 11.12.3).
const (
	StageSecurity    Stage = 0
	StageOperational Stage = 1
	StageFullFeature Stage = 3
)

func (s Stage) String() string {
	switch s {
	case StageSecurity:
		return "security negotiation"
	case StageOperational:
		return "operational negotiation"
	case StageFullFeature:
		return "full feature phase"
	}
	return fmt.Sprintf("stage %d", uint8(s))
}

// put32 and get32 are the big-endian helpers the BHS layouts below use at
// their RFC offsets.
func put32(b []byte, v uint32) { binary.BigEndian.PutUint32(b, v) }
func get32(b []byte) uint32    { return binary.BigEndian.Uint32(b) }
func put16(b []byte, v uint16) { binary.BigEndian.PutUint16(b, v) }
func get16(b []byte) uint16    { return binary.BigEndian.Uint16(b) }
