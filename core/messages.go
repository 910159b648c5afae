package core

import "fmt"

// Message is a typed view of one PDU. Every message converts to a PDU and
// back; the byte offsets are those of the RFC 7143 section named on each
// type.
type Message interface {
	// Encode returns the message as a PDU.
	Encode() *PDU
	// decode fills the message from p, whose opcode has been checked.
	decode(p *PDU) error
}

// Decode returns the typed message for p, or an error for an opcode an
// initiator or this package's test target does not handle.
func Decode(p *PDU) (Message, error) {
	var m Message
	switch p.Opcode() {
	case OpLoginReq:
		m = new(LoginRequest)
	case OpLoginResp:
		m = new(LoginResponse)
	case OpTextReq:
		m = new(TextRequest)
	case OpTextResp:
		m = new(TextResponse)
	case OpLogoutReq:
		m = new(LogoutRequest)
	case OpLogoutResp:
		m = new(LogoutResponse)
	case OpNOPOut:
		m = new(NOPOut)
	case OpNOPIn:
		m = new(NOPIn)
	case OpReject:
		m = new(Reject)
	case OpAsyncMessage:
		m = new(AsyncMessage)
	case OpSCSICommand:
		m = new(SCSICommand)
	case OpSCSIResponse:
		m = new(SCSIResponse)
	case OpSCSIDataIn:
		m = new(DataIn)
	default:
		return nil, fmt.Errorf("decode: %s: %w", p.Opcode(), errUnsupportedOpcode)
	}
	if err := m.decode(p); err != nil {
		return nil, err
	}
	return m, nil
}

// marshalMessage and unmarshalMessage give every message MarshalBinary and
// UnmarshalBinary through its PDU form.
func marshalMessage(m Message) ([]byte, error) { return m.Encode().MarshalBinary() }

func unmarshalMessage(m Message, want Opcode, b []byte) error {
	var p PDU
	if err := p.UnmarshalBinary(b); err != nil {
		return err
	}
	if p.Opcode() != want {
		return fmt.Errorf("decode: got %s, want %s: %w", p.Opcode(), want, errUnexpectedOpcode)
	}
	return m.decode(&p)
}

func newPDU(op Opcode, immediate bool, flags byte, data []byte) *PDU {
	p := &PDU{Data: data}
	p.BHS[0] = byte(op)
	if immediate {
		p.BHS[0] |= immediateBit
	}
	p.BHS[1] = flags
	p.setLengths() //nolint:errcheck // no AHS; data length is checked by the transport
	return p
}

func flag(b bool, bit byte) byte {
	if b {
		return bit
	}
	return 0
}

const (
	loginTransit  = 0x80
	loginContinue = 0x40
	textContinue  = 0x40
)

// LoginRequest is the Login Request PDU (RFC 7143, Section 11.12).
type LoginRequest struct {
	Transit    bool    // T bit: ready to go to NSG (11.12.2)
	Continue   bool    // C bit: text continues in the next PDU (11.12.2)
	CSG, NSG   Stage   // current and next stage (11.12.3)
	VersionMax uint8   // byte 2 (11.12.4)
	VersionMin uint8   // byte 3 (11.12.5)
	ISID       [6]byte // bytes 8-13 (11.12.5)
	TSIH       uint16  // bytes 14-15 (11.12.6)
	ITT        uint32  // bytes 16-19
	CID        uint16  // bytes 20-21 (11.12.7)
	CmdSN      uint32  // bytes 24-27 (11.12.8)
	ExpStatSN  uint32  // bytes 28-31 (11.12.9)
	Data       []byte  // text keys (11.12.10)
}

// Encode implements Message. Login requests are always immediate
// (RFC 7143, Section 11.12).
func (m *LoginRequest) Encode() *PDU {
	p := newPDU(OpLoginReq, true, flag(m.Transit, loginTransit)|flag(m.Continue, loginContinue)|
		byte(m.CSG&3)<<2|byte(m.NSG&3), m.Data)
	p.BHS[2], p.BHS[3] = m.VersionMax, m.VersionMin
	copy(p.BHS[8:14], m.ISID[:])
	put16(p.BHS[14:], m.TSIH)
	put32(p.BHS[16:], m.ITT)
	put16(p.BHS[20:], m.CID)
	put32(p.BHS[24:], m.CmdSN)
	put32(p.BHS[28:], m.ExpStatSN)
	return p
}

