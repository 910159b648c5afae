package netcfg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Configure configures every interface of ifs in parallel and returns one Result per interface, in the
// order of ifs. When some fail, the others are still configured: the error joins one *InterfaceError per
// failed interface and the Results of the failed ones hold only what was done. Name servers of all
// interfaces, and those of WithNameservers, go into one resolv.conf at the end (see WithResolvConf).
func Configure(ctx context.Context, ifs []Interface, opts ...Option) ([]Result, error) {
	o := defaults()
	for _, opt := range opts {
		opt(&o)
	}
	// Bad input fails before anything on the machine changes.
	var errs []error
	for i := range ifs {
		if err := ifs[i].check(); err != nil {
			errs = append(errs, &InterfaceError{Iface: ifs[i].label(), Step: "check", Err: err})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	results := make([]Result, len(ifs))
	errs = make([]error, len(ifs))
	var wg sync.WaitGroup
	for i := range ifs {
		wg.Go(func() {
			results[i], errs[i] = configureOne(ctx, &ifs[i], &o)
			if errs[i] == nil && o.onUp != nil {
				o.onUp(results[i])
			}
		})
	}
	wg.Wait()

	var dns []netip.Addr
	var search []string
	hostname := ""
	for i, r := range results {
		if errs[i] != nil {
			continue
		}
		dns = append(dns, r.DNS...)
		search = append(search, r.Search...)
		if r.Domain != "" {
			search = append(search, r.Domain)
		}
		if hostname == "" {
			hostname = r.Hostname
		}
	}
	dns = append(dns, o.nameservers...)
	if o.resolvConf != "" && len(dns) > 0 {
		if err := WriteResolvConf(o.resolvConf, dns, search); err != nil {
			errs = append(errs, err)
		}
	}
	if o.setHostname && hostname != "" {
		if err := unix.Sethostname([]byte(hostname)); err != nil {
			errs = append(errs, fmt.Errorf("set host name %q: %w", hostname, err))
		}
	}
	return results, errors.Join(errs...)
}

// configureOne brings one interface up: find the link, MTU, up, carrier, VLAN, then the method's addresses,
// routes and name servers.
func configureOne(ctx context.Context, ifc *Interface, o *options) (Result, error) {
	start := time.Now()
	r := Result{Method: ifc.Method, Name: ifc.label(), MAC: ifc.MAC}
	if r.Method == "" {
		r.Method = MethodStatic
	}
	fail := func(step string, err error) (Result, error) {
		r.Took = time.Since(start)
		return r, &InterfaceError{Iface: r.Name, Step: step, Err: err}
	}
	c, err := Dial()
	if err != nil {
		return fail("", err)
	}
	defer c.Close()

	l, err := findLink(ctx, c, ifc)
	if err != nil {
		return fail("", err)
	}
	if ifc.SetMAC != "" {
		mac, _ := net.ParseMAC(ifc.SetMAC) // check() parsed it
		if err := c.SetHardwareAddr(ctx, l.Index, mac); err != nil {
			return fail("", err)
		}
		l.MAC = mac
	}
	r.Name, r.MAC = l.Name, macString(l.MAC)
	if ifc.MTU != 0 {
		if err := c.SetMTU(ctx, l.Index, ifc.MTU); err != nil {
			return fail("", err)
		}
		r.MTU = ifc.MTU
	}
	if err := c.SetUp(ctx, l.Index); err != nil {
		return fail("", err)
	}
	t0 := time.Now()
	if err := c.WaitCarrier(ctx, l.Index, o.carrierTimeout); err != nil {
		return fail("", err)
	}
	o.logf("%s: carrier after %s", l.Name, time.Since(t0).Round(time.Millisecond))
	if ifc.VLAN != 0 {
		v, err := c.AddVLAN(ctx, l, ifc.VLAN, ifc.VLANName)
		if err != nil {
			return fail("VLAN", err)
		}
		if err := c.SetUp(ctx, v.Index); err != nil {
			return fail("VLAN", err)
		}
		// A VLAN has carrier when its parent has; the wait only covers the moment until the kernel says so.
		if err := c.WaitCarrier(ctx, v.Index, o.carrierTimeout); err != nil {
			return fail("VLAN", err)
		}
		l = v
		r.Name = v.Name
	}

	r.Hostname = ifc.Hostname
	r.DNS = append(r.DNS, ifc.DNS...)
	r.Search = append(r.Search, ifc.Search...)
	// Static addresses and gateway apply with every method: "dhcp" plus a fixed extra address is legitimate.
	for _, p := range ifc.Addresses {
		if err := c.AddAddress(ctx, l.Index, p); err != nil {
			return fail("address", err)
		}
		r.Addresses = append(r.Addresses, p)
	}
	if ifc.Gateway.IsValid() {
		if err := c.AddRoute(ctx, defaultRoute(ifc.Gateway, l.Index)); err != nil {
			return fail("route", err)
		}
		r.Gateway = ifc.Gateway
	}

	switch r.Method {
	case MethodDHCP:
		if err := applyDHCP4(ctx, c, l, ifc, o, &r); err != nil {
			return fail("DHCPv4", err)
		}
	case MethodDHCP6:
		l6, err := dhcp6(ctx, c, l, o)
		if err != nil {
			return fail("DHCPv6", err)
		}
		for _, d := range l6.Dropped {
			o.logf("%s: warning: %s", l.Name, d)
		}
		// DHCPv6 gives an address without a prefix length (RFC 8415, Section 21.6); the on-link prefix comes from
		// router advertisements, so the address itself is a /128, as systemd-networkd and dhclient add it.
		p := netip.PrefixFrom(l6.Addr, 128)
		if err := c.AddAddress(ctx, l.Index, p); err != nil {
			return fail("DHCPv6", err)
		}
		r.Addresses = append(r.Addresses, p)
		r.DNS = append(r.DNS, l6.DNS...)
		r.Search = append(r.Search, l6.Search...)
		r.LeaseTime = l6.LeaseTime
		r.RootPath = l6.RootPath
		r.BootFile = l6.BootFile
	case MethodAuto6:
		a, gw, err := slaac(ctx, c, l, o)
		if err != nil {
			return fail("SLAAC", err)
		}
		r.Addresses = append(r.Addresses, a.Prefix)
		if !r.Gateway.IsValid() {
			r.Gateway = gw
		}
	}
	r.DNS = dedup(r.DNS)
	r.Search = dedup(r.Search)
	r.Uptime = uptime()
	r.Took = time.Since(start)
	o.logf("%s: configured %v in %s", r.Name, r.Addresses, r.Took.Round(time.Millisecond))
	return r, nil
}

// applyDHCP4 gets a lease and applies it: MTU (option 26, unless the plan set one), address, routes (option
// 121 replaces option 3, RFC 3442; no default route with NoDefaultRoute), and records the rest in r.
func applyDHCP4(ctx context.Context, c *Conn, l Link, ifc *Interface, o *options, r *Result) error {
	lease, err := dhcp4(ctx, l, ifc.Hostname, o)
	if err != nil {
		return err
	}
	for _, d := range lease.Dropped {
		o.logf("%s: warning: %s", l.Name, d)
	}
	if lease.MTU != 0 && ifc.MTU == 0 && lease.MTU != l.MTU {
		if err := c.SetMTU(ctx, l.Index, lease.MTU); err != nil {
			return err
		}
		r.MTU = lease.MTU
	}
	if err := c.AddAddress(ctx, l.Index, lease.Addr); err != nil {
		return err
	}
	r.Addresses = append(r.Addresses, lease.Addr)
	routes := lease.Routes
	if len(routes) == 0 && len(lease.Routers) > 0 && !ifc.Gateway.IsValid() {
		routes = []Route{defaultRoute(lease.Routers[0], l.Index)}
	}
	for _, rt := range routes {
		if ifc.NoDefaultRoute && rt.Dst.Bits() == 0 {
			o.logf("%s: default route via %s from DHCP not set: another interface is the boot device", l.Name, rt.Gateway)
			continue
		}
		rt.Index = l.Index
		if err := c.AddRoute(ctx, rt); err != nil {
			return err
		}
		if rt.Dst.Bits() == 0 && !r.Gateway.IsValid() {
			r.Gateway = rt.Gateway
		}
	}
	r.DNS = append(r.DNS, lease.DNS...)
	r.Search = append(r.Search, lease.Search...)
	r.Domain = lease.Domain
	if r.Hostname == "" {
		r.Hostname = lease.Hostname
	}
	r.RootPath = lease.RootPath
	r.InitiatorName = lease.Initiator
	r.ServerAddr = lease.Server
	r.BootFile = lease.BootFile
	r.LeaseTime = lease.LeaseTime
	return nil
}

// findLink selects the link by MAC address when one is given, by name otherwise.
func findLink(ctx context.Context, c *Conn, ifc *Interface) (Link, error) {
	if ifc.MAC != "" {
		mac, err := net.ParseMAC(ifc.MAC)
		if err != nil {
			return Link{}, fmt.Errorf("%w %q", errBadMAC, ifc.MAC)
		}
		return c.LinkByMAC(ctx, mac)
	}
	return c.LinkByName(ctx, ifc.Name)
}

func defaultRoute(gw netip.Addr, idx int) Route {
	dst := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	if gw.Is6() {
		dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return Route{Dst: dst, Gateway: gw, Index: idx}
}

// HostRoute adds a route to the single address target through link (and gateway, when valid), as
// open-iscsi's iscsistart -N does for the iSCSI target: the target stays reachable whatever default route
// the real root installs later. An existing identical route is success.
func HostRoute(ctx context.Context, link string, target, gateway netip.Addr) error {
	if !target.IsValid() {
		return fmt.Errorf("host route: %w: no target", errBadAddress)
	}
	c, err := Dial()
	if err != nil {
		return err
	}
	defer c.Close()
	l, err := c.LinkByName(ctx, link)
	if err != nil {
		return &InterfaceError{Iface: link, Step: "host route", Err: err}
	}
	rt := Route{Dst: netip.PrefixFrom(target, target.BitLen()), Index: l.Index}
	if gateway.IsValid() && gateway != target {
		rt.Gateway = gateway
	}
	if err := c.AddRoute(ctx, rt); err != nil {
		return &InterfaceError{Iface: link, Step: "host route", Err: err}
	}
	return nil
}

// RenameLink gives the link with hardware address mac the name name (dracut's ifname=), unless it has it
// already. It runs before the link is configured, while it is down: the kernel refuses (EBUSY) to rename most
// links that are up.
func RenameLink(ctx context.Context, mac, name string) error {
	hw, err := net.ParseMAC(mac)
	if err != nil {
		return fmt.Errorf("rename link: %w %q", errBadMAC, mac)
	}
	if !validLinkName(name) {
		return fmt.Errorf("rename link %s: %w %q", hw, errBadName, name)
	}
	c, err := Dial()
	if err != nil {
		return err
	}
	defer c.Close()
	l, err := c.LinkByMAC(ctx, hw)
	if err != nil {
		return &InterfaceError{Iface: hw.String(), Step: "rename", Err: err}
	}
	if l.Name == name {
		return nil
	}
	if err := c.SetName(ctx, l.Index, name); err != nil {
		return &InterfaceError{Iface: l.Name, Step: "rename", Err: err}
	}
	return nil
}

// uptime is the system uptime, for Debian's UPTIME key; 0 if the kernel will not say.
func uptime() time.Duration {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0
	}
	return time.Duration(si.Uptime) * time.Second
}
