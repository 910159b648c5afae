package kernel

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
)

var iser = Transport{Name: "iser", Handle: handle, Caps: CapRecoveryL0 | CapMultiR2T | CapTextNego}

// fakeEndpoints is iSER's side of scsi_transport_iscsi for the ep_connect
// requests: EP_CONNECT answers endpoint ep, EP_POLL answers polls in turn
// (the last one repeating), everything else succeeds.
func fakeEndpoints(ep uint64, polls ...int32) func(req *Uevent) []netlink.Message {
	n := 0
	return func(req *Uevent) []netlink.Message {
		switch req.Type {
		case UeventEPConnect, UeventEPConnectThroughHost:
			return []netlink.Message{replyTo(req, func(r []byte) { ne.PutUint64(r, ep) })}
		case UeventEPPoll:
			rc := polls[min(n, len(polls)-1)]
			n++
			return []netlink.Message{replyTo(req, retcode(rc))}
		case UeventCreateBoundSession:
			return []netlink.Message{replyTo(req, func(r []byte) { ne.PutUint32(r[0:], 4); ne.PutUint32(r[4:], 9) })}
		}
		return []netlink.Message{replyTo(req, nil)}
	}
}

func types(reqs [][]byte) []EventType {
	var out []EventType
	for _, b := range reqs {
		var e Uevent
		e.UnmarshalBinary(b)
		out = append(out, e.Type)
	}
	return out
}

// Connect over iSER: EP_CONNECT with the portal's address, EP_POLL until
// the kernel says connected, then the session is created on the endpoint
// and the connection bound by its handle, as iscsid's session_conn_poll
// does.
func TestConnectEndpoint(t *testing.T) {
	ctx := bounded(t)
	c, k := newFakeKernel(t, fakeEndpoints(0x42, 0, 0, 1))
	e, err := c.Connect(ctx, iser, -1, "10.0.2.2", 3260)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if !e.Bound() || e.Portal != netip.MustParseAddrPort("10.0.2.2:3260") {
		t.Errorf("endpoint bound %v at %v, want a kernel endpoint at 10.0.2.2:3260", e.Bound(), e.Portal)
	}
	sid, host, err := c.CreateSessionOn(ctx, e, 1, 128, 32)
	if err != nil || sid != 4 || host != 9 {
		t.Fatalf("CreateSessionOn = %d, %d, %v; want the kernel's 4, 9", sid, host, err)
	}
	if err := c.BindEndpoint(ctx, sid, 0, e, true); err != nil {
		t.Fatal(err)
	}
	want := [][]byte{}
	for _, r := range []*Uevent{
		EPConnectRequest(handle, netip.MustParseAddrPort("10.0.2.2:3260"), true),
		EPPollRequest(handle, 0x42, 10), EPPollRequest(handle, 0x42, 10), EPPollRequest(handle, 0x42, 10),
		CreateBoundSessionRequest(handle, 0x42, 1, 128, 32),
		BindConnRequest(handle, 4, 0, 0x42, true),
	} {
		b, _ := r.MarshalBinary()
		want = append(want, b)
	}
	if got := k.requests(); len(got) != len(want) || !bytes.Equal(bytes.Join(got, nil), bytes.Join(want, nil)) {
		t.Errorf("kernel got %v\n%s\nwant %v\n%s", types(got), dumpAll(got), types(want), dumpAll(want))
	}
}

// A connect the kernel reports failed (iSER's -1, or an errno) is a
// transport error, and the endpoint is released with EP_DISCONNECT so a
// retry starts clean.
func TestConnectEndpointFails(t *testing.T) {
	for _, tt := range []struct {
		name string
		rc   int32
		want error
	}{
		{"iSER's -1", -1, syscall.ECONNREFUSED},
		{"errno", -int32(syscall.ENETUNREACH), syscall.ENETUNREACH},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, k := newFakeKernel(t, fakeEndpoints(0x42, 0, tt.rc))
			_, err := c.Connect(bounded(t), iser, -1, "10.0.2.2", 3260)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Connect = %v, want %v", err, tt.want)
			}
			got := types(k.requests())
			if last := got[len(got)-1]; last != UeventEPDisconnect {
				t.Errorf("requests %v, want EP_DISCONNECT last", got)
			}
		})
	}
}

// Connect gives up when its context ends, and releases the endpoint.
func TestConnectEndpointDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	c, k := newFakeKernel(t, fakeEndpoints(0x42, 0))
	if _, err := c.Connect(ctx, iser, -1, "10.0.2.2", 3260); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Connect = %v, want the deadline", err)
	}
	got := types(k.requests())
	if got[len(got)-1] != UeventEPDisconnect {
		t.Errorf("requests %v, want EP_DISCONNECT last", got)
	}
}

