package netcfg

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// routerAdvertisement is an ICMPv6 Router Advertisement (RFC 4861, Section 4.2) with one Prefix
// Information option (Section 4.6.2) for prefix/64, on-link and autonomous, so the receiver makes a SLAAC
// address. The kernel fills in the checksum of raw ICMPv6 sockets.
func routerAdvertisement(prefix netip.Addr) []byte {
	b := make([]byte, 16+32)
	b[0] = 134                                 // type: router advertisement
	b[4] = 64                                  // current hop limit
	binary.BigEndian.PutUint16(b[6:8], 1800)   // router lifetime, s: also makes us the default router
	o := b[16:]                                // prefix information option
	o[0], o[1], o[2], o[3] = 3, 4, 64, 0xc0    // type, length in 8 octets, prefix length, L and A flags
	binary.BigEndian.PutUint32(o[4:8], 86400)  // valid lifetime
	binary.BigEndian.PutUint32(o[8:12], 14400) // preferred lifetime
	copy(o[16:32], prefix.AsSlice())
	return b
}

// sendRA sends one router advertisement for prefix from the peer end to all nodes on the link.
func sendRA(t *testing.T, tb *testbed, prefix netip.Addr) {
	t.Helper()
	pl := tb.peerLink(t)
	err := inNS(tb.peerNS, func() error {
		fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMPV6)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		// RFC 4861, Section 6.1.2: receivers drop advertisements whose hop limit is not 255.
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, 255); err != nil {
			return err
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, pl.Index); err != nil {
			return err
		}
		to := &unix.SockaddrInet6{Addr: netip.MustParseAddr("ff02::1").As16(), ZoneId: uint32(pl.Index)}
		return unix.Sendto(fd, routerAdvertisement(prefix), 0, to)
	})
	if err != nil {
		t.Fatalf("send router advertisement: %v", err)
	}
}

// TestConfigureAuto6 takes any address the kernel made from the advertised prefix, as dracut's
// wait_for_ipv6_auto does (no tentative address left, a route from the advertisement): a global one, a
// unique local one and a site-local one, QEMU's slirp default (fec0::/64, RT_SCOPE_SITE), alike.
func TestConfigureAuto6(t *testing.T) {
	for _, tc := range []struct{ name, prefix string }{
		{"global", "2001:db8:5::"},
		{"unique local", "fd00:5::"},
		{"site-local", "fec0::"},
	} {
		t.Run(tc.name, func(t *testing.T) { testConfigureAuto6(t, netip.MustParseAddr(tc.prefix)) })
	}
}

func testConfigureAuto6(t *testing.T, prefix netip.Addr) {
	tb := newTestbed(t)
	// Both ends up and the peer's link-local usable: startDHCP6's preparation, without its server.
	ctx := testContext(t)
	hl, err := tb.host.LinkByName(ctx, tb.Link)
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.host.SetUp(ctx, hl.Index); err != nil {
		t.Fatal(err)
	}
	pl := tb.peerLink(t)
	peerLL, err := waitAddress(ctx, tb.peer, pl.Index, func(a Address) bool {
		return a.Prefix.Addr().IsLinkLocalUnicast() && !a.Tentative()
	})
	if err != nil {
		t.Fatalf("peer link-local address: %v", err)
	}
	sendRA(t, tb, prefix)
	res, err := Configure(ctx, []Interface{{Name: tb.Link, Method: MethodAuto6}}, WithResolvConf(""), WithSLAACTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	a := res[0].Addresses
	want := netip.PrefixFrom(prefix, 64)
	if len(a) != 1 || a[0].Bits() != 64 || netip.PrefixFrom(a[0].Addr(), 64).Masked() != want {
		t.Errorf("SLAAC addresses = %v, want one in %v", a, want)
	}
	if res[0].Gateway != peerLL.Prefix.Addr() {
		t.Errorf("gateway = %v, want the advertising router %v", res[0].Gateway, peerLL.Prefix.Addr())
	}
}

func TestConfigureAuto6NoRouter(t *testing.T) {
	tb := newTestbed(t)
	_, err := Configure(testContext(t), []Interface{{Name: tb.Link, Method: MethodAuto6}}, WithResolvConf(""), WithSLAACTimeout(time.Second))
	if want := tb.Link + ": SLAAC: no address from router advertisements within 1s"; err == nil || err.Error() != want {
		t.Errorf("Configure without a router = %v, want %q", err, want)
	}
}
