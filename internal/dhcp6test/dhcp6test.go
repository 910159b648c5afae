// Package dhcp6test is the DHCPv6 server side of the tests: one handler for
// insomniacslk/dhcp's server6 that leases one address the way a managed
// network's server does, for netcfg's namespace tests and qemu-tests' guest
// boots alike. Tests import it; no binary does.
package dhcp6test

import (
	"net"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/dhcpv6/server6"
	"github.com/insomniacslk/dhcp/iana"
)

// Lease is what Handler gives every client.
type Lease struct {
	ServerMAC net.HardwareAddr // the server's DUID-LL
	Addr      net.IP           // the IA_NA address
	DNS       []net.IP         // option 23, if any
	Search    []string         // option 24, if any
	// BootFileURL is option 59, sent only to a client whose option request
	// option names it, as ISC dhcpd does; "" sends none.
	BootFileURL string
}

// Handler answers SOLICIT with ADVERTISE and REQUEST with REPLY, both with
// the lease; other messages get no answer. errorf reports what the server
// could not do (t.Errorf).
func Handler(l Lease, errorf func(format string, args ...any)) server6.Handler {
	serverID := &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: l.ServerMAC}
	return func(conn net.PacketConn, peer net.Addr, m dhcpv6.DHCPv6) {
		msg, err := m.GetInnerMessage()
		if err != nil {
			errorf("DHCPv6 server: %v", err)
			return
		}
		var iaid [4]byte
		if ia := msg.Options.OneIANA(); ia != nil {
			iaid = ia.IaId
		}
		mods := []dhcpv6.Modifier{
			dhcpv6.WithServerID(serverID),
			dhcpv6.WithIANA(dhcpv6.OptIAAddress{IPv6Addr: l.Addr, PreferredLifetime: time.Hour, ValidLifetime: 2 * time.Hour}),
			dhcpv6.WithIAID(iaid),
		}
		if len(l.DNS) > 0 {
			mods = append(mods, dhcpv6.WithDNS(l.DNS...))
		}
		if len(l.Search) > 0 {
			mods = append(mods, dhcpv6.WithDomainSearchList(l.Search...))
		}
		if l.BootFileURL != "" && msg.IsOptionRequested(dhcpv6.OptionBootfileURL) {
			mods = append(mods, dhcpv6.WithOption(dhcpv6.OptBootFileURL(l.BootFileURL)))
		}
		var reply *dhcpv6.Message
		switch msg.MessageType {
		case dhcpv6.MessageTypeSolicit:
			reply, err = dhcpv6.NewAdvertiseFromSolicit(msg, mods...)
		case dhcpv6.MessageTypeRequest:
			reply, err = dhcpv6.NewReplyFromMessage(msg, mods...)
		default:
			return
		}
		if err != nil {
			errorf("DHCPv6 server: build reply: %v", err)
			return
		}
		if _, err := conn.WriteTo(reply.ToBytes(), peer); err != nil {
			errorf("DHCPv6 server: send reply: %v", err)
		}
	}
}
