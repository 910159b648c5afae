package netcfg

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// The methods an Interface can ask for, as in the boot plan's "method" field.
const (
	MethodStatic = "static" // Addresses, Gateway and DNS as given
	MethodDHCP   = "dhcp"   // DHCPv4
	MethodDHCP6  = "dhcp6"  // DHCPv6 (stateful)
	MethodAuto6  = "auto6"  // wait for a SLAAC address from router advertisements
)

// Interface is one interface to configure, as plain data from the boot plan.
type Interface struct {
	Name      string         // link name; with MAC set as well, MAC wins and Name is only reported
	MAC       string         // link MAC address ("52:54:00:12:34:56"); empty to select by Name
	Method    string         // MethodStatic, MethodDHCP, MethodDHCP6 or MethodAuto6; empty means static
	Addresses []netip.Prefix // static addresses with their prefix length
	Gateway   netip.Addr     // static default gateway; invalid for none
	DNS       []netip.Addr   // static name servers, used before any DHCP-supplied ones
	Search    []string       // static DNS search domains
	VLAN      int            // 1-4094: configure the sub-interface "<link>.<VLAN>" instead of the link; 0 for none
	VLANName  string         // the VLAN link's name (vlan=vlan5:eth0); empty for VLANName(link, VLAN)
	MTU       int            // 0 keeps the link's MTU (or the DHCP option 26 value)
	SetMAC    string         // hardware address to put on the link before it goes up (ip=...:<macaddr>); empty keeps it
	Hostname  string         // static host name, and the name sent in DHCP option 12
	// NoDefaultRoute takes no default route from DHCP: another interface is the boot device, whose
	// routes count (dracut's bootdev=). A static Gateway is still set.
	NoDefaultRoute bool
}

// Result is what one interface ended up with.
type Result struct {
	Name          string         // the configured link: the VLAN sub-interface when a VLAN was asked for
	MAC           string         // its hardware address
	Method        string         // the method used
	Addresses     []netip.Prefix // addresses added
	Gateway       netip.Addr     // default gateway, if any
	DNS           []netip.Addr   // name servers
	Domain        string         // DNS domain (DHCP option 15)
	Search        []string       // DNS search list (DHCP option 119, DHCPv6 option 24, or static)
	Hostname      string         // host name (DHCP option 12 or static)
	MTU           int            // MTU set, 0 if unchanged
	RootPath      string         // DHCPv4 option 17, e.g. "iscsi:10.0.0.1::3260:1:iqn.2025-01.test:disk1", or an iscsi: DHCPv6 option 59
	InitiatorName string         // DHCP option 203 (or sub-option 203 of option 43), the iSCSI initiator IQN
	ServerAddr    netip.Addr     // the DHCP server (option 54), for ROOTSERVER
	BootFile      string         // the DHCP boot file name (option 67 or the file field; DHCPv6 option 59, a URL)
	LeaseTime     time.Duration  // DHCP lease time, 0 for static
	Uptime        time.Duration  // system uptime when configuration finished, for Debian's UPTIME key
	Took          time.Duration  // wall time from start to configured
}

// Route is a unicast route in the main table.
type Route struct {
	Dst      netip.Prefix // destination; 0.0.0.0/0 or ::/0 for a default route
	Gateway  netip.Addr   // next hop; invalid for a directly connected destination
	Index    int          // output link
	Protocol uint8        // RTPROT_*: who made it; AddRoute uses RTPROT_BOOT
}

// Option configures Configure and the functions next to it.
type Option func(*options)

type options struct {
	carrierTimeout time.Duration
	dhcpTimeout    time.Duration
	dhcpFirstWait  time.Duration
	slaacTimeout   time.Duration
	resolvConf     string
	nameservers    []netip.Addr
	setHostname    bool
	logf           func(format string, args ...any)
	onUp           func(Result)
}

func defaults() options {
	return options{
		carrierTimeout: 10 * time.Second,
		dhcpTimeout:    30 * time.Second,
		dhcpFirstWait:  time.Second,
		slaacTimeout:   10 * time.Second,
		resolvConf:     "/etc/resolv.conf",
		logf:           func(string, ...any) {},
	}
}

// WithCarrierTimeout bounds the wait for carrier on each link (default 10 s).
func WithCarrierTimeout(d time.Duration) Option { return func(o *options) { o.carrierTimeout = d } }

// WithDHCPTimeout bounds a whole DHCPv4 or DHCPv6 exchange, retries included (default 30 s).
func WithDHCPTimeout(d time.Duration) Option { return func(o *options) { o.dhcpTimeout = d } }

