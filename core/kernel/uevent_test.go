package kernel

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// field is one member of struct iscsi_uevent at its byte offset, as read by
// hand from include/iscsi_if.h. A golden uevent is the list of its nonzero
// members: every byte not named stays zero.
type field struct {
	off, size int
	val       uint64
}

// golden lays out fields in host byte order, as the C struct is, in a
// buffer of UeventLen plus the bytes that follow the struct. It writes
// through encoding/binary only, never through the code under test.
func golden(fields []field, extra string) []byte {
	b := make([]byte, UeventLen+len(extra))
	for _, f := range fields {
		switch f.size {
		case 2:
			binary.NativeEndian.PutUint16(b[f.off:], uint16(f.val))
		case 4:
			binary.NativeEndian.PutUint32(b[f.off:], uint32(f.val))
		case 8:
			binary.NativeEndian.PutUint64(b[f.off:], f.val)
		default:
			panic("field size")
		}
	}
	copy(b[UeventLen:], extra)
	return b
}

// struct iscsi_uevent (include/iscsi_if.h), checked by hand:
//
//	off  0  uint32_t type
//	off  4  uint32_t iferror
//	off  8  uint64_t transport_handle
//	off 16  union u, 24 bytes: its largest members, msg_bind_conn and
//	        msg_stop_conn (4+4+8+4 = 20), pad to their uint64_t's 8-byte
//	        alignment; msg_iscsi_ping (5*4 = 20) is no larger
//	off r   union r, 16 bytes: msg_recv_req (4+4+8) and msg_ping_comp (4*4);
//	        r is 40 (abi_test.go), or 36 on i386, where a uint64_t in a
//	        struct is 4-byte aligned and u stays 20 bytes (abi_386_test.go)
//	total 56: aligned(sizeof(uint64_t)) rounds i386's 52 up too.
const (
	hdrType   = 0
	hdrErr    = 4
	hdrHandle = 8
	u         = 16
)

// handle is a transport handle as sysfs shows it: the kernel address of the
// transport, above 2^63, so a truncation to 32 or 63 bits shows.
const handle = 0xffffffffc0a1b000

func TestUeventLen(t *testing.T) {
	if UeventLen != 56 {
		t.Fatalf("UeventLen = %d, want sizeof(struct iscsi_uevent) 56", UeventLen)
	}
}