func (m *LoginRequest) decode(p *PDU) error {
	*m = LoginRequest{
		Transit: p.BHS[1]&loginTransit != 0, Continue: p.BHS[1]&loginContinue != 0,
		CSG: Stage(p.BHS[1] >> 2 & 3), NSG: Stage(p.BHS[1] & 3),
		VersionMax: p.BHS[2], VersionMin: p.BHS[3], TSIH: get16(p.BHS[14:]), ITT: p.ITT(),
		CID: get16(p.BHS[20:]), CmdSN: get32(p.BHS[24:]), ExpStatSN: get32(p.BHS[28:]), Data: p.Data,
	}
	copy(m.ISID[:], p.BHS[8:14])
	return nil
}

// MarshalBinary returns the PDU bytes without digests.
func (m *LoginRequest) MarshalBinary() ([]byte, error) { return marshalMessage(m) }

// UnmarshalBinary parses the PDU bytes without digests.
func (m *LoginRequest) UnmarshalBinary(b []byte) error { return unmarshalMessage(m, OpLoginReq, b) }

// LoginResponse is the Login Response PDU (RFC 7143, Section 11.13).
type LoginResponse struct {
	Transit       bool    // T bit (11.13.1)
	Continue      bool    // C bit (11.13.1)
	CSG, NSG      Stage   // byte 1 (11.13.1)
	VersionMax    uint8   // byte 2 (11.13.2)
	VersionActive uint8   // byte 3 (11.13.3)
	ISID          [6]byte // bytes 8-13
	TSIH          uint16  // bytes 14-15 (11.13.4)
	ITT           uint32  // bytes 16-19
	StatSN        uint32  // bytes 24-27 (11.13.4)
	ExpCmdSN      uint32  // bytes 28-31
	MaxCmdSN      uint32  // bytes 32-35
	StatusClass   uint8   // byte 36 (11.13.5)
	StatusDetail  uint8   // byte 37 (11.13.5)
	Data          []byte  // text keys
}

// Encode implements Message.
func (m *LoginResponse) Encode() *PDU {
	p := newPDU(OpLoginResp, false, flag(m.Transit, loginTransit)|flag(m.Continue, loginContinue)|
		byte(m.CSG&3)<<2|byte(m.NSG&3), m.Data)
	p.BHS[2], p.BHS[3] = m.VersionMax, m.VersionActive
	copy(p.BHS[8:14], m.ISID[:])
	put16(p.BHS[14:], m.TSIH)
	put32(p.BHS[16:], m.ITT)
	put32(p.BHS[24:], m.StatSN)
	put32(p.BHS[28:], m.ExpCmdSN)
	put32(p.BHS[32:], m.MaxCmdSN)
	p.BHS[36], p.BHS[37] = m.StatusClass, m.StatusDetail
	return p
}

func (m *LoginResponse) decode(p *PDU) error {
	*m = LoginResponse{
		Transit: p.BHS[1]&loginTransit != 0, Continue: p.BHS[1]&loginContinue != 0,
		CSG: Stage(p.BHS[1] >> 2 & 3), NSG: Stage(p.BHS[1] & 3),
		VersionMax: p.BHS[2], VersionActive: p.BHS[3], TSIH: get16(p.BHS[14:]), ITT: p.ITT(),
		StatSN: get32(p.BHS[24:]), ExpCmdSN: get32(p.BHS[28:]), MaxCmdSN: get32(p.BHS[32:]),
		StatusClass: p.BHS[36], StatusDetail: p.BHS[37], Data: p.Data,
	}
	copy(m.ISID[:], p.BHS[8:14])
	return nil
}

