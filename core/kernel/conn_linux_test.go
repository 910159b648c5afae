package kernel

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/netlink"
)

// fakeKernel is scsi_transport_iscsi at the far end of a NETLINK_ISCSI
// socket (drivers/scsi/scsi_transport_iscsi.c), as a netlink.Socket for
// netlink.NewConn:
//
//   - iscsi_if_rx dispatches on the netlink header type, answers each
//     request with exactly one message: the request's own struct
//     iscsi_uevent (without what followed it), header type = request type;
//     on failure the uevent's type becomes ISCSI_KEVENT_IF_ERROR and
//     iferror the negative errno.
//   - iscsi_recv_pdu and iscsi_conn_error_event multicast events to
//     ISCSI_NL_GRP_ISCSID with header type 0, at any time, also before the
//     reply of the request that caused them.
//   - Close wakes a blocked Receive, as closing a real socket does.
//
// It is not nltest.Dial: nltest's socket keeps the messages a Send produced
// in unguarded fields that the next Receive reads, which races with Conn's
// reader goroutine (go test -race reports it), and its Close does not wake
// a Receive, so Conn.Close would wait forever.
type fakeKernel struct {
	t *testing.T
	// answer returns what the kernel sends for one request: events and
	// the reply, in the order given.
	answer func(req *Uevent) []netlink.Message

	out    chan []netlink.Message
	closed chan struct{}
	once   sync.Once

	mu   sync.Mutex
	reqs [][]byte // the payload of each request received
}

func newFakeKernel(t *testing.T, answer func(req *Uevent) []netlink.Message) (*Conn, *fakeKernel) {
	k := &fakeKernel{t: t, answer: answer, out: make(chan []netlink.Message, 64), closed: make(chan struct{})}
	c := NewConn(netlink.NewConn(k, 1))
	t.Cleanup(func() { c.Close() })
	return c, k
}

func (k *fakeKernel) Send(m netlink.Message) error {
	select {
	case <-k.closed:
		return net.ErrClosed
	default:
	}
	var req Uevent
	if err := req.UnmarshalBinary(m.Data); err != nil {
		k.t.Errorf("kernel got a request of %d bytes: %v", len(m.Data), err)
		return nil // iscsi_if_rx drops it without a reply
	}
	if EventType(m.Header.Type) != req.Type {
		k.t.Errorf("netlink header type %d, uevent type %s: the kernel dispatches on the header", m.Header.Type, req.Type)
	}
	k.mu.Lock()
	k.reqs = append(k.reqs, append([]byte(nil), m.Data...))
	k.mu.Unlock()
	if msgs := k.answer(&req); len(msgs) > 0 {
		k.emit(msgs...)
	}
	return nil
}

func (k *fakeKernel) SendMessages(ms []netlink.Message) error {
	for _, m := range ms {
		if err := k.Send(m); err != nil {
			return err
		}
	}
	return nil
}

func (k *fakeKernel) Receive() ([]netlink.Message, error) {
	select {
	case msgs := <-k.out:
		return msgs, nil
	case <-k.closed:
		return nil, net.ErrClosed
	}
}

func (k *fakeKernel) ReceiveIter() iter.Seq2[netlink.Message, error] {
	return func(yield func(netlink.Message, error) bool) {
		msgs, err := k.Receive()
		if err != nil {
			yield(netlink.Message{}, err)
			return
		}
		for _, m := range msgs {
			if !yield(m, nil) {
				return
			}
		}
	}
}

func (k *fakeKernel) Close() error {
	k.once.Do(func() { close(k.closed) })
	return nil
}

// emit delivers messages in one datagram batch, as the kernel queues them
// on the socket.
func (k *fakeKernel) emit(msgs ...netlink.Message) {
	select {
	case k.out <- msgs:
	case <-k.closed:
	}
}

func (k *fakeKernel) requests() [][]byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([][]byte(nil), k.reqs...)
}

// message wraps a uevent as the kernel's __nlmsg_put does: nlmsg_len is
// the header plus the payload padded to 4 bytes (nlmsg_total_size).
func message(typ netlink.HeaderType, e *Uevent) netlink.Message {
	b, _ := e.MarshalBinary()
	if pad := len(b) % 4; pad != 0 {
		b = append(b, make([]byte, 4-pad)...)
	}
	return netlink.Message{Header: netlink.Header{Type: typ, Length: uint32(16 + len(b))}, Data: b}
}