func TestRequestGolden(t *testing.T) {
	const (
		sid, cid = 5, 0
		fd       = 7
	)
	tests := []struct {
		name   string
		e      *Uevent
		fields []field
		extra  string
	}{{
		name: "CREATE_SESSION",
		e:    CreateSessionRequest(handle, 0x12345678, 128, 32),
		fields: []field{
			{hdrType, 4, 11}, // ISCSI_UEVENT_CREATE_SESSION = UEVENT_BASE(10) + 1
			{hdrHandle, 8, handle},
			{u + 0, 4, 0x12345678}, // c_session.initial_cmdsn
			{u + 4, 2, 128},        // c_session.cmds_max (uint16_t)
			{u + 6, 2, 32},         // c_session.queue_depth (uint16_t)
		},
	}, {
		name: "BIND_CONN leading",
		e:    BindConnRequest(handle, sid, cid, fd, true),
		fields: []field{
			{hdrType, 4, 15}, // ISCSI_UEVENT_BIND_CONN = 10 + 5
			{hdrHandle, 8, handle},
			{u + 0, 4, sid},
			{u + 4, 4, cid},
			{u + 8, 8, fd}, // b_conn.transport_eph, uint64_t, 8-aligned right after sid and cid
			{u + 16, 4, 1}, // b_conn.is_leading
		},
	}, {
		name: "BIND_CONN not leading, fd above 32 bits",
		e:    BindConnRequest(handle, 9, 1, 1<<40|3, false),
		fields: []field{
			{hdrType, 4, 15},
			{hdrHandle, 8, handle},
			{u + 0, 4, 9},
			{u + 4, 4, 1},
			{u + 8, 8, 1<<40 | 3},
		},
	}, {
		name: "SET_PARAM",
		e:    SetParamRequest(handle, sid, cid, ParamTargetName, "iqn.2003-01.org.example:disk"),
		fields: []field{
			{hdrType, 4, 16}, // ISCSI_UEVENT_SET_PARAM = 10 + 6
			{hdrHandle, 8, handle},
			{u + 0, 4, sid},     // set_param.sid
			{u + 4, 4, cid},     // set_param.cid
			{u + 8, 4, 15},      // set_param.param = ISCSI_PARAM_TARGET_NAME, the 16th of enum iscsi_param
			{u + 12, 4, 28 + 1}, // set_param.len: the value and its NUL
		},
		extra: "iqn.2003-01.org.example:disk\x00",
	}, {
		name: "SET_PARAM empty value",
		e:    SetParamRequest(handle, sid, cid, ParamUsername, ""),
		fields: []field{
			{hdrType, 4, 16},
			{hdrHandle, 8, handle},
			{u + 0, 4, sid},
			{u + 4, 4, cid},
			{u + 8, 4, 22}, // ISCSI_PARAM_USERNAME
			{u + 12, 4, 1}, // the NUL alone
		},
		extra: "\x00",
	}, {
		name: "SET_HOST_PARAM",
		e:    SetHostParamRequest(handle, 3, HostParamNetdevName, "eth0"),
		fields: []field{
			{hdrType, 4, 26}, // ISCSI_UEVENT_SET_HOST_PARAM = 10 + 16
			{hdrHandle, 8, handle},
			{u + 0, 4, 3}, // set_host_param.host_no
			{u + 4, 4, 2}, // set_host_param.param = ISCSI_HOST_PARAM_NETDEV_NAME
			{u + 8, 4, 5}, // set_host_param.len, NUL included
		},
		extra: "eth0\x00",
	}, {
		name: "STOP_CONN",
		e:    StopConnRequest(handle, sid, cid, StopTerm),
		fields: []field{
			{hdrType, 4, 18}, // ISCSI_UEVENT_STOP_CONN = 10 + 8
			{hdrHandle, 8, handle},
			{u + 0, 4, sid},
			{u + 4, 4, cid},
			// u+8: stop_conn.conn_handle, uint64_t, left 0
			{u + 16, 4, 1}, // stop_conn.flag = STOP_CONN_TERM
		},
	}, {
		name: "STOP_CONN recover",
		e:    StopConnRequest(handle, sid, 2, StopRecover),
		fields: []field{
			{hdrType, 4, 18},
			{hdrHandle, 8, handle},
			{u + 0, 4, sid},
			{u + 4, 4, 2},
			{u + 16, 4, 3}, // STOP_CONN_RECOVER
		},
	}, {
		name: "SEND_PDU",
		e:    SendPDURequest(handle, sid, cid, bytes.Repeat([]byte{0x43}, 48), []byte("InitiatorName=iqn.x\x00")),
		fields: []field{
			{hdrType, 4, 19}, // ISCSI_UEVENT_SEND_PDU = 10 + 9
			{hdrHandle, 8, handle},
			{u + 0, 4, sid},
			{u + 4, 4, cid},
			{u + 8, 4, 48},  // send_pdu.hdr_size
			{u + 12, 4, 20}, // send_pdu.data_size
		},
		extra: string(bytes.Repeat([]byte{0x43}, 48)) + "InitiatorName=iqn.x\x00",
	}, {
		name: "SEND_PDU without data",
		e:    SendPDURequest(handle, sid, cid, bytes.Repeat([]byte{0x46}, 48), nil),
		fields: []field{
			{hdrType, 4, 19},
			{hdrHandle, 8, handle},
			{u + 0, 4, sid},
			{u + 4, 4, cid},
			{u + 8, 4, 48},
		},
		extra: string(bytes.Repeat([]byte{0x46}, 48)),
	}, {
		name: "DESTROY_SESSION",
		e:    newRequest(UeventDestroySession, handle, sid),
		fields: []field{
			{hdrType, 4, 12}, // ISCSI_UEVENT_DESTROY_SESSION = 10 + 2
			{hdrHandle, 8, handle},
			{u + 0, 4, sid}, // d_session.sid
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.e.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			want := golden(tt.fields, tt.extra)
			if !bytes.Equal(got, want) {
				t.Fatalf("wire bytes\ngot:\n%swant:\n%s", hex.Dump(got), hex.Dump(want))
			}

			var back Uevent
			if err := back.UnmarshalBinary(got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.e, &back); diff != "" {
				t.Errorf("round trip (-marshaled +unmarshaled):\n%s", diff)
			}
		})
	}
}

// The value bytes are the caller's: a request keeps its own copy.
func TestRequestCopiesItsBytes(t *testing.T) {
	hdr, data := bytes.Repeat([]byte{1}, 48), []byte("a=b\x00")
	e := SendPDURequest(handle, 1, 0, hdr, data)
	hdr[0], data[0] = 9, 9
	if e.Extra[0] != 1 || e.Extra[48] != 'a' {
		t.Errorf("SendPDURequest aliases its arguments: Extra now\n%s", hex.Dump(e.Extra))
	}
}