// MarshalBinary returns the PDU bytes without digests.
func (m *LoginResponse) MarshalBinary() ([]byte, error) { return marshalMessage(m) }

// UnmarshalBinary parses the PDU bytes without digests.
func (m *LoginResponse) UnmarshalBinary(b []byte) error { return unmarshalMessage(m, OpLoginResp, b) }

// TextRequest is the Text Request PDU (RFC 7143, Section 11.10).
type TextRequest struct {
	Immediate bool    // I bit
	Final     bool    // F bit (11.10.1)
	Continue  bool    // C bit (11.10.2)
	LUN       [8]byte // bytes 8-15
	ITT       uint32  // bytes 16-19
	TTT       uint32  // bytes 20-23 (11.10.4)
	CmdSN     uint32  // bytes 24-27
	ExpStatSN uint32  // bytes 28-31
	Data      []byte  // text keys (11.10.5)
}

// Encode implements Message.
func (m *TextRequest) Encode() *PDU {
	p := newPDU(OpTextReq, m.Immediate, flag(m.Final, finalBit)|flag(m.Continue, textContinue), m.Data)
	copy(p.BHS[8:16], m.LUN[:])
	put32(p.BHS[16:], m.ITT)
	put32(p.BHS[20:], m.TTT)
	put32(p.BHS[24:], m.CmdSN)
	put32(p.BHS[28:], m.ExpStatSN)
	return p
}

func (m *TextRequest) decode(p *PDU) error {
	*m = TextRequest{Immediate: p.Immediate(), Final: p.Final(), Continue: p.BHS[1]&textContinue != 0,
		ITT: p.ITT(), TTT: get32(p.BHS[20:]), CmdSN: get32(p.BHS[24:]), ExpStatSN: get32(p.BHS[28:]), Data: p.Data}
	copy(m.LUN[:], p.BHS[8:16])
	return nil
}

// MarshalBinary returns the PDU bytes without digests.
func (m *TextRequest) MarshalBinary() ([]byte, error) { return marshalMessage(m) }

// UnmarshalBinary parses the PDU bytes without digests.
func (m *TextRequest) UnmarshalBinary(b []byte) error { return unmarshalMessage(m, OpTextReq, b) }

// TextResponse is the Text Response PDU (RFC 7143, Section 11.11).
type TextResponse struct {
	Final    bool    // F bit (11.11.1)
	Continue bool    // C bit (11.11.2)
	LUN      [8]byte // bytes 8-15
	ITT      uint32  // bytes 16-19
	TTT      uint32  // bytes 20-23 (11.11.4)
	StatSN   uint32  // bytes 24-27
	ExpCmdSN uint32  // bytes 28-31
	MaxCmdSN uint32  // bytes 32-35
	Data     []byte  // text keys (11.11.5)
}

// Encode implements Message.
func (m *TextResponse) Encode() *PDU {
	p := newPDU(OpTextResp, false, flag(m.Final, finalBit)|flag(m.Continue, textContinue), m.Data)
	copy(p.BHS[8:16], m.LUN[:])
	put32(p.BHS[16:], m.ITT)
	put32(p.BHS[20:], m.TTT)
	put32(p.BHS[24:], m.StatSN)
	put32(p.BHS[28:], m.ExpCmdSN)
	put32(p.BHS[32:], m.MaxCmdSN)
	return p
}

func (m *TextResponse) decode(p *PDU) error {
	*m = TextResponse{Final: p.Final(), Continue: p.BHS[1]&textContinue != 0, ITT: p.ITT(),
		TTT: get32(p.BHS[20:]), StatSN: get32(p.BHS[24:]), ExpCmdSN: get32(p.BHS[28:]),
		MaxCmdSN: get32(p.BHS[32:]), Data: p.Data}
	copy(m.LUN[:], p.BHS[8:16])
	return nil
}

// MarshalBinary returns the PDU bytes without digests.
func (m *TextResponse) MarshalBinary() ([]byte, error) { return marshalMessage(m) }