// replyTo is iscsi_if_send_reply for req after set filled in union r: the
// request's struct alone, header type = request type, sequence 0.
func replyTo(req *Uevent, set func(r []byte)) netlink.Message {
	e := *req
	e.Extra = nil
	if set != nil {
		set(e.R[:])
	}
	return message(netlink.HeaderType(req.Type), &e)
}

// ifError is iscsi_if_rx's answer to a request iscsi_if_recv_msg failed.
func ifError(req *Uevent, errno syscall.Errno) netlink.Message {
	e := *req
	e.Extra = nil
	e.Type = KeventIfError
	e.IfError = -int32(errno)
	return message(netlink.HeaderType(req.Type), &e)
}

// retcode fills r.retcode, the int at the start of union r.
func retcode(rc int32) func(r []byte) {
	return func(r []byte) { ne.PutUint32(r, uint32(rc)) }
}

// recvPDUEvent is iscsi_recv_pdu: RECV_PDU, r.recv_req.sid and cid, then
// the 48-byte BHS and the data segment.
func recvPDUEvent(sid, cid uint32, hdr, data []byte) netlink.Message {
	e := &Uevent{Type: KeventRecvPDU, TransportHandle: handle, Extra: append(append([]byte(nil), hdr...), data...)}
	ne.PutUint32(e.R[0:], sid)
	ne.PutUint32(e.R[4:], cid)
	return message(0, e)
}

// connErrorEvent is iscsi_conn_error_event: CONN_ERROR with r.connerror.
func connErrorEvent(sid, cid uint32, code ErrCode) netlink.Message {
	e := &Uevent{Type: KeventConnError, TransportHandle: handle}
	ne.PutUint32(e.R[0:], sid)
	ne.PutUint32(e.R[4:], cid)
	ne.PutUint32(e.R[8:], uint32(code))
	return message(0, e)
}

// createSessionEvent is iscsi_session_event(ISCSI_KEVENT_CREATE_SESSION),
// which the kernel multicasts while still handling CREATE_SESSION.
func createSessionEvent(sid, hostNo uint32) netlink.Message {
	e := &Uevent{Type: KeventCreateSession, TransportHandle: handle}
	ne.PutUint32(e.R[0:], hostNo) // d_session: host_no first
	ne.PutUint32(e.R[4:], sid)
	return message(0, e)
}

// loginRsp is a Login Response BHS (RFC 7143, Section 11.13) numbered n in
// its ITT, with DataSegmentLength dl.
func loginRsp(n byte, dl int) []byte {
	b := bhs(0x23, 0, dl)
	b[16], b[17], b[18], b[19] = 0, 0, 0, n
	return b
}

// bounded is the context of a call the fake kernel answers at once, so a
// hang fails the test rather than stalling it.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestConnCreateSession(t *testing.T) {
	c, k := newFakeKernel(t, func(req *Uevent) []netlink.Message {
		return []netlink.Message{
			createSessionEvent(5, 3),
			replyTo(req, func(r []byte) { ne.PutUint32(r[0:], 5); ne.PutUint32(r[4:], 3) }),
		}
	})
	sid, host, err := c.CreateSession(bounded(t), handle, 1, 128, 32)
	if err != nil {
		t.Fatal(err)
	}
	if sid != 5 || host != 3 {
		t.Errorf("CreateSession = sid %d, host %d; want 5, 3", sid, host)
	}
	want, _ := CreateSessionRequest(handle, 1, 128, 32).MarshalBinary()
	if got := k.requests(); len(got) != 1 || !bytes.Equal(got[0], want) {
		t.Errorf("kernel got %d requests, want one:\n%s", len(got), hex.Dump(want))
	}
}