func TestUnmarshalShort(t *testing.T) {
	for _, n := range []int{0, 16, UeventLen - 1} {
		var e Uevent
		err := e.UnmarshalBinary(make([]byte, n))
		if !errors.Is(err, errShortUevent) {
			t.Errorf("UnmarshalBinary(%d bytes) = %v, want %v", n, err, errShortUevent)
		}
	}
}

// Replies and events are what the kernel writes; the layouts of union r
// come from include/iscsi_if.h, checked by hand in the comments.
func TestDecodeReplies(t *testing.T) {
	type decoded struct {
		Type        EventType
		IfError     int32
		Retcode     int32
		SessionRet  [2]uint32
		ConnRet     [2]uint32
		ConnEvent   [2]uint32
		ErrCode     ErrCode
		LoginState  ConnState
		Extra       []byte
		IsEvent     bool
		TypeString  string
		ErrorString string
	}
	tests := []struct {
		name   string
		fields []field
		extra  string
		want   decoded
	}{{
		name: "CREATE_SESSION reply",
		fields: []field{
			{hdrType, 4, 11}, {hdrHandle, 8, handle},
			{u, 4, 1}, {u + 4, 2, 128}, {u + 6, 2, 32}, // the request's c_session, echoed
			{r + 0, 4, 5}, // c_session_ret.sid
			{r + 4, 4, 3}, // c_session_ret.host_no
		},
		want: decoded{Type: UeventCreateSession, Retcode: 5, SessionRet: [2]uint32{5, 3}, ConnRet: [2]uint32{5, 3},
			ConnEvent: [2]uint32{5, 3}, TypeString: "CREATE_SESSION", ErrorString: "ISCSI_OK"},
	}, {
		name: "CREATE_CONN reply",
		fields: []field{
			{hdrType, 4, 13}, {hdrHandle, 8, handle},
			{u, 4, 5},
			{r + 0, 4, 5}, // c_conn_ret.sid
			{r + 4, 4, 0}, // c_conn_ret.cid
		},
		want: decoded{Type: UeventCreateConn, Retcode: 5, SessionRet: [2]uint32{5, 0}, ConnRet: [2]uint32{5, 0},
			ConnEvent: [2]uint32{5, 0}, TypeString: "CREATE_CONN", ErrorString: "ISCSI_OK"},
	}, {
		name: "IF_ERROR: iferror -ENOMEM",
		fields: []field{
			{hdrType, 4, 103},                       // ISCSI_KEVENT_IF_ERROR = KEVENT_BASE(100) + 3
			{hdrErr, 4, uint64(uint32(0xfffffff4))}, // -12
			{hdrHandle, 8, handle},
			{u, 4, 5},
		},
		want: decoded{Type: KeventIfError, IfError: -12, IsEvent: true, TypeString: "IF_ERROR", ErrorString: "ISCSI_OK"},
	}, {
		name: "SET_PARAM reply: r.retcode -EINVAL",
		fields: []field{
			{hdrType, 4, 16}, {hdrHandle, 8, handle},
			{r + 0, 4, uint64(uint32(0xffffffea))}, // retcode, int: -22
		},
		want: decoded{Type: UeventSetParam, Retcode: -22, SessionRet: [2]uint32{0xffffffea, 0}, ConnRet: [2]uint32{0xffffffea, 0},
			ConnEvent: [2]uint32{0xffffffea, 0}, TypeString: "SET_PARAM", ErrorString: "ISCSI_OK"},
	}, {
		name: "RECV_PDU event",
		fields: []field{
			{hdrType, 4, 101}, // ISCSI_KEVENT_RECV_PDU = 100 + 1
			{hdrHandle, 8, handle},
			{r + 0, 4, 5},  // recv_req.sid
			{r + 4, 4, 1},  // recv_req.cid
			{r + 8, 8, 77}, // recv_req.recv_handle, uint64_t, unused by iscsi_tcp
		},
		extra: "BHS and data",
		want: decoded{Type: KeventRecvPDU, Retcode: 5, SessionRet: [2]uint32{5, 1}, ConnRet: [2]uint32{5, 1},
			ConnEvent: [2]uint32{5, 1}, ErrCode: 77, LoginState: 77, Extra: []byte("BHS and data"), IsEvent: true,
			TypeString: "RECV_PDU", ErrorString: "ISCSI_ERR_77"},
	}, {
		name: "CONN_ERROR event",
		fields: []field{
			{hdrType, 4, 102}, // ISCSI_KEVENT_CONN_ERROR = 100 + 2
			{hdrHandle, 8, handle},
			{r + 0, 4, 5},    // connerror.sid
			{r + 4, 4, 0},    // connerror.cid
			{r + 8, 4, 1020}, // connerror.error = ISCSI_ERR_TCP_CONN_CLOSE = ISCSI_ERR_BASE(1000) + 20
		},
		want: decoded{Type: KeventConnError, Retcode: 5, SessionRet: [2]uint32{5, 0}, ConnRet: [2]uint32{5, 0},
			ConnEvent: [2]uint32{5, 0}, ErrCode: ErrTCPConnClose, LoginState: 1020, IsEvent: true,
			TypeString: "CONN_ERROR", ErrorString: "ISCSI_ERR_TCP_CONN_CLOSE"},
	}, {
		name: "CONN_LOGIN_STATE event",
		fields: []field{
			{hdrType, 4, 109}, // ISCSI_KEVENT_CONN_LOGIN_STATE = 100 + 9
			{hdrHandle, 8, handle},
			{r + 0, 4, 6}, // conn_login.sid
			{r + 4, 4, 2}, // conn_login.cid
			{r + 8, 4, 3}, // conn_login.state = ISCSI_CONN_STATE_LOGGED_IN, the 4th of enum iscsi_conn_state
		},
		want: decoded{Type: KeventConnLoginState, Retcode: 6, SessionRet: [2]uint32{6, 2}, ConnRet: [2]uint32{6, 2},
			ConnEvent: [2]uint32{6, 2}, ErrCode: 3, LoginState: ConnStateLoggedIn, IsEvent: true,
			TypeString: "CONN_LOGIN_STATE", ErrorString: "ISCSI_ERR_3"},
	}, {
		name:   "unknown type",
		fields: []field{{hdrType, 4, 99}},
		want:   decoded{Type: 99, TypeString: "uevent 99", ErrorString: "ISCSI_OK"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := golden(tt.fields, tt.extra)
			var e Uevent
			if err := e.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			got := decoded{Type: e.Type, IfError: e.IfError, Retcode: e.Retcode(), ErrCode: e.ConnErrorCode(),
				LoginState: e.ConnLoginState(), Extra: e.Extra, IsEvent: e.Type.IsEvent(),
				TypeString: e.Type.String(), ErrorString: e.ConnErrorCode().String()}
			got.SessionRet[0], got.SessionRet[1] = e.SessionRet()
			got.ConnRet[0], got.ConnRet[1] = e.ConnRet()
			got.ConnEvent[0], got.ConnEvent[1] = e.ConnEvent()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decoded (-want +got):\n%s\nfrom:\n%s", diff, hex.Dump(b))
			}
			if e.TransportHandle != binary.NativeEndian.Uint64(b[hdrHandle:]) {
				t.Errorf("TransportHandle = %#x, want %#x", e.TransportHandle, binary.NativeEndian.Uint64(b[hdrHandle:]))
			}
			back, _ := e.MarshalBinary()
			if !bytes.Equal(back, b) {
				t.Errorf("re-marshaled\n%swant\n%s", hex.Dump(back), hex.Dump(b))
			}
		})
	}
}

// The numbers of enum iscsi_uevent_e (include/iscsi_if.h: UEVENT_BASE 10,
// KEVENT_BASE 100) are ABI.
func TestEventTypeNumbers(t *testing.T) {
	got := []EventType{UeventCreateSession, UeventDestroySession, UeventCreateConn, UeventDestroyConn,
		UeventBindConn, UeventSetParam, UeventStartConn, UeventStopConn, UeventSendPDU, UeventEPConnect,
		UeventEPPoll, UeventEPDisconnect, UeventSetHostParam, UeventUnbindSession, UeventCreateBoundSession,
		KeventRecvPDU, KeventConnError, KeventIfError, KeventDestroySession, KeventUnbindSession,
		KeventCreateSession, KeventConnLoginState}
	want := []EventType{11, 12, 13, 14, 15, 16, 17, 18, 19, 22, 23, 24, 26, 27, 28, 101, 102, 103, 104, 105, 106, 109}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event numbers (-want +got):\n%s", diff)
	}
	for i, e := range got {
		if want := i >= 15; e.IsEvent() != want { // the first 15 go to the kernel, the rest come from it
			t.Errorf("%s.IsEvent() = %v, want %v", e, e.IsEvent(), want)
		}
	}
}