// UnmarshalBinary parses the PDU bytes without digests.
func (m *TextResponse) UnmarshalBinary(b []byte) error { return unmarshalMessage(m, OpTextResp, b) }

// Logout reason codes (RFC 7143, Section 11.14.1).
const (
	LogoutCloseSession    uint8 = 0
	LogoutCloseConnection uint8 = 1
	LogoutRemoveForRecov  uint8 = 2
)

// LogoutRequest is the Logout Request PDU (RFC 7143, Section 11.14).
type LogoutRequest struct {
	Immediate bool   // I bit
	Reason    uint8  // byte 1, low 7 bits (11.14.1)
	ITT       uint32 // bytes 16-19
	CID       uint16 // bytes 20-21 (11.14.2)
	CmdSN     uint32 // bytes 24-27
	ExpStatSN uint32 // bytes 28-31 (11.14.3)
}

// Encode implements Message.
func (m *LogoutRequest) Encode() *PDU {
	p := newPDU(OpLogoutReq, m.Immediate, finalBit|m.Reason&0x7f, nil)
	put32(p.BHS[16:], m.ITT)
	put16(p.BHS[20:], m.CID)
	put32(p.BHS[24:], m.CmdSN)
	put32(p.BHS[28:], m.ExpStatSN)
	return p
}

func (m *LogoutRequest) decode(p *PDU) error {
	*m = LogoutRequest{Immediate: p.Immediate(), Reason: p.BHS[1] & 0x7f, ITT: p.ITT(),
		CID: get16(p.BHS[20:]), CmdSN: get32(p.BHS[24:]), ExpStatSN: get32(p.BHS[28:])}
	return nil
}

// MarshalBinary returns the PDU bytes without digests.
func (m *LogoutRequest) MarshalBinary() ([]byte, error) { return marshalMessage(m) }

// UnmarshalBinary parses the PDU bytes without digests.
func (m *LogoutRequest) UnmarshalBinary(b []byte) error { return unmarshalMessage(m, OpLogoutReq, b) }

// LogoutResponse is the Logout Response PDU (RFC 7143, Section 11.15).
type LogoutResponse struct {
	Response    uint8  // byte 2 (11.15.1): 0 closed, 1 CID not found, 2 recovery unsupported, 3 cleanup failed
	ITT         uint32 // bytes 16-19
	StatSN      uint32 // bytes 24-27
	ExpCmdSN    uint32 // bytes 28-31
	MaxCmdSN    uint32 // bytes 32-35
	Time2Wait   uint16 // bytes 40-41 (11.15.2)
	Time2Retain uint16 // bytes 42-43 (11.15.3)
}

// Encode implements Message.
func (m *LogoutResponse) Encode() *PDU {
	p := newPDU(OpLogoutResp, false, finalBit, nil)
	p.BHS[2] = m.Response
	put32(p.BHS[16:], m.ITT)
	put32(p.BHS[24:], m.StatSN)
	put32(p.BHS[28:], m.ExpCmdSN)
	put32(p.BHS[32:], m.MaxCmdSN)
	put16(p.BHS[40:], m.Time2Wait)
	put16(p.BHS[42:], m.Time2Retain)
	return p
}

func (m *LogoutResponse) decode(p *PDU) error {
	*m = LogoutResponse{Response: p.BHS[2], ITT: p.ITT(), StatSN: get32(p.BHS[24:]),
		ExpCmdSN: get32(p.BHS[28:]), MaxCmdSN: get32(p.BHS[32:]), Time2Wait: get16(p.BHS[40:]),
		Time2Retain: get16(p.BHS[42:])}
	return nil
}

// MarshalBinary returns the PDU bytes without digests.
func (m *LogoutResponse) MarshalBinary() ([]byte, error) { return marshalMessage(m) }

// UnmarshalBinary parses the PDU bytes without digests.
func (m *LogoutResponse) UnmarshalBinary(b []byte) error {
	return unmarshalMessage(m, OpLogoutResp, b)
}

