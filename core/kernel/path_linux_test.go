package kernel

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
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

// offloadInitiator is an Initiator over bnx2i with host 5 on eth0 in a
// sysfs tree, talking to kernel side answer.
func offloadInitiator(t *testing.T, answer func(req *Uevent) []netlink.Message) (*Initiator, *fakeKernel) {
	tr := newTree(t)
	tr.file("class/scsi_host/host5/proc_name", "bnx2i\n")
	tr.file("class/iscsi_host/host5/netdev", "eth0\n")
	c, k := newFakeKernel(t, answer)
	c.SetPathResolver(func(ctx context.Context, dst netip.Addr) (Path, error) {
		return Path{Src: netip.MustParseAddr("192.0.2.7"), Dst: dst, MAC: [6]byte{2, 0, 0, 0, 0, 1}, MTU: 1500}, nil
	})
	return &Initiator{nl: c, sys: tr.sysfs(), handle: handle, tr: bnx2i}, k
}

// TestConnectSetsHostNet: before an offload NIC's endpoint connects
// through its host, the host gets the network of its iSCSI iface from the
// plan (SET_IFACE_PARAMS, then SET_HOST_PARAM ISCSI_HOST_PARAM_IPADDRESS),
// as iscsiadm and iscsid give it; a host that takes no iface parameters
// (ENOSYS, as bnx2i, which leaves them to iscsiuio) still connects; one
// that fails them fails the login, naming transport and host; and a
// transport whose hosts need an address gets none: one line saying so.
func TestConnectSetsHostNet(t *testing.T) {
	hn := &HostNet{Address: netip.MustParsePrefix("192.0.2.7/24"), Gateway: netip.MustParseAddr("192.0.2.1")}
	for _, tt := range []struct {
		name    string
		errno   syscall.Errno // SET_IFACE_PARAMS's answer
		net     *HostNet
		errHas  []string
		wantSeq []EventType
	}{
		{name: "set", net: hn, wantSeq: []EventType{UeventSetIfaceParams, UeventSetHostParam, UeventEPConnectThroughHost}},
		{name: "ENOSYS", errno: syscall.ENOSYS, net: hn, wantSeq: []EventType{UeventSetIfaceParams, UeventSetHostParam, UeventEPConnectThroughHost}},
		{name: "EIO", errno: syscall.EIO, net: hn, errHas: []string{"bnx2i host5", "192.0.2.7/24", "SET_IFACE_PARAMS"}},
		{name: "no address", errHas: []string{"bnx2i host5 needs the address of its iSCSI iface"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := fakeOffloadNIC(5, 0x42, "192.0.2.9")
			k, fk := offloadInitiator(t, func(req *Uevent) []netlink.Message {
				if req.Type == UeventSetIfaceParams && tt.errno != 0 {
					return []netlink.Message{ifError(req, tt.errno)}
				}
				return base(req)
			})
			l := &Login{Iface: "eth0", HostNet: tt.net}
			e, err := k.connect(bounded(t), l, "192.0.2.9:3260")
			if tt.errHas != nil {
				if err == nil || !errors.Is(err, ErrFatal) {
					t.Fatalf("connect = %v, want a fatal error", err)
				}
				for _, s := range tt.errHas {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q lacks %q", err, s)
					}
				}
				for _, ty := range types(fk.requests()) {
					if ty == UeventEPConnectThroughHost {
						t.Errorf("connected anyway: %v", types(fk.requests()))
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			got := types(fk.requests())
			if len(got) < len(tt.wantSeq) || !slices.Equal(got[:len(tt.wantSeq)], tt.wantSeq) {
				t.Errorf("requests %v, want %v first", got, tt.wantSeq)
			}
			reqs := fk.requests()
			want := SetHostParamRequest(handle, 5, HostParamIPAddress, "192.0.2.7")
			wb, _ := want.MarshalBinary()
			if !bytes.Equal(reqs[1], wb) {
				t.Errorf("SET_HOST_PARAM\ngot:\n%swant:\n%s", hex.Dump(reqs[1]), hex.Dump(wb))
			}
		})
	}
}

// TestConnectThroughFirmwareHost: a target an offload host's firmware
// named (/sys/firmware/iscsi_boot7) connects through that host, not the
// first host of the transport.
func TestConnectThroughFirmwareHost(t *testing.T) {
	k, fk := offloadInitiator(t, fakeOffloadNIC(7, 0x42, "192.0.2.9"))
	l := &Login{HBA: "iscsi_boot7", HostNet: &HostNet{Address: netip.MustParsePrefix("192.0.2.7/24")}}
	e, err := k.connect(bounded(t), l, "192.0.2.9:3260")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	want := EPConnectThroughHostRequest(handle, 7, netip.MustParseAddrPort("192.0.2.9:3260"), true)
	wb, _ := want.MarshalBinary()
	if !slices.ContainsFunc(fk.requests(), func(b []byte) bool { return bytes.Equal(b, wb) }) {
		t.Errorf("no EP_CONNECT_THROUGH_HOST through host 7: %v", types(fk.requests()))
	}
}
