package core

// SCSI command attributes and flags of byte 1 (RFC 7143, Section 11.3.1).
const (
	scsiRead       = 0x40
	scsiWrite      = 0x20
	attrSimple     = 0x01
	respOverflow   = 0x04 // O bit of the SCSI Response and Data-In (11.4.5)
	respUnderflow  = 0x02 // U bit (11.4.5)
	dataInStatus   = 0x01 // S bit of Data-In (11.7.1)
	dataInAck      = 0x40 // A bit of Data-In (11.7.1)
	bidiOverflow   = 0x10
	bidiUnderflow  = 0x08
	scsiStatusGood = 0x00
)

// SCSICommand is the SCSI Command PDU (RFC 7143, Section 11.3). Only what a
// probe needs is modelled: reads of up to one burst with an immediate CDB.
type SCSICommand struct {
	Immediate      bool     // I bit
	Read, Write    bool     // R and W bits (11.3.1)
	Attr           uint8    // task attribute, low 3 bits (11.3.1)
	LUN            [8]byte  // bytes 8-15
	ITT            uint32   // bytes 16-19
	ExpectedLength uint32   // bytes 20-23 (11.3.5)
	CmdSN          uint32   // bytes 24-27 (11.3.6)
	ExpStatSN      uint32   // bytes 28-31 (11.3.7)
	CDB            [16]byte // bytes 32-47 (11.3.8)
	Data           []byte   // immediate data
}

// Encode implements Message.
func (m *SCSICommand) Encode() *PDU {
	p := newPDU(OpSCSICommand, m.Immediate, finalBit|flag(m.Read, scsiRead)|flag(m.Write, scsiWrite)|m.Attr&7, m.Data)
	copy(p.BHS[8:16], m.LUN[:])
	put32(p.BHS[16:], m.ITT)
	put32(p.BHS[20:], m.ExpectedLength)
	put32(p.BHS[24:], m.CmdSN)
	put32(p.BHS[28:], m.ExpStatSN)
	copy(p.BHS[32:48], m.CDB[:])
	return p
}

func (m *SCSICommand) decode(p *PDU) error {
	*m = SCSICommand{Immediate: p.Immediate(), Read: p.BHS[1]&scsiRead != 0, Write: p.BHS[1]&scsiWrite != 0,
		Attr: p.BHS[1] & 7, ITT: p.ITT(), ExpectedLength: get32(p.BHS[20:]), CmdSN: get32(p.BHS[24:]),
		ExpStatSN: get32(p.BHS[28:]), Data: p.Data}
	copy(m.LUN[:], p.BHS[8:16])
	copy(m.CDB[:], p.BHS[32:48])
	return nil
}

// MarshalBinary returns the PDU bytes without digests.
func (m *SCSICommand) MarshalBinary() ([]byte, error) { return marshalMessage(m) }

// UnmarshalBinary parses the PDU bytes without digests.
func (m *SCSICommand) UnmarshalBinary(b []byte) error { return unmarshalMessage(m, OpSCSICommand, b) }

// SCSIResponse is the SCSI Response PDU (RFC 7143, Section 11.4).
type SCSIResponse struct {
	Overflow, Underflow bool   // O and U bits (11.4.5)
	Response            uint8  // byte 2 (11.4.3): 0 command completed at target
	Status              uint8  // byte 3 (11.4.2): SCSI status
	ITT                 uint32 // bytes 16-19
	StatSN              uint32 // bytes 24-27
	ExpCmdSN            uint32 // bytes 28-31
	MaxCmdSN            uint32 // bytes 32-35
	ExpDataSN           uint32 // bytes 36-39 (11.4.8)
	ResidualCount       uint32 // bytes 44-47 (11.4.5)
	Data                []byte // SenseLength and sense data (11.4.7)
}

// Encode implements Message.
func (m *SCSIResponse) Encode() *PDU {
	p := newPDU(OpSCSIResponse, false, finalBit|flag(m.Overflow, respOverflow)|flag(m.Underflow, respUnderflow), m.Data)
	p.BHS[2], p.BHS[3] = m.Response, m.Status
	put32(p.BHS[16:], m.ITT)
	put32(p.BHS[24:], m.StatSN)
	put32(p.BHS[28:], m.ExpCmdSN)
	put32(p.BHS[32:], m.MaxCmdSN)
	put32(p.BHS[36:], m.ExpDataSN)
	put32(p.BHS[44:], m.ResidualCount)
	return p
}

func (m *SCSIResponse) decode(p *PDU) error {
	*m = SCSIResponse{Overflow: p.BHS[1]&respOverflow != 0, Underflow: p.BHS[1]&respUnderflow != 0,
		Response: p.BHS[2], Status: p.BHS[3], ITT: p.ITT(), StatSN: get32(p.BHS[24:]),
		ExpCmdSN: get32(p.BHS[28:]), MaxCmdSN: get32(p.BHS[32:]), ExpDataSN: get32(p.BHS[36:]),
		ResidualCount: get32(p.BHS[44:]), Data: p.Data}
	return nil
}