// Every call sends one request of its own type, with the union words the
// kernel reads, and takes the kernel's reply as success.
func TestConnRequests(t *testing.T) {
	ctx := bounded(t)
	tests := []struct {
		name string
		call func(c *Conn) error
		want *Uevent
	}{
		{"DestroySession", func(c *Conn) error { return c.DestroySession(ctx, handle, 5) },
			newRequest(UeventDestroySession, handle, 5)},
		{"CreateConn", func(c *Conn) error {
			cid, err := c.CreateConn(ctx, handle, 5, 1)
			if err == nil && cid != 1 {
				err = fmt.Errorf("CreateConn = cid %d, want the kernel's 1", cid)
			}
			return err
		}, newRequest(UeventCreateConn, handle, 5, 1)},
		{"DestroyConn", func(c *Conn) error { return c.DestroyConn(ctx, handle, 5, 0) },
			newRequest(UeventDestroyConn, handle, 5, 0)},
		{"BindConn", func(c *Conn) error { return c.BindConn(ctx, handle, 5, 0, 7, true) },
			BindConnRequest(handle, 5, 0, 7, true)},
		{"SetParam", func(c *Conn) error { return c.SetParam(ctx, handle, 5, 0, ParamMaxRecvDLength, "262144") },
			SetParamRequest(handle, 5, 0, ParamMaxRecvDLength, "262144")},
		{"SetHostParam", func(c *Conn) error { return c.SetHostParam(ctx, handle, 3, HostParamNetdevName, "eth0") },
			SetHostParamRequest(handle, 3, HostParamNetdevName, "eth0")},
		{"StartConn", func(c *Conn) error { return c.StartConn(ctx, handle, 5, 0) },
			newRequest(UeventStartConn, handle, 5, 0)},
		{"StopConn", func(c *Conn) error { return c.StopConn(ctx, handle, 5, 0, StopTerm) },
			StopConnRequest(handle, 5, 0, StopTerm)},
		{"SendPDU", func(c *Conn) error { return c.SendPDU(ctx, handle, 5, 0, loginRsp(1, 4), []byte("a=b\x00")) },
			SendPDURequest(handle, 5, 0, loginRsp(1, 4), []byte("a=b\x00"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, k := newFakeKernel(t, func(req *Uevent) []netlink.Message {
				if req.Type == UeventCreateConn {
					// c_conn_ret: sid, cid.
					return []netlink.Message{replyTo(req, func(r []byte) { ne.PutUint32(r[0:], 5); ne.PutUint32(r[4:], 1) })}
				}
				return []netlink.Message{replyTo(req, nil)} // r.retcode 0
			})
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			want, _ := tt.want.MarshalBinary()
			got := k.requests()
			if len(got) != 1 || !bytes.Equal(got[0], want) {
				t.Errorf("kernel got %d requests\n%s\nwant one:\n%s", len(got), dumpAll(got), hex.Dump(want))
			}
		})
	}
}

func dumpAll(bs [][]byte) string {
	var s strings.Builder
	for _, b := range bs {
		s.WriteString(hex.Dump(b))
	}
	return s.String()
}

func TestConnRequestErrors(t *testing.T) {
	const secret = "s3cr3t-chap-pw"
	ctx := bounded(t)
	tests := []struct {
		name   string
		answer func(req *Uevent) []netlink.Message
		call   func(c *Conn) error
		want   *OpError
		msg    string
	}{{
		// iscsi_tcp's create_conn fails without crc32c; iscsi_if_create_conn
		// returns -ENOMEM.
		name:   "CREATE_CONN IF_ERROR ENOMEM",
		answer: func(req *Uevent) []netlink.Message { return []netlink.Message{ifError(req, syscall.ENOMEM)} },
		call: func(c *Conn) error {
			_, err := c.CreateConn(ctx, handle, 5, 0)
			return err
		},
		want: &OpError{Op: UeventCreateConn, SID: 5, CID: 0, Errno: syscall.ENOMEM},
		msg:  "kernel iSCSI CREATE_CONN for connection 5:0: cannot allocate memory (load crc32c (crc32c_generic) before the first connection: iscsi_tcp needs it)",
	}, {
		name:   "CREATE_SESSION IF_ERROR EINVAL",
		answer: func(req *Uevent) []netlink.Message { return []netlink.Message{ifError(req, syscall.EINVAL)} },
		call: func(c *Conn) error {
			_, _, err := c.CreateSession(ctx, handle, 1, 128, 32)
			return err
		},
		want: &OpError{Op: UeventCreateSession, SID: -1, CID: -1, Errno: syscall.EINVAL},
		msg:  "kernel iSCSI CREATE_SESSION: invalid argument (is the transport's module (iscsi_tcp) loaded?)",
	}, {
		// A transport's result in r.retcode (as BIND_CONN, START_CONN and
		// SEND_PDU carry theirs) is a failure too; the value never shows.
		name: "SET_PARAM r.retcode -EINVAL",
		answer: func(req *Uevent) []netlink.Message {
			return []netlink.Message{replyTo(req, retcode(-int32(syscall.EINVAL)))}
		},
		call: func(c *Conn) error { return c.SetParam(ctx, handle, 5, 0, ParamPassword, secret) },
		want: &OpError{Op: UeventSetParam, SID: 5, CID: 0, Errno: syscall.EINVAL},
		msg:  "set ISCSI_PARAM_PASSWORD: kernel iSCSI SET_PARAM for connection 5:0: invalid argument",
	}, {
		// Newer kernels' iscsi_set_param refuses a connection not bound
		// yet with -ENOTCONN, through iferror.
		name:   "SET_PARAM IF_ERROR ENOTCONN",
		answer: func(req *Uevent) []netlink.Message { return []netlink.Message{ifError(req, syscall.ENOTCONN)} },
		call:   func(c *Conn) error { return c.SetParam(ctx, handle, 5, 0, ParamPasswordIn, secret) },
		want:   &OpError{Op: UeventSetParam, SID: 5, CID: 0, Errno: syscall.ENOTCONN},
		msg:    "set ISCSI_PARAM_PASSWORD_IN: kernel iSCSI SET_PARAM for connection 5:0: transport endpoint is not connected",
	}, {
		name: "SET_HOST_PARAM r.retcode -ENOSYS",
		answer: func(req *Uevent) []netlink.Message {
			return []netlink.Message{replyTo(req, retcode(-int32(syscall.ENOSYS)))}
		},
		call: func(c *Conn) error { return c.SetHostParam(ctx, handle, 3, HostParamIPAddress, "192.0.2.1") },
		want: &OpError{Op: UeventSetHostParam, SID: -1, CID: -1, Errno: syscall.ENOSYS},
		msg:  "set host3 ISCSI_HOST_PARAM_IPADDRESS: kernel iSCSI SET_HOST_PARAM: function not implemented",
	}, {
		name: "START_CONN r.retcode -EIO",
		answer: func(req *Uevent) []netlink.Message {
			return []netlink.Message{replyTo(req, retcode(-int32(syscall.EIO)))}
		},
		call: func(c *Conn) error { return c.StartConn(ctx, handle, 5, 0) },
		want: &OpError{Op: UeventStartConn, SID: 5, CID: 0, Errno: syscall.EIO},
		msg:  "kernel iSCSI START_CONN for connection 5:0: input/output error",
	}, {
		name:   "DESTROY_SESSION EPERM",
		answer: func(req *Uevent) []netlink.Message { return []netlink.Message{ifError(req, syscall.EPERM)} },
		call:   func(c *Conn) error { return c.DestroySession(ctx, handle, 5) },
		want:   &OpError{Op: UeventDestroySession, SID: 5, CID: -1, Errno: syscall.EPERM},
		msg:    "kernel iSCSI DESTROY_SESSION for session 5: operation not permitted (needs root (CAP_SYS_ADMIN))",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newFakeKernel(t, tt.answer)
			err := tt.call(c)
			var oe *OpError
			if !errors.As(err, &oe) {
				t.Fatalf("got %v, want *OpError", err)
			}
			if diff := cmp.Diff(tt.want, oe); diff != "" {
				t.Errorf("OpError (-want +got):\n%s", diff)
			}
			if !errors.Is(err, tt.want.Errno) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.want.Errno)
			}
			if err.Error() != tt.msg {
				t.Errorf("message\n got %q\nwant %q", err, tt.msg)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error shows the CHAP secret")
			}
		})
	}
}