// WithDHCPFirstWait sets how long to wait for an answer to the first DISCOVER or SOLICIT before sending the
// next one; the wait doubles with each retry up to 4 s (default 1 s: at boot a quick second try beats
// RFC 2131's 4 s).
func WithDHCPFirstWait(d time.Duration) Option { return func(o *options) { o.dhcpFirstWait = d } }

// WithSLAACTimeout bounds the wait for a SLAAC address with MethodAuto6 (default 10 s).
func WithSLAACTimeout(d time.Duration) Option { return func(o *options) { o.slaacTimeout = d } }

// WithResolvConf sets the file name servers are written to (default /etc/resolv.conf); "" writes none.
func WithResolvConf(path string) Option { return func(o *options) { o.resolvConf = path } }

// WithNameservers adds name servers for every interface (dracut's nameserver=): they go into resolv.conf after
// those the interfaces have, static or from DHCP, as dracut appends them.
func WithNameservers(addrs []netip.Addr) Option {
	return func(o *options) { o.nameservers = append(o.nameservers, addrs...) }
}

// WithOnUp has Configure call f with each interface's Result as soon as that interface is configured, while the
// others may still be coming up: a boot can start its logins on the first one. f runs on the interface's own
// goroutine, so calls may overlap.
func WithOnUp(f func(Result)) Option { return func(o *options) { o.onUp = f } }

// WithSetHostname makes Configure set the kernel host name from the first Result that has one, as klibc's
// ipconfig does. Off by default: it changes the machine, not just an interface.
func WithSetHostname(on bool) Option { return func(o *options) { o.setHostname = on } }

// WithLogf receives one line per step ("eth0: carrier after 12ms"), e.g. for the console with -d.
func WithLogf(f func(format string, args ...any)) Option { return func(o *options) { o.logf = f } }

// check rejects an Interface that cannot be configured, before anything on the machine changes.
func (ifc *Interface) check() error {
	if ifc.Name == "" && ifc.MAC == "" {
		return errNoLinkSelector
	}
	if ifc.MAC != "" {
		if _, err := net.ParseMAC(ifc.MAC); err != nil {
			return fmt.Errorf("%w %q", errBadMAC, ifc.MAC)
		}
	}
	if len(ifc.Name) > 15 {
		return fmt.Errorf("%w %q: longer than 15 bytes", errBadName, ifc.Name)
	}
	switch ifc.Method {
	case "", MethodStatic, MethodDHCP, MethodDHCP6, MethodAuto6:
	default:
		return fmt.Errorf("%w %q, want static, dhcp, dhcp6 or auto6", errBadMethod, ifc.Method)
	}
	if (ifc.Method == MethodDHCP || ifc.Method == MethodDHCP6) && !HasDHCP {
		return fmt.Errorf("%w: method %s", ErrNoDHCP, ifc.Method)
	}
	if ifc.SetMAC != "" {
		if _, err := net.ParseMAC(ifc.SetMAC); err != nil {
			return fmt.Errorf("%w %q", errBadMAC, ifc.SetMAC)
		}
	}
	if ifc.VLAN < 0 || ifc.VLAN > 4094 {
		return fmt.Errorf("%w: %d", errBadVLAN, ifc.VLAN)
	}
	if ifc.VLANName != "" && (ifc.VLAN == 0 || !validLinkName(ifc.VLANName)) {
		return fmt.Errorf("%w %q for VLAN %d", errBadName, ifc.VLANName, ifc.VLAN)
	}
	if ifc.MTU != 0 && (ifc.MTU < 68 || ifc.MTU > 65535) {
		return fmt.Errorf("%w: %d", errBadMTU, ifc.MTU)
	}
	for _, p := range ifc.Addresses {
		if !p.IsValid() || p.Addr().IsUnspecified() {
			return fmt.Errorf("%w %v", errBadAddress, p)
		}
	}
	return nil
}

// label names an interface in errors before its link is known.
func (ifc *Interface) label() string {
	if ifc.Name != "" {
		return ifc.Name
	}
	return ifc.MAC
}

// validLinkName checks a Linux interface name as the kernel does (net/core/dev.c, dev_valid_name): 1-15 bytes,
// not "." or "..", no '/', ':' or white space.
func validLinkName(s string) bool {
	return s != "" && len(s) <= 15 && s != "." && s != ".." &&
		!strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '/' || r == ':' || r >= 0x7f })
}

// VLANName is the name given to VLAN id on parent: "eth0.100", as vconfig and dracut name them. Names longer
// than the kernel's 15 bytes are cut from the parent's end.
func VLANName(parent string, id int) string {
	suffix := "." + strconv.Itoa(id)
	if len(parent)+len(suffix) > 15 {
		parent = parent[:15-len(suffix)]
	}
	return parent + suffix
}
