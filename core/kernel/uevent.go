package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// EventType is a struct iscsi_uevent type: a request to the kernel
// (ISCSI_UEVENT_*) or an event from it (ISCSI_KEVENT_*).
type EventType uint32

// Requests and events (include/scsi/iscsi_if.h, enum iscsi_uevent_e).
const (
	UeventCreateSession      EventType = 11
	UeventDestroySession     EventType = 12
	UeventCreateConn         EventType = 13
	UeventDestroyConn        EventType = 14
	UeventBindConn           EventType = 15
	UeventSetParam           EventType = 16
	UeventStartConn          EventType = 17
	UeventStopConn           EventType = 18
	UeventSendPDU            EventType = 19
	UeventEPConnect          EventType = 22
	UeventEPPoll             EventType = 23
	UeventEPDisconnect       EventType = 24
	UeventSetHostParam       EventType = 26
	UeventUnbindSession      EventType = 27
	UeventCreateBoundSession EventType = 28

	KeventRecvPDU        EventType = 101
	KeventConnError      EventType = 102
	KeventIfError        EventType = 103
	KeventDestroySession EventType = 104
	KeventUnbindSession  EventType = 105
	KeventCreateSession  EventType = 106
	KeventConnLoginState EventType = 109
)

// eventNames is an array, not a map: the linker lays it out, where a map
// literal is built by the package's init at every start (issue 16).
var eventNames = [...]struct {
	t    EventType
	name string
}{
	{UeventCreateSession, "CREATE_SESSION"},
	{UeventDestroySession, "DESTROY_SESSION"},
	{UeventCreateConn, "CREATE_CONN"},
	{UeventDestroyConn, "DESTROY_CONN"},
	{UeventBindConn, "BIND_CONN"},
	{UeventSetParam, "SET_PARAM"},
	{UeventStartConn, "START_CONN"},
	{UeventStopConn, "STOP_CONN"},
	{UeventSendPDU, "SEND_PDU"},
	{UeventEPConnect, "TRANSPORT_EP_CONNECT"},
	{UeventEPPoll, "TRANSPORT_EP_POLL"},
	{UeventEPDisconnect, "TRANSPORT_EP_DISCONNECT"},
	{UeventSetHostParam, "SET_HOST_PARAM"},
	{UeventUnbindSession, "UNBIND_SESSION"},
	{UeventCreateBoundSession, "CREATE_BOUND_SESSION"},
	{KeventRecvPDU, "RECV_PDU"},
	{KeventConnError, "CONN_ERROR"},
	{KeventIfError, "IF_ERROR"},
	{KeventDestroySession, "KEVENT_DESTROY_SESSION"},
	{KeventUnbindSession, "KEVENT_UNBIND_SESSION"},
	{KeventCreateSession, "KEVENT_CREATE_SESSION"},
	{KeventConnLoginState, "CONN_LOGIN_STATE"},
	{UeventEPConnectThroughHost, "TRANSPORT_EP_CONNECT_THROUGH_HOST"},
	{UeventPathUpdate, "PATH_UPDATE"},
	{UeventSetIfaceParams, "SET_IFACE_PARAMS"},
	{KeventPathReq, "PATH_REQ"},
	{KeventIfDown, "IF_DOWN"},
}

func (t EventType) String() string {
	for _, e := range eventNames {
		if e.t == t {
			return e.name
		}
	}
	return fmt.Sprintf("uevent %d", uint32(t))
}

// IsEvent reports whether t travels from the kernel unasked.
func (t EventType) IsEvent() bool { return t > 100 }

// UeventLen is sizeof(struct iscsi_uevent) on Linux: a 16-byte head, the
// 24-byte request union u and the 16-byte reply union r, 8-byte aligned.
const UeventLen = 56

// offU is where the request union u starts, after the u64
// transport_handle. Where the reply union r starts depends on the ABI
// (offR, uevent_abi*.go).
const offU = 16

// Uevent is struct iscsi_uevent with the bytes that follow it (a PDU, a
// parameter value). Its unions are kept raw; the typed accessors below
// read and write the member each request or event uses. The struct is a
// raw C struct in host byte order, not netlink attributes.
type Uevent struct {
	Type            EventType
	IfError         int32 // negative errno from the transport class
	TransportHandle uint64
	U               [24]byte // request union u
	R               [16]byte // reply and event union r
	Extra           []byte   // what follows the struct
}

var ne = binary.NativeEndian

// MarshalBinary encodes the uevent and its trailing bytes.
func (e *Uevent) MarshalBinary() ([]byte, error) {
	b := make([]byte, UeventLen+len(e.Extra))
	ne.PutUint32(b[0:], uint32(e.Type))
	ne.PutUint32(b[4:], uint32(e.IfError))
	ne.PutUint64(b[8:], e.TransportHandle)
	copy(b[offU:], e.U[:])
	copy(b[offR:], e.R[:])
	copy(b[UeventLen:], e.Extra)
	return b, nil
}

