//go:build !dropin

package netcfg

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv6"
)

// optionISCSIInitiator is DHCP option 203, the iSCSI initiator IQN. It is a site-specific code (RFC 3942),
// but the one iPXE ("iscsi-initiator-iqn"), dracut and xCAT use; xCAT also sends it as sub-option 203 of
// option 43 (vendor-specific information, RFC 2132, Section 8.4).
const optionISCSIInitiator = 203

// leaseFromACK reads the facts from a DHCPACK. Option values the server got wrong are skipped, not fatal: a
// bad MTU option must not stop a boot that has an address. A string option that fails its syntax is left
// out of the lease and named in Dropped.
func leaseFromACK(ack *dhcpv4.DHCPv4) (lease4, error) {
	var l lease4
	strs := optionStrings{proto: "DHCPv4"}
	ip, ok := netip.AddrFromSlice(ack.YourIPAddr.To4())
	if !ok || ip.IsUnspecified() {
		return lease4{}, errNoAddress
	}
	bits := 0
	if m := ack.SubnetMask(); m != nil {
		if ones, size := m.Size(); size == 32 {
			bits = ones
		}
	}
	if bits == 0 {
		bits = classfulBits(ip)
	}
	l.Addr = netip.PrefixFrom(ip, bits)
	l.Routers = addrs4(ack.Router())
	for _, r := range ack.ClasslessStaticRoute() {
		if r == nil || r.Dest == nil {
			continue
		}
		dst, ok := netip.AddrFromSlice(r.Dest.IP.To4())
		ones, size := r.Dest.Mask.Size()
		if !ok || size != 32 {
			continue
		}
		rt := Route{Dst: netip.PrefixFrom(dst, ones).Masked()}
		if gw, ok := netip.AddrFromSlice(r.Router.To4()); ok && !gw.IsUnspecified() {
			rt.Gateway = gw
		}
		l.Routes = append(l.Routes, rt)
	}
	l.DNS = addrs4(ack.DNS())
	l.Domain = strs.keep("option 15 (domain name)", ack.DomainName(), checkHostName)
	if s := ack.DomainSearch(); s != nil {
		l.Search = strs.keepAll("option 119 (domain search)", s.Labels, checkHostName)
	}
	l.Hostname = strs.keep("option 12 (host name)", ack.HostName(), checkHostName)
	if b := ack.Options.Get(dhcpv4.OptionInterfaceMTU); len(b) == 2 {
		if mtu := int(binary.BigEndian.Uint16(b)); mtu >= 68 {
			l.MTU = mtu
		}
	}
	l.RootPath = strs.keep("option 17 (root path)", ack.RootPath(), checkPrintable)
	l.Initiator = strs.keep("option 203 (iSCSI initiator name)",
		string(ack.Options.Get(dhcpv4.GenericOptionCode(optionISCSIInitiator))), checkInitiator)
	if l.Initiator == "" {
		l.Initiator = strs.keep("option 43 (sub-option 203, iSCSI initiator name)",
			string(vendorSubOption(ack.Options.Get(dhcpv4.OptionVendorSpecificInformation), optionISCSIInitiator)), checkInitiator)
	}
	if s, ok := netip.AddrFromSlice(ack.ServerIdentifier().To4()); ok {
		l.Server = s
	} else if s, ok := netip.AddrFromSlice(ack.ServerIPAddr.To4()); ok && !s.IsUnspecified() {
		l.Server = s
	}
	l.BootFile = strs.keep("option 67 (boot file name)", ack.BootFileNameOption(), checkPrintable)
	if l.BootFile == "" {
		l.BootFile = strs.keep("file field (boot file name)", ack.BootFileName, checkPrintable)
	}
	l.LeaseTime = ack.IPAddressLeaseTime(0)
	l.Dropped = strs.dropped
	return l, nil
}

// leaseFromReply reads the facts from a DHCPv6 REPLY: the first IA_NA address, name servers (option 23),
// the domain search list (option 24, each name checked as in DHCPv4) and the boot file URL (option 59), which
// DHCPv6 uses where DHCPv4 has a root path (option 17) and a boot file (option 67): an iscsi: URL there is the
// root path, as UEFI's iSCSI driver (EDK2 IScsiDxe) and iPXE read it.
func leaseFromReply(reply *dhcpv6.Message) (lease6, error) {
	var l6 lease6
	strs := optionStrings{proto: "DHCPv6"}
	if ia := reply.Options.OneIANA(); ia != nil {
		if a := ia.Options.OneAddress(); a != nil {
			l6.Addr, _ = netip.AddrFromSlice(a.IPv6Addr.To16())
			l6.LeaseTime = a.ValidLifetime
		}
	}
	if !l6.Addr.IsValid() || l6.Addr.IsUnspecified() {
		return lease6{}, errNoAddress
	}
	for _, ip := range reply.Options.DNS() {
		if a, ok := netip.AddrFromSlice(ip.To16()); ok {
			l6.DNS = append(l6.DNS, a)
		}
	}
	if s := reply.Options.DomainSearchList(); s != nil {
		l6.Search = strs.keepAll("option 24 (domain search)", s.Labels, checkHostName)
	}
	l6.BootFile = strs.keep("option 59 (boot file URL)", reply.Options.BootFileURL(), checkPrintable)
	if strings.HasPrefix(l6.BootFile, "iscsi:") {
		l6.RootPath = l6.BootFile
	}
	l6.Dropped = strs.dropped
	return l6, nil
}

// vendorSubOption returns sub-option code of an option 43 value encoded as code/length/value triplets
// (RFC 2132, Section 8.4), or nil. The bytes come from the network: a truncated triplet ends the search.
func vendorSubOption(b []byte, code byte) []byte {
	for len(b) >= 2 {
		c, n := b[0], int(b[1])
		if c == 0 { // pad
			b = b[1:]
			continue
		}
		if c == 255 { // end
			return nil
		}
		if len(b) < 2+n {
			return nil
		}
		if c == code {
			return b[2 : 2+n]
		}
		b = b[2+n:]
	}
	return nil
}

// classfulBits is the prefix length of ip's class, as klibc's ipconfig guesses when a server sends no mask.
func classfulBits(ip netip.Addr) int {
	switch a := ip.As4(); {
	case a[0] < 128:
		return 8
	case a[0] < 192:
		return 16
	default:
		return 24
	}
}

func addrs4(ips []net.IP) []netip.Addr {
	var out []netip.Addr
	for _, ip := range ips {
		if a, ok := netip.AddrFromSlice(ip.To4()); ok && !a.IsUnspecified() {
			out = append(out, a)
		}
	}
	return out
}
