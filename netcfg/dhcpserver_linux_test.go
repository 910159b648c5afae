//go:build !dropin

package netcfg

import (
	"net"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
	"github.com/insomniacslk/dhcp/dhcpv6/server6"
	"github.com/iscsiboot/iscsiboot/internal/dhcp6test"
)

// The lease the test DHCPv4 server hands out.
const (
	testRootPath  = "iscsi:10.0.0.1::3260:1:iqn.2025-01.test:disk1"
	testInitiator = "iqn.2025-01.test:initiator1"
)

// dhcp4Handler answers DISCOVER with an OFFER and REQUEST with an ACK for 10.0.0.2/24, router 10.0.0.1,
// DNS 10.0.0.53, MTU 1400 and the iSCSI root path and initiator name, then the options of extra, which
// replace those of the same code. Replies are broadcast, as to a client without an address.
func dhcp4Handler(t *testing.T, extra ...dhcpv4.Modifier) server4.Handler {
	return func(conn net.PacketConn, peer net.Addr, m *dhcpv4.DHCPv4) {
		var mt dhcpv4.MessageType
		switch m.MessageType() {
		case dhcpv4.MessageTypeDiscover:
			mt = dhcpv4.MessageTypeOffer
		case dhcpv4.MessageTypeRequest:
			mt = dhcpv4.MessageTypeAck
		default:
			return
		}
		reply, err := dhcpv4.NewReplyFromRequest(m,
			dhcpv4.WithMessageType(mt),
			dhcpv4.WithYourIP(net.IPv4(10, 0, 0, 2)),
			dhcpv4.WithServerIP(net.IPv4(10, 0, 0, 1)),
			dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
			dhcpv4.WithLeaseTime(3600),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(10, 0, 0, 1))),
			dhcpv4.WithOption(dhcpv4.OptRouter(net.IPv4(10, 0, 0, 1))),
			dhcpv4.WithOption(dhcpv4.OptDNS(net.IPv4(10, 0, 0, 53))),
			dhcpv4.WithOption(dhcpv4.OptDomainName("example.test")),
			dhcpv4.WithOption(dhcpv4.OptHostName("node1")),
			dhcpv4.WithOption(dhcpv4.OptRootPath(testRootPath)),
			dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.OptionInterfaceMTU, []byte{0x05, 0x78})),
			dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.GenericOptionCode(optionISCSIInitiator), []byte(testInitiator))),
		)
		if err != nil {
			t.Errorf("DHCPv4 server: build reply: %v", err)
			return
		}
		for _, m := range extra {
			m(reply)
		}
		if _, err := conn.WriteTo(reply.ToBytes(), &net.UDPAddr{IP: net.IPv4bcast, Port: dhcpv4.ClientPort}); err != nil {
			t.Errorf("DHCPv4 server: send reply: %v", err)
		}
	}
}

// startDHCP4 starts a DHCPv4 server on the peer end after delay and stops it when the test ends. extra
// changes the options of its replies (dhcp4Handler).
func startDHCP4(t *testing.T, tb *testbed, delay time.Duration, extra ...dhcpv4.Modifier) {
	t.Helper()
	started := make(chan *server4.Server, 1)
	start := func() {
		var srv *server4.Server
		err := inNS(tb.peerNS, func() error {
			var err error
			srv, err = server4.NewServer(tb.Peer, &net.UDPAddr{IP: net.IPv4zero, Port: dhcpv4.ServerPort}, dhcp4Handler(t, extra...))
			return err
		})
		if err != nil {
			t.Errorf("start DHCPv4 server: %v", err)
		}
		started <- srv
		if srv != nil {
			_ = srv.Serve()
		}
	}
	timer := time.AfterFunc(delay, start)
	t.Cleanup(func() {
		if timer.Stop() {
			return // never started
		}
		select {
		case srv := <-started:
			if srv != nil {
				srv.Close()
			}
		case <-time.After(5 * time.Second):
			t.Error("DHCPv4 server did not report its start within 5s")
		}
	})
}

// The lease the test DHCPv6 server hands out.
var (
	testAddr6 = net.ParseIP("2001:db8::100")
	testDNS6  = net.ParseIP("2001:db8::53")
	// testRootPath6 is the boot file URL (option 59) the DHCPv6 server sends a client that asks for it.
	testRootPath6 = "iscsi:[2001:db8::1]::3260:1:iqn.2025-01.test:disk1"
)

// startDHCP6 starts a DHCPv6 server on the peer end, once the peer's link-local address is usable, and stops
// it when the test ends.
func startDHCP6(t *testing.T, tb *testbed) {
	t.Helper()
	pl := tb.peerLink(t)
	ctx := testContext(t)
	// The peer makes its link-local address only once it has carrier, which needs our end up.
	hl, err := tb.host.LinkByName(ctx, tb.Link)
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.host.SetUp(ctx, hl.Index); err != nil {
		t.Fatal(err)
	}
	if _, err := waitAddress(ctx, tb.peer, pl.Index, func(a Address) bool {
		return a.Prefix.Addr().IsLinkLocalUnicast() && !a.Tentative()
	}); err != nil {
		t.Fatalf("peer link-local address: %v", err)
	}
	handler := dhcp6test.Handler(dhcp6test.Lease{ServerMAC: pl.MAC, Addr: testAddr6, DNS: []net.IP{testDNS6},
		Search: []string{"lab.test"}, BootFileURL: testRootPath6}, t.Errorf)
	var srv *server6.Server
	err = inNS(tb.peerNS, func() error {
		var err error
		srv, err = server6.NewServer(tb.Peer, nil, handler)
		return err
	})
	if err != nil {
		t.Fatalf("start DHCPv6 server: %v", err)
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Close() })
}
