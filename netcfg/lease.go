package netcfg

import (
	"encoding/binary"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// optionISCSIInitiator is DHCP option 203, the iSCSI initiator IQN. It is a site-specific code (RFC 3942),
// but the one iPXE ("iscsi-initiator-iqn"), dracut and xCAT use; xCAT also sends it as sub-option 203 of
// option 43 (vendor-specific information, RFC 2132, Section 8.4).
const optionISCSIInitiator = 203

// lease4 is what netcfg takes from a DHCPv4 ACK.
type lease4 struct {
	Addr      netip.Prefix
	Routers   []netip.Addr
	Routes    []Route // RFC 3442 classless static routes (option 121), without link index
	DNS       []netip.Addr
	Domain    string
	Search    []string
	Hostname  string
	MTU       int
	RootPath  string
	Initiator string
	Server    netip.Addr
	BootFile  string
	LeaseTime time.Duration
}

// leaseFromACK reads the facts from a DHCPACK. Option values the server got wrong are skipped, not fatal: a
// bad MTU option must not stop a boot that has an address.
func leaseFromACK(ack *dhcpv4.DHCPv4) (lease4, error) {
	var l lease4
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
	l.Domain = ack.DomainName()
	if s := ack.DomainSearch(); s != nil {
		l.Search = s.Labels
	}
	l.Hostname = ack.HostName()
	if b := ack.Options.Get(dhcpv4.OptionInterfaceMTU); len(b) == 2 {
		if mtu := int(binary.BigEndian.Uint16(b)); mtu >= 68 {
			l.MTU = mtu
		}
	}
	l.RootPath = ack.RootPath()
	l.Initiator = string(ack.Options.Get(dhcpv4.GenericOptionCode(optionISCSIInitiator)))
	if l.Initiator == "" {
		l.Initiator = string(vendorSubOption(ack.Options.Get(dhcpv4.OptionVendorSpecificInformation), optionISCSIInitiator))
	}
	if s, ok := netip.AddrFromSlice(ack.ServerIdentifier().To4()); ok {
		l.Server = s
	} else if s, ok := netip.AddrFromSlice(ack.ServerIPAddr.To4()); ok && !s.IsUnspecified() {
		l.Server = s
	}
	l.BootFile = ack.BootFileNameOption()
	if l.BootFile == "" {
		l.BootFile = ack.BootFileName
	}
	l.LeaseTime = ack.IPAddressLeaseTime(0)
	return l, nil
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