// MarshalBinary returns the PDU bytes without digests.
func (m *SCSIResponse) MarshalBinary() ([]byte, error) { return marshalMessage(m) }

// UnmarshalBinary parses the PDU bytes without digests.
func (m *SCSIResponse) UnmarshalBinary(b []byte) error {
	return unmarshalMessage(m, OpSCSIResponse, b)
}

// DataIn is the SCSI Data-In PDU (RFC 7143, Section 11.7).
type DataIn struct {
	Final               bool    // F bit (11.7.1)
	Acknowledge         bool    // A bit (11.7.1)
	Overflow, Underflow bool    // O and U bits, valid with S
	HasStatus           bool    // S bit: Status and StatSN are valid (11.7.1)
	Status              uint8   // byte 3 (11.7.2)
	LUN                 [8]byte // bytes 8-15
	ITT                 uint32  // bytes 16-19
	TTT                 uint32  // bytes 20-23
	StatSN              uint32  // bytes 24-27
	ExpCmdSN            uint32  // bytes 28-31
	MaxCmdSN            uint32  // bytes 32-35
	DataSN              uint32  // bytes 36-39 (11.7.4)
	BufferOffset        uint32  // bytes 40-43 (11.7.5)
	ResidualCount       uint32  // bytes 44-47 (11.7.6)
	Data                []byte
}

// Encode implements Message.
func (m *DataIn) Encode() *PDU {
	p := newPDU(OpSCSIDataIn, false, flag(m.Final, finalBit)|flag(m.Acknowledge, dataInAck)|
		flag(m.Overflow, respOverflow)|flag(m.Underflow, respUnderflow)|flag(m.HasStatus, dataInStatus), m.Data)
	p.BHS[3] = m.Status
	copy(p.BHS[8:16], m.LUN[:])
	put32(p.BHS[16:], m.ITT)
	put32(p.BHS[20:], m.TTT)
	put32(p.BHS[24:], m.StatSN)
	put32(p.BHS[28:], m.ExpCmdSN)
	put32(p.BHS[32:], m.MaxCmdSN)
	put32(p.BHS[36:], m.DataSN)
	put32(p.BHS[40:], m.BufferOffset)
	put32(p.BHS[44:], m.ResidualCount)
	return p
}

func (m *DataIn) decode(p *PDU) error {
	*m = DataIn{Final: p.Final(), Acknowledge: p.BHS[1]&dataInAck != 0,
		Overflow: p.BHS[1]&respOverflow != 0, Underflow: p.BHS[1]&respUnderflow != 0,
		HasStatus: p.BHS[1]&dataInStatus != 0, Status: p.BHS[3], ITT: p.ITT(), TTT: get32(p.BHS[20:]),
		StatSN: get32(p.BHS[24:]), ExpCmdSN: get32(p.BHS[28:]), MaxCmdSN: get32(p.BHS[32:]),
		DataSN: get32(p.BHS[36:]), BufferOffset: get32(p.BHS[40:]), ResidualCount: get32(p.BHS[44:]), Data: p.Data}
	copy(m.LUN[:], p.BHS[8:16])
	return nil
}

// MarshalBinary returns the PDU bytes without digests.
func (m *DataIn) MarshalBinary() ([]byte, error) { return marshalMessage(m) }

// UnmarshalBinary parses the PDU bytes without digests.
func (m *DataIn) UnmarshalBinary(b []byte) error { return unmarshalMessage(m, OpSCSIDataIn, b) }

// EncodeLUN returns the 8-byte LUN field for a LUN number in SAM's
// peripheral (LUN < 256) or flat (LUN < 16384) addressing method
// (SAM-5, Section 4.7; RFC 7143, Section 11.3.4).
func EncodeLUN(lun uint64) [8]byte {
	var b [8]byte
	switch {
	case lun < 256:
		b[1] = byte(lun)
	case lun < 1<<14:
		b[0] = 0x40 | byte(lun>>8)
		b[1] = byte(lun)
	default:
		put16(b[0:], uint16(lun>>48))
		put16(b[2:], uint16(lun>>32))
		put16(b[4:], uint16(lun>>16))
		put16(b[6:], uint16(lun))
	}
	return b
}

// DecodeLUN is the inverse of EncodeLUN for the peripheral and flat
// addressing methods, and returns the raw 64-bit value for any other.
func DecodeLUN(b [8]byte) uint64 {
	switch b[0] >> 6 {
	case 0:
		if b[0] == 0 && b[2]|b[3]|b[4]|b[5]|b[6]|b[7] == 0 {
			return uint64(b[1])
		}
	case 1:
		if b[2]|b[3]|b[4]|b[5]|b[6]|b[7] == 0 {
			return uint64(b[0]&0x3f)<<8 | uint64(b[1])
		}
	}
	return uint64(get16(b[0:]))<<48 | uint64(get16(b[2:]))<<32 | uint64(get16(b[4:]))<<16 | uint64(get16(b[6:]))
}
