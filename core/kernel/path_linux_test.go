package kernel

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mdlayher/netlink"

	"github.com/iscsiboot/iscsiboot/netcfg"
)

var bnx2i = Transport{Name: "bnx2i", Handle: handle, Caps: CapRecoveryL0 | CapHdrDgst | CapDataPathOffload | CapTextNego}

// pathReqEvent is iscsi_offload_mesg(ISCSI_KEVENT_PATH_REQ) as bnx2i
// sends it while an endpoint connects: header type 0, r.req_path.host_no,
// then struct iscsi_path with the endpoint's handle and the destination.
func pathReqEvent(host uint32, ep uint64, dst string) netlink.Message {
	p := &Path{Handle: ep, Dst: netip.MustParseAddr(dst)}
	b, _ := p.MarshalBinary()
	e := &Uevent{Type: KeventPathReq, TransportHandle: handle, Extra: b}
	ne.PutUint32(e.R[0:], host)
	return message(0, e)
}

// fakeOffloadNIC is bnx2i's side of scsi_transport_iscsi: EP_CONNECT_THROUGH_HOST
// answers endpoint ep and then asks for the route to the portal with
// PATH_REQ; EP_POLL says connected only once a PATH_UPDATE came, as the
// NIC cannot connect without its next hop.
func fakeOffloadNIC(host uint32, ep uint64, dst string) func(req *Uevent) []netlink.Message {
	var updated atomic.Bool
	return func(req *Uevent) []netlink.Message {
		switch req.Type {
		case UeventEPConnectThroughHost:
			return []netlink.Message{replyTo(req, func(r []byte) { ne.PutUint64(r, ep) }), pathReqEvent(host, ep, dst)}
		case UeventPathUpdate:
			updated.Store(true)
		case UeventEPPoll:
			rc := int32(0)
			if updated.Load() {
				rc = 1
			}
			return []netlink.Message{replyTo(req, retcode(rc))}
		}
		return []netlink.Message{replyTo(req, nil)}
	}
}

// TestConnectAnswersPathReq: an offload NIC connecting through host 5
// asks for the route to the portal; the Conn answers with PATH_UPDATE from
// the real routing table (a route lookup on loopback through netcfg): the
// endpoint's handle echoed, source 127.0.0.1, loopback's zero MAC, the MTU
// clamped to 16 bits, for host 5. Only then does the NIC connect.
func TestConnectAnswersPathReq(t *testing.T) {
	c, k := newFakeKernel(t, fakeOffloadNIC(5, 0x42, "127.0.0.1"))
	c.SetPathResolver(func(ctx context.Context, dst netip.Addr) (Path, error) {
		rt, err := netcfg.Dial()
		if err != nil {
			return Path{}, err
		}
		defer rt.Close()
		p, err := rt.ResolvePath(ctx, dst, pathTimeout)
		if err != nil {
			return Path{}, err
		}
		out := Path{Src: p.Src, Dst: p.Dst, MTU: uint16(min(p.MTU, 0xffff))}
		copy(out.MAC[:], p.MAC)
		return out, nil
	})
	e, err := c.Connect(bounded(t), bnx2i, 5, "127.0.0.1", 3260)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var update []byte
	for _, b := range k.requests() {
		var u Uevent
		if u.UnmarshalBinary(b); u.Type == UeventPathUpdate {
			update = b
		}
	}
	want, _ := PathUpdateRequest(handle, 5, &Path{Handle: 0x42, Src: netip.MustParseAddr("127.0.0.1"), Dst: netip.MustParseAddr("127.0.0.1"), MTU: 0xffff})
	wb, _ := want.MarshalBinary()
	if !bytes.Equal(update, wb) {
		t.Errorf("PATH_UPDATE\ngot:\n%swant:\n%s(kernel got %v)", hex.Dump(update), hex.Dump(wb), types(k.requests()))
	}
}

// TestConnectPathReqFails: the route lookup fails (no route, no next hop):
// no PATH_UPDATE goes out, the NIC never connects, and the connect's
// error names the transport, the host and why the path was not given.
func TestConnectPathReqFails(t *testing.T) {
	c, k := newFakeKernel(t, fakeOffloadNIC(5, 0x42, "192.0.2.1"))
	c.SetPathResolver(func(ctx context.Context, dst netip.Addr) (Path, error) {
		return Path{}, errors.New("route to " + dst.String() + ": network is unreachable")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.Connect(ctx, bnx2i, 5, "192.0.2.1", 3260)
	if err == nil {
		t.Fatal("Connect without a path: no error")
	}
	for _, s := range []string{"bnx2i", "host5", "path to 192.0.2.1 for host5", "unreachable"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	for _, ty := range types(k.requests()) {
		if ty == UeventPathUpdate {
			t.Errorf("a PATH_UPDATE went out: %v", types(k.requests()))
		}
	}
}
