package netcfg

import (
	"net/netip"
	"strings"
	"testing"
	"time"
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