// A reply that comes too late is not taken for the next request's.
func TestConnRequestDeadline(t *testing.T) {
	var late *Uevent
	c, k := newFakeKernel(t, func(req *Uevent) []netlink.Message {
		if req.Type == UeventStartConn {
			late = req // never answered in time
			return nil
		}
		return []netlink.Message{replyTo(req, nil)}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.StartConn(ctx, handle, 5, 0)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "START_CONN: no reply") {
		t.Fatalf("StartConn without a reply = %v, want %v", err, context.DeadlineExceeded)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("StartConn took %v past a 50ms deadline", d)
	}

	k.emit(replyTo(late, retcode(-int32(syscall.EIO))))
	if err := c.StopConn(bounded(t), handle, 5, 0, StopTerm); err != nil {
		t.Errorf("StopConn after a late START_CONN reply: %v", err)
	}
}

func TestRecvPDUTwoSessions(t *testing.T) {
	text := func(s string) []byte { return []byte(s + "\x00") }
	a1, a2 := text("TargetPortalGroupTag=1"), text("HeaderDigest=None")
	b1, b2 := text("AuthMethod=CHAP"), text("CHAP_A=5") // 9 bytes: padded on the wire
	c, _ := newFakeKernel(t, func(req *Uevent) []netlink.Message {
		if req.Type != UeventSendPDU {
			return []netlink.Message{replyTo(req, nil)}
		}
		// The targets' answers, multicast before the reply to the login
		// PDU that the first session just sent.
		return []netlink.Message{
			recvPDUEvent(2, 0, loginRsp(1, len(b1)), b1),
			recvPDUEvent(1, 0, loginRsp(1, len(a1)), a1),
			recvPDUEvent(2, 0, loginRsp(2, len(b2)), b2),
			recvPDUEvent(1, 0, loginRsp(2, len(a2)), a2),
			replyTo(req, nil),
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	type pdu struct{ Hdr, Data []byte }
	got := make([][]pdu, 3)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, sid := range []uint32{1, 2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2 {
				hdr, data, err := c.RecvPDU(ctx, sid, 0)
				if err != nil {
					errs <- err
					return
				}
				got[sid] = append(got[sid], pdu{hdr, data})
			}
		}()
	}
	if err := c.SendPDU(ctx, handle, 1, 0, bhs(0x43, 0, 0), nil); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := [][]pdu{nil,
		{{loginRsp(1, len(a1)), a1}, {loginRsp(2, len(a2)), a2}},
		{{loginRsp(1, len(b1)), b1}, {loginRsp(2, len(b2)), b2}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PDUs per session (-want +got):\n%s", diff)
	}
}

func TestRecvPDUConnError(t *testing.T) {
	c, k := newFakeKernel(t, func(req *Uevent) []netlink.Message { return []netlink.Message{replyTo(req, nil)} })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	type result struct {
		hdr []byte
		err error
	}
	res := make(chan result, 1)
	go func() {
		hdr, _, err := c.RecvPDU(ctx, 5, 0)
		res <- result{hdr, err}
	}()
	// Another connection's failure does not end this wait.
	k.emit(connErrorEvent(6, 0, ErrConnFailed))
	select {
	case r := <-res:
		t.Fatalf("RecvPDU(5:0) returned on connection 6:0's error: %v", r.err)
	case <-time.After(50 * time.Millisecond):
	}
	// The target closes the TCP connection of 5:0 mid-login.
	k.emit(connErrorEvent(5, 0, ErrTCPConnClose))
	var r result
	select {
	case r = <-res:
	case <-time.After(2 * time.Second):
		t.Fatal("RecvPDU did not return after CONN_ERROR")
	}
	var ce *ConnError
	if !errors.As(r.err, &ce) {
		t.Fatalf("RecvPDU = %x, %v; want *ConnError", r.hdr, r.err)
	}
	if diff := cmp.Diff(&ConnError{SID: 5, CID: 0, Code: ErrTCPConnClose}, ce); diff != "" {
		t.Errorf("ConnError (-want +got):\n%s", diff)
	}
	if want := "kernel reports connection 5:0 failed: ISCSI_ERR_TCP_CONN_CLOSE"; r.err.Error() != want {
		t.Errorf("message %q, want %q", r.err, want)
	}

	// The error is reported once; 6:0's is kept for whoever asks.
	if err := c.ConnErrorFor(5, 0); err != nil {
		t.Errorf("ConnErrorFor(5, 0) after RecvPDU = %v, want nil", err)
	}
	if err := c.ConnErrorFor(6, 0); !errors.As(err, &ce) || ce.Code != ErrConnFailed {
		t.Errorf("ConnErrorFor(6, 0) = %v, want ISCSI_ERR_CONN_FAILED", err)
	}
	if err := c.ConnErrorFor(6, 0); err != nil {
		t.Errorf("second ConnErrorFor(6, 0) = %v, want nil", err)
	}
}

// TestWaitConnError: the resident loop's wait returns the first error on a
// connection it watches, leaves other connections' errors queued, and ends
// with ctx.
func TestWaitConnError(t *testing.T) {
	c, k := newFakeKernel(t, func(req *Uevent) []netlink.Message { return nil })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res := make(chan *ConnError, 1)
	go func() {
		ce, _ := c.WaitConnError(ctx, [][2]uint32{{3, 0}, {5, 0}})
		res <- ce
	}()
	k.emit(connErrorEvent(6, 0, ErrConnFailed))
	select {
	case ce := <-res:
		t.Fatalf("WaitConnError returned on an unwatched connection: %v", ce)
	case <-time.After(50 * time.Millisecond):
	}
	k.emit(connErrorEvent(5, 0, ErrTCPConnClose))
	select {
	case ce := <-res:
		if diff := cmp.Diff(&ConnError{SID: 5, CID: 0, Code: ErrTCPConnClose}, ce); diff != "" {
			t.Errorf("ConnError (-want +got):\n%s", diff)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("WaitConnError did not return after CONN_ERROR")
	}
	if err := c.ConnErrorFor(6, 0); err == nil {
		t.Errorf("6:0's error was taken by a wait that did not watch it")
	}
	short, stop := context.WithTimeout(ctx, 20*time.Millisecond)
	defer stop()
	if ce, err := c.WaitConnError(short, [][2]uint32{{5, 0}}); ce != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitConnError after ctx ended = %v, %v", ce, err)
	}
}

// PDUs already queued come before a connection error that followed them.
func TestRecvPDUBeforeConnError(t *testing.T) {
	c, k := newFakeKernel(t, func(req *Uevent) []netlink.Message { return nil })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	k.emit(recvPDUEvent(5, 0, loginRsp(1, 0), nil), connErrorEvent(5, 0, ErrConnFailed))
	hdr, _, err := c.RecvPDU(ctx, 5, 0)
	if err != nil || !bytes.Equal(hdr, loginRsp(1, 0)) {
		t.Fatalf("first RecvPDU = %x, %v; want the login response", hdr, err)
	}
	var ce *ConnError
	if _, _, err := c.RecvPDU(ctx, 5, 0); !errors.As(err, &ce) || ce.Code != ErrConnFailed {
		t.Errorf("second RecvPDU = %v, want ISCSI_ERR_CONN_FAILED", err)
	}
}

func TestRecvPDUMalformed(t *testing.T) {
	c, k := newFakeKernel(t, func(req *Uevent) []netlink.Message { return nil })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	k.emit(recvPDUEvent(5, 0, loginRsp(1, 100), []byte("short")))
	if _, _, err := c.RecvPDU(ctx, 5, 0); !errors.Is(err, errBadPDU) {
		t.Errorf("RecvPDU of a cut PDU = %v, want %v", err, errBadPDU)
	}
}

func TestRecvPDUDeadline(t *testing.T) {
	c, k := newFakeKernel(t, func(req *Uevent) []netlink.Message { return nil })
	k.emit(recvPDUEvent(6, 0, loginRsp(1, 0), nil)) // not ours
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.RecvPDU(ctx, 5, 0)
	if d := time.Since(start); d < 40*time.Millisecond || d > 2*time.Second {
		t.Errorf("RecvPDU returned after %v, want at its 50ms deadline", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "connection 5:0") {
		t.Errorf("RecvPDU = %v, want %v naming connection 5:0", err, context.DeadlineExceeded)
	}
}

func TestConnClose(t *testing.T) {
	before := runtime.NumGoroutine()
	c, _ := newFakeKernel(t, func(req *Uevent) []netlink.Message { return []netlink.Message{replyTo(req, nil)} })
	if err := c.StartConn(bounded(t), handle, 5, 0); err != nil {
		t.Fatal(err)
	}

	waiting := make(chan error, 1)
	go func() {
		_, _, err := c.RecvPDU(context.Background(), 5, 0)
		waiting <- err
	}()

	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not return: the reader goroutine is still running")
	}
	select {
	case err := <-waiting:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("RecvPDU waiting at Close = %v, want %v", err, ErrClosed)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("RecvPDU still waits after Close")
	}

	if err := c.StopConn(bounded(t), handle, 5, 0, StopTerm); !errors.Is(err, ErrClosed) {
		t.Errorf("StopConn after Close = %v, want %v", err, ErrClosed)
	}
	if _, _, err := c.RecvPDU(bounded(t), 5, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("RecvPDU after Close = %v, want %v", err, ErrClosed)
	}

	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}