// An offload NIC's endpoint goes through its SCSI host; a portal that is
// not an address never reaches the kernel; an HBA that logs in by itself
// takes no connect; an endpoint handle of 0 is no endpoint.
func TestConnectEndpointCases(t *testing.T) {
	ctx := bounded(t)
	c, k := newFakeKernel(t, fakeEndpoints(0x42, 1))
	bnx2i := Transport{Name: "bnx2i", Handle: handle, Caps: CapDataPathOffload}
	if _, err := c.Connect(ctx, bnx2i, 3, "10.0.2.2", 3260); err != nil {
		t.Fatal(err)
	}
	want, _ := EPConnectThroughHostRequest(handle, 3, netip.MustParseAddrPort("10.0.2.2:3260"), true).MarshalBinary()
	if got := k.requests(); !bytes.Equal(got[0], want) {
		t.Errorf("first request\n%swant\n%s", hex.Dump(got[0]), hex.Dump(want))
	}
	n := len(k.requests())
	if _, err := c.Connect(ctx, iser, -1, "target.example", 3260); !errors.Is(err, errPortal) {
		t.Errorf("Connect to a host name = %v, want %v", err, errPortal)
	}
	if _, err := c.Connect(ctx, Transport{Name: "qla4xxx", Caps: CapLoginOffload}, -1, "10.0.2.2", 3260); !errors.Is(err, ErrHBALogin) {
		t.Errorf("Connect over qla4xxx = %v, want %v", err, ErrHBALogin)
	}
	if len(k.requests()) != n {
		t.Errorf("refused connects sent %d requests", len(k.requests())-n)
	}
	c0, _ := newFakeKernel(t, fakeEndpoints(0, 1))
	if _, err := c0.Connect(ctx, iser, -1, "10.0.2.2", 3260); !errors.Is(err, errNoEndpoint) {
		t.Errorf("Connect with endpoint 0 = %v, want %v", err, errNoEndpoint)
	}
}

// EP_DISCONNECT of an endpoint the kernel already released (EINVAL: the
// stop of its bound connection disconnected it) is no error.
func TestEPDisconnectReleased(t *testing.T) {
	c, _ := newFakeKernel(t, func(req *Uevent) []netlink.Message { return []netlink.Message{ifError(req, syscall.EINVAL)} })
	if err := c.EPDisconnect(bounded(t), handle, 0x42); err != nil {
		t.Errorf("EPDisconnect of a released endpoint = %v, want nil", err)
	}
}

// A kernel without CREATE_BOUND_SESSION gets a plain CREATE_SESSION, as
// iscsid retries.
func TestCreateSessionOnOldKernel(t *testing.T) {
	ctx := bounded(t)
	c, k := newFakeKernel(t, func(req *Uevent) []netlink.Message {
		switch req.Type {
		case UeventCreateBoundSession:
			return []netlink.Message{ifError(req, syscall.ENOSYS)}
		case UeventCreateSession:
			return []netlink.Message{replyTo(req, func(r []byte) { ne.PutUint32(r[0:], 2); ne.PutUint32(r[4:], 1) })}
		}
		return fakeEndpoints(0x42, 1)(req)
	})
	e, err := c.Connect(ctx, iser, -1, "10.0.2.2", 3260)
	if err != nil {
		t.Fatal(err)
	}
	if sid, _, err := c.CreateSessionOn(ctx, e, 1, 128, 32); err != nil || sid != 2 {
		t.Fatalf("CreateSessionOn = %d, %v; want the plain session 2", sid, err)
	}
	got := types(k.requests())
	if got[len(got)-1] != UeventCreateSession {
		t.Errorf("requests %v, want CREATE_SESSION after CREATE_BOUND_SESSION", got)
	}
}

// Over iscsi_tcp, Connect dials in user space and binds the socket's
// descriptor; Disconnect has nothing to release.
func TestConnectSocket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	ctx := bounded(t)
	c, k := newFakeKernel(t, fakeEndpoints(0x42, 1))
	e, err := c.Connect(ctx, Transport{Name: "tcp", Handle: handle}, -1, "127.0.0.1", port)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Bound() {
		t.Error("a socket endpoint says it is the kernel's")
	}
	e.Disconnect()
	if err := c.BindEndpoint(ctx, 1, 0, e, true); err != nil {
		t.Fatal(err)
	}
	want, _ := BindConnRequest(handle, 1, 0, uint64(e.file.Fd()), true).MarshalBinary()
	if got := k.requests(); len(got) != 1 || !bytes.Equal(got[0], want) {
		t.Errorf("kernel got %v, want BIND_CONN with fd %s alone", types(got), strconv.Itoa(int(e.file.Fd())))
	}
}

// A PDU and an error queued for a connection before FlushConn are not
// read by the next login on it; another connection's stay.
func TestFlushConn(t *testing.T) {
	c, k := newFakeKernel(t, func(*Uevent) []netlink.Message { return nil })
	k.emit(recvPDUEvent(1, 0, loginRsp(1, 0), nil), connErrorEvent(1, 0, ErrConnFailed), recvPDUEvent(2, 0, loginRsp(7, 0), nil))
	if _, _, err := c.RecvPDU(bounded(t), 2, 0); err != nil { // all three are queued once this one is
		t.Fatal(err)
	}
	c.FlushConn(1, 0)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if hdr, _, err := c.RecvPDU(ctx, 1, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("RecvPDU after FlushConn = %x, %v; want nothing until the deadline", hdr, err)
	}
}
