package netcfg

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
	"golang.org/x/sys/unix"
)

// TestResolvePath: the path to a peer on a veth link and to a host behind
// it, as an offload NIC's PATH_REQ needs it: our source address, the next
// hop's MAC learned by ARP from the peer namespace, the link's MTU and
// index; and on loopback, the link's own (zero) address without ARP.
func TestResolvePath(t *testing.T) {
	tb := newTestbed(t, netip.MustParsePrefix("10.77.0.2/24"))
	ctx := testContext(t)
	l, err := tb.host.LinkByName(ctx, tb.Link)
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.host.AddAddress(ctx, l.Index, netip.MustParsePrefix("10.77.0.1/24")); err != nil {
		t.Fatal(err)
	}
	if err := tb.host.SetMTU(ctx, l.Index, 1400); err != nil {
		t.Fatal(err)
	}
	if err := tb.host.SetUp(ctx, l.Index); err != nil {
		t.Fatal(err)
	}
	if err := tb.host.AddRoute(ctx, Route{Dst: netip.MustParsePrefix("10.78.0.0/24"), Gateway: netip.MustParseAddr("10.77.0.2"), Index: l.Index}); err != nil {
		t.Fatal(err)
	}
	peerMAC := tb.peerLink(t).MAC.String()
	for _, tt := range []struct{ dst, gw string }{{"10.77.0.2", ""}, {"10.78.0.9", "10.77.0.2"}} {
		p, err := tb.host.ResolvePath(ctx, netip.MustParseAddr(tt.dst), 5*time.Second)
		if err != nil {
			t.Fatalf("ResolvePath(%s): %v", tt.dst, err)
		}
		gw := ""
		if p.Gateway.IsValid() {
			gw = p.Gateway.String()
		}
		if p.Src.String() != "10.77.0.1" || gw != tt.gw || p.Index != l.Index || p.MTU != 1400 || p.MAC.String() != peerMAC {
			t.Errorf("ResolvePath(%s) = %+v; want src 10.77.0.1, gateway %q, link %d, MTU 1400, MAC %s", tt.dst, p, tt.gw, l.Index, peerMAC)
		}
	}

	lo, err := tb.host.LinkByName(ctx, "lo")
	if err != nil {
		t.Fatal(err)
	}
	p, err := tb.host.ResolvePath(ctx, netip.MustParseAddr("127.0.0.1"), time.Second)
	if err != nil || p.Index != lo.Index || p.MAC.String() != "00:00:00:00:00:00" || p.Src.String() != "127.0.0.1" {
		t.Errorf("ResolvePath(127.0.0.1) = %+v, %v; want lo with its zero MAC", p, err)
	}

	// An address on the link nobody has: ARP goes unanswered, the wait
	// ends in one line naming the next hop and the link.
	begin := time.Now()
	_, err = tb.host.ResolvePath(ctx, netip.MustParseAddr("10.77.0.99"), 500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "next hop 10.77.0.99 on "+tb.Link) || time.Since(begin) > 5*time.Second {
		t.Errorf("ResolvePath to nobody = %v after %v; want errNoNeighbour naming the hop and link, soon", err, time.Since(begin))
	}
	if _, err := tb.host.ResolvePath(ctx, netip.MustParseAddr("192.0.2.1"), time.Second); err == nil {
		t.Error("ResolvePath to an unrouted address: no error")
	}
}

// FuzzParsePath: the answers RouteGet and Neighbour decode (RTM_NEWROUTE,
// RTM_NEWNEIGH) are rejected, never panicked on, whatever their bytes,
// and what is accepted holds addresses of a family.
func FuzzParsePath(f *testing.F) {
	rh, _ := rtMsg{Family: unix.AF_INET, DstLen: 32, Type: unix.RTN_UNICAST}.MarshalBinary()
	metrics := nltest.MustMarshalAttributes([]netlink.Attribute{{Type: unix.RTAX_MTU, Data: []byte{0xdc, 5, 0, 0}}})
	f.Add(append(rh, nltest.MustMarshalAttributes([]netlink.Attribute{
		{Type: unix.RTA_PREFSRC, Data: []byte{10, 77, 0, 1}}, {Type: unix.RTA_GATEWAY, Data: []byte{10, 77, 0, 2}},
		{Type: unix.RTA_OIF, Data: []byte{2, 0, 0, 0}}, {Type: unix.RTA_METRICS | unix.NLA_F_NESTED, Data: metrics},
	})...))
	nd := make([]byte, ndMsgLen)
	nd[0], nd[4], nd[8] = unix.AF_INET, 2, unix.NUD_REACHABLE
	f.Add(append(nd, nltest.MustMarshalAttributes([]netlink.Attribute{
		{Type: unix.NDA_DST, Data: []byte{10, 77, 0, 2}}, {Type: unix.NDA_LLADDR, Data: []byte{2, 0, 0, 0, 0, 1}},
	})...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := parseRouteGet(b); err == nil {
			for _, a := range []netip.Addr{p.Src, p.Gateway} {
				if a.IsValid() && a.BitLen() != 32 && a.BitLen() != 128 {
					t.Fatalf("parseRouteGet accepted %v", a)
				}
			}
		}
		if n, ok := parseNeigh(b); ok && n.dst.IsValid() && n.dst.BitLen() != 32 && n.dst.BitLen() != 128 {
			t.Fatalf("parseNeigh accepted %v", n.dst)
		}
	})
}