// NOPOut is the NOP-Out PDU (RFC 7143, Section 11.18).
type NOPOut struct {
	Immediate bool    // I bit
	LUN       [8]byte // bytes 8-15
	ITT       uint32  // bytes 16-19 (11.18.1): 0xffffffff when answering a NOP-In
	TTT       uint32  // bytes 20-23 (11.18.2)
	CmdSN     uint32  // bytes 24-27
	ExpStatSN uint32  // bytes 28-31
	Data      []byte  // ping data (11.18.3)
}

// Encode implements Message.
func (m *NOPOut) Encode() *PDU {
	p := newPDU(OpNOPOut, m.Immediate, finalBit, m.Data)
	copy(p.BHS[8:16], m.LUN[:])
	put32(p.BHS[16:], m.ITT)
	put32(p.BHS[20:], m.TTT)
	put32(p.BHS[24:], m.CmdSN)
	put32(p.BHS[28:], m.ExpStatSN)
	return p
}

func (m *NOPOut) decode(p *PDU) error {
	*m = NOPOut{Immediate: p.Immediate(), ITT: p.ITT(), TTT: get32(p.BHS[20:]),
		CmdSN: get32(p.BHS[24:]), ExpStatSN: get32(p.BHS[28:]), Data: p.Data}
	copy(m.LUN[:], p.BHS[8:16])
	return nil
}

// MarshalBinary returns the PDU bytes without digests.
func (m *NOPOut) MarshalBinary() ([]byte, error) { return marshalMessage(m) }

// UnmarshalBinary parses the PDU bytes without digests.
func (m *NOPOut) UnmarshalBinary(b []byte) error { return unmarshalMessage(m, OpNOPOut, b) }

// NOPIn is the NOP-In PDU (RFC 7143, Section 11.19).
type NOPIn struct {
	LUN      [8]byte // bytes 8-15
	ITT      uint32  // bytes 16-19
	TTT      uint32  // bytes 20-23 (11.19.1): not 0xffffffff when the target wants an answer
	StatSN   uint32  // bytes 24-27 (11.19.2)
	ExpCmdSN uint32  // bytes 28-31
	MaxCmdSN uint32  // bytes 32-35
	Data     []byte  // ping data
}

// Encode implements Message.
func (m *NOPIn) Encode() *PDU {
	p := newPDU(OpNOPIn, false, finalBit, m.Data)
	copy(p.BHS[8:16], m.LUN[:])
	put32(p.BHS[16:], m.ITT)
	put32(p.BHS[20:], m.TTT)
	put32(p.BHS[24:], m.StatSN)
	put32(p.BHS[28:], m.ExpCmdSN)
	put32(p.BHS[32:], m.MaxCmdSN)
	return p
}

func (m *NOPIn) decode(p *PDU) error {
	*m = NOPIn{ITT: p.ITT(), TTT: get32(p.BHS[20:]), StatSN: get32(p.BHS[24:]),
		ExpCmdSN: get32(p.BHS[28:]), MaxCmdSN: get32(p.BHS[32:]), Data: p.Data}
	copy(m.LUN[:], p.BHS[8:16])
	return nil
}

// MarshalBinary returns the PDU bytes without digests.
func (m *NOPIn) MarshalBinary() ([]byte, error) { return marshalMessage(m) }

// UnmarshalBinary parses the PDU bytes without digests.
func (m *NOPIn) UnmarshalBinary(b []byte) error { return unmarshalMessage(m, OpNOPIn, b) }

// Reject is the Reject PDU (RFC 7143, Section 11.17).
type Reject struct {
	Reason   uint8  // byte 2 (11.17.1)
	StatSN   uint32 // bytes 24-27
	ExpCmdSN uint32 // bytes 28-31
	MaxCmdSN uint32 // bytes 32-35
	DataSN   uint32 // bytes 36-39 (11.17.2)
	Data     []byte // the header of the rejected PDU (11.17.3)
}

var rejectReasons = table[uint8, string]{
	{0x02, "data (payload) digest error"}, {0x03, "SNACK reject"}, {0x04, "protocol error"},
	{0x05, "command not supported"}, {0x06, "immediate command reject"}, {0x07, "task in progress"},
	{0x08, "invalid data ack"}, {0x09, "invalid PDU field"}, {0x0a, "long operation reject"},
	{0x0b, "deprecated (negotiation reset)"}, {0x0c, "waiting for logout"},
}

