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

func TestConfigureAuto6(t *testing.T) {
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
	sendRA(t, tb, netip.MustParseAddr("2001:db8:5::"))
	res, err := Configure(ctx, []Interface{{Name: tb.Link, Method: MethodAuto6}}, WithResolvConf(""), WithSLAACTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	a := res[0].Addresses
	if len(a) != 1 || a[0].Bits() != 64 || netip.PrefixFrom(a[0].Addr(), 64).Masked() != netip.MustParsePrefix("2001:db8:5::/64") {
		t.Errorf("SLAAC addresses = %v, want one in 2001:db8:5::/64", a)
	}
	if res[0].Gateway != peerLL.Prefix.Addr() {
		t.Errorf("gateway = %v, want the advertising router %v", res[0].Gateway, peerLL.Prefix.Addr())
	}
}

func TestConfigureAuto6NoRouter(t *testing.T) {
	tb := newTestbed(t)
	_, err := Configure(testContext(t), []Interface{{Name: tb.Link, Method: MethodAuto6}}, WithResolvConf(""), WithSLAACTimeout(time.Second))
	if want := tb.Link + ": SLAAC: no global address from router advertisements within 1s"; err == nil || err.Error() != want {
		t.Errorf("Configure without a router = %v, want %q", err, want)
	}
}