var errShortUevent = errors.New("shorter than struct iscsi_uevent")

// UnmarshalBinary decodes a uevent and keeps what follows in Extra.
func (e *Uevent) UnmarshalBinary(b []byte) error {
	if len(b) < UeventLen {
		return fmt.Errorf("uevent: %d bytes: %w", len(b), errShortUevent)
	}
	e.Type = EventType(ne.Uint32(b[0:]))
	e.IfError = int32(ne.Uint32(b[4:]))
	e.TransportHandle = ne.Uint64(b[8:])
	copy(e.U[:], b[offU:offR])
	copy(e.R[:], b[offR:UeventLen])
	e.Extra = append([]byte(nil), b[UeventLen:]...)
	return nil
}

// u32 reads the i-th 32-bit word of a union; put32 writes it.
func u32(b []byte, i int) uint32      { return ne.Uint32(b[4*i:]) }
func put32(b []byte, i int, v uint32) { ne.PutUint32(b[4*i:], v) }

// Retcode is r.retcode, the transport's int result (negative errno).
func (e *Uevent) Retcode() int32 { return int32(u32(e.R[:], 0)) }

// SessionRet is r.c_session_ret: the new session id and its SCSI host.
func (e *Uevent) SessionRet() (sid, hostNo uint32) { return u32(e.R[:], 0), u32(e.R[:], 1) }

// ConnRet is r.c_conn_ret: session and connection id.
func (e *Uevent) ConnRet() (sid, cid uint32) { return u32(e.R[:], 0), u32(e.R[:], 1) }

// ConnEvent is the sid and cid of r.recv_req, r.connerror and
// r.conn_login, which all start with them.
func (e *Uevent) ConnEvent() (sid, cid uint32) { return u32(e.R[:], 0), u32(e.R[:], 1) }

// ConnErrorCode is r.connerror.error.
func (e *Uevent) ConnErrorCode() ErrCode { return ErrCode(u32(e.R[:], 2)) }

// ConnLoginState is r.conn_login.state.
func (e *Uevent) ConnLoginState() ConnState { return ConnState(u32(e.R[:], 2)) }

// newRequest returns a request with the union words given, in order.
func newRequest(t EventType, handle uint64, words ...uint32) *Uevent {
	e := &Uevent{Type: t, TransportHandle: handle}
	for i, w := range words {
		put32(e.U[:], i, w)
	}
	return e
}

// CreateSessionRequest is u.c_session: initial CmdSN, cmds_max,
// queue_depth (two 16-bit fields in the second word).
func CreateSessionRequest(handle uint64, initialCmdSN uint32, cmdsMax, queueDepth uint16) *Uevent {
	e := newRequest(UeventCreateSession, handle, initialCmdSN)
	ne.PutUint16(e.U[4:], cmdsMax)
	ne.PutUint16(e.U[6:], queueDepth)
	return e
}

// BindConnRequest is u.b_conn: sid, cid, the transport endpoint (for
// iscsi_tcp, the socket's file descriptor) at offset 8, and is_leading.
func BindConnRequest(handle uint64, sid, cid uint32, fd uint64, leading bool) *Uevent {
	e := newRequest(UeventBindConn, handle, sid, cid)
	ne.PutUint64(e.U[8:], fd)
	if leading {
		put32(e.U[:], 4, 1)
	}
	return e
}

// SetParamRequest is u.set_param with the NUL-terminated value after the
// struct, as the kernel's iscsi_set_param reads it.
func SetParamRequest(handle uint64, sid, cid uint32, p Param, value string) *Uevent {
	v := append([]byte(value), 0)
	e := newRequest(UeventSetParam, handle, sid, cid, uint32(p), uint32(len(v)))
	e.Extra = v
	return e
}

// SetHostParamRequest is u.set_host_param.
func SetHostParamRequest(handle uint64, hostNo uint32, p HostParam, value string) *Uevent {
	v := append([]byte(value), 0)
	e := newRequest(UeventSetHostParam, handle, hostNo, uint32(p), uint32(len(v)))
	e.Extra = v
	return e
}

// StopConnRequest is u.stop_conn: sid, cid, conn_handle (unused, 0) at
// offset 8 and the flag at offset 16.
func StopConnRequest(handle uint64, sid, cid uint32, flag StopFlag) *Uevent {
	e := newRequest(UeventStopConn, handle, sid, cid)
	put32(e.U[:], 4, uint32(flag))
	return e
}

// SendPDURequest is u.send_pdu with the header and data after the struct.
func SendPDURequest(handle uint64, sid, cid uint32, hdr, data []byte) *Uevent {
	e := newRequest(UeventSendPDU, handle, sid, cid, uint32(len(hdr)), uint32(len(data)))
	e.Extra = append(append([]byte(nil), hdr...), data...)
	return e
}