// ReasonText decodes Reason (RFC 7143, Section 11.17.1).
func (m *Reject) ReasonText() string {
	if s, ok := rejectReasons.get(m.Reason); ok {
		return s
	}
	return fmt.Sprintf("reason 0x%02x", m.Reason)
}

// Encode implements Message.
func (m *Reject) Encode() *PDU {
	p := newPDU(OpReject, false, finalBit, m.Data)
	p.BHS[2] = m.Reason
	put32(p.BHS[16:], reservedTag)
	put32(p.BHS[24:], m.StatSN)
	put32(p.BHS[28:], m.ExpCmdSN)
	put32(p.BHS[32:], m.MaxCmdSN)
	put32(p.BHS[36:], m.DataSN)
	return p
}

func (m *Reject) decode(p *PDU) error {
	*m = Reject{Reason: p.BHS[2], StatSN: get32(p.BHS[24:]), ExpCmdSN: get32(p.BHS[28:]),
		MaxCmdSN: get32(p.BHS[32:]), DataSN: get32(p.BHS[36:]), Data: p.Data}
	return nil
}

// MarshalBinary returns the PDU bytes without digests.
func (m *Reject) MarshalBinary() ([]byte, error) { return marshalMessage(m) }

// UnmarshalBinary parses the PDU bytes without digests.
func (m *Reject) UnmarshalBinary(b []byte) error { return unmarshalMessage(m, OpReject, b) }

// AsyncMessage is the Asynchronous Message PDU (RFC 7143, Section 11.9).
type AsyncMessage struct {
	LUN        [8]byte // bytes 8-15
	StatSN     uint32  // bytes 24-27
	ExpCmdSN   uint32  // bytes 28-31
	MaxCmdSN   uint32  // bytes 32-35
	AsyncEvent uint8   // byte 36 (11.9.1)
	AsyncVCode uint8   // byte 37 (11.9.2)
	Parameter1 uint16  // bytes 38-39
	Parameter2 uint16  // bytes 40-41
	Parameter3 uint16  // bytes 42-43
	Data       []byte  // sense data or iSCSI event data (11.9.3)
}

// Encode implements Message.
func (m *AsyncMessage) Encode() *PDU {
	p := newPDU(OpAsyncMessage, false, finalBit, m.Data)
	copy(p.BHS[8:16], m.LUN[:])
	put32(p.BHS[16:], reservedTag)
	put32(p.BHS[24:], m.StatSN)
	put32(p.BHS[28:], m.ExpCmdSN)
	put32(p.BHS[32:], m.MaxCmdSN)
	p.BHS[36], p.BHS[37] = m.AsyncEvent, m.AsyncVCode
	put16(p.BHS[38:], m.Parameter1)
	put16(p.BHS[40:], m.Parameter2)
	put16(p.BHS[42:], m.Parameter3)
	return p
}

func (m *AsyncMessage) decode(p *PDU) error {
	*m = AsyncMessage{StatSN: get32(p.BHS[24:]), ExpCmdSN: get32(p.BHS[28:]), MaxCmdSN: get32(p.BHS[32:]),
		AsyncEvent: p.BHS[36], AsyncVCode: p.BHS[37], Parameter1: get16(p.BHS[38:]),
		Parameter2: get16(p.BHS[40:]), Parameter3: get16(p.BHS[42:]), Data: p.Data}
	copy(m.LUN[:], p.BHS[8:16])
	return nil
}

// MarshalBinary returns the PDU bytes without digests.
func (m *AsyncMessage) MarshalBinary() ([]byte, error) { return marshalMessage(m) }

// UnmarshalBinary parses the PDU bytes without digests.
func (m *AsyncMessage) UnmarshalBinary(b []byte) error {
	return unmarshalMessage(m, OpAsyncMessage, b)
}
