package boot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/internal/esc"
	"github.com/iscsiboot/iscsiboot/netcfg"
	"golang.org/x/sys/unix"
)

// Network is the plan's interfaces coming up in the background.
type Network struct {
	first chan struct{} // closed when the first interface is up, or all are done
	done  chan struct{} // closed when every interface is up or has failed
	root  string        // where the hand-off files go: "/" at boot
	begin time.Time
	mu    sync.Mutex
	up    []netcfg.Result // the interfaces that came up, set before done is closed
	err   error
}

// netOptions are what the boot asks of netcfg.Configure besides the
// interfaces.
type netOptions struct {
	nameservers []netip.Addr // nameserver=
	setHostname bool         // the kernel's host name from ip= or DHCP, as dracut sets it
	onUp        func(netcfg.Result)
	logf        func(string, ...any)
}

// configure is netcfg.Configure; tests bring interfaces up without a
// network through it.
var configure = func(ctx context.Context, ifs []netcfg.Interface, o netOptions) ([]netcfg.Result, error) {
	return netcfg.Configure(ctx, ifs, netcfg.WithLogf(o.logf), netcfg.WithNameservers(o.nameservers),
		netcfg.WithSetHostname(o.setHostname), netcfg.WithOnUp(o.onUp))
}

// StartNetwork waits, at most LinkWait, for the links the plan's
// interfaces need, names the links ifname= names, then starts configuring the
// plan's interfaces in parallel, with the host name when setHostname says
// so. A link that cannot be renamed is still configured, by its MAC
// address, under the kernel's name.
func StartNetwork(ctx context.Context, p *plan.Plan, root string, setHostname bool, logf func(string, ...any)) (*Network, error) {
	n := &Network{first: make(chan struct{}), done: make(chan struct{}), root: root, begin: time.Now()}
	// A NIC whose driver is missing never appears: say so once (links.go).
	if err := waitLinks(ctx, p, LinkWait, listLinks); err != nil {
		return nil, err
	}
	for _, i := range p.Interfaces {
		if i.Name != "" && i.MAC != "" && i.VLAN == 0 {
			if err := netcfg.RenameLink(ctx, i.MAC, i.Name); err != nil {
				logf("warning: %v", err)
			}
		}
	}
	ifs, err := netInterfaces(p, physicalLinks())
	if err != nil {
		return nil, err
	}
	if len(ifs) == 0 {
		close(n.first)
		close(n.done)
		return n, nil
	}
	var firstOnce sync.Once
	onUp := func(r netcfg.Result) {
		if len(r.Addresses) > 0 {
			firstOnce.Do(func() { close(n.first) })
		}
	}
	go func() {
		res, err := configure(ctx, ifs, netOptions{nameservers: p.Nameservers, setHostname: setHostname, onUp: onUp, logf: logf})
		n.finish(p, res, err, logf)
		close(n.done) // before first: waitFirst then sees that none came up
		firstOnce.Do(func() { close(n.first) })
	}()
	return n, nil
}

// finish records the interfaces that came up and writes their hand-off
// files, the boot device's last, so that open-iscsi.interface names it.
func (n *Network) finish(p *plan.Plan, res []netcfg.Result, err error, logf func(string, ...any)) {
	var up []netcfg.Result
	for _, r := range res {
		if r.Name == "" || len(r.Addresses) == 0 {
			continue
		}
		up = append(up, r)
		gw := ""
		if r.Gateway.IsValid() { // DHCPv6 and SLAAC leave the routes to router advertisements
			gw = " gateway " + r.Gateway.String()
		}
		logf("%s: %s %v%s (%.0f ms)", r.Name, r.Method, r.Addresses, gw, float64(r.Took.Microseconds())/1000)
	}
	for _, last := range []bool{false, true} {
		for _, r := range up {
			if (r.Name == p.BootDev) != last {
				continue
			}
			if werr := netcfg.WriteHandoff(n.root, r); werr != nil {
				logf("warning: %v", werr)
			}
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.up = up
	switch {
	case len(up) == 0:
		n.err = fmt.Errorf("network: no interface came up after %v: %w", time.Since(n.begin).Round(time.Millisecond), err)
	case err != nil:
		logf("warning: %v", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
}

// wait waits for every interface and returns those that came up.
func (n *Network) wait() ([]netcfg.Result, error) {
	<-n.done
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.up, n.err
}

// ForLogins waits until the logins can start. As dracut without
// rd.iscsi.waitnet, that is once one interface is up, the others coming up
// meanwhile; with it (WaitNet), once every one is. A root from DHCP needs
// the leases, and a portal's host name the name servers, of them all. It
// returns the interfaces up when every one is done, else none.
func (n *Network) ForLogins(p *plan.Plan) ([]netcfg.Result, error) {
	if p.WaitNet || p.DHCPRootPath || namedPortals(p) {
		return n.wait()
	}
	<-n.first
	select {
	case <-n.done:
		return n.wait()
	default:
		return nil, nil
	}
}

// RouteTo returns an error wrapping errNoRoute when the kernel has no route
// to the portal's address, what dracut asks "ip route get" before a login
// (rd.iscsi.testroute). Connecting a UDP socket looks the route up and sends
// nothing. A host name is not tested, as in dracut, nor is any other
// failure taken for a missing route.
func RouteTo(ctx context.Context, p plan.Portal) error {
	a, err := netip.ParseAddr(p.Address)
	if err != nil {
		return nil
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", netip.AddrPortFrom(a, uint16(p.Port)).String())
	switch {
	case err == nil:
		c.Close()
	case errors.Is(err, unix.ENETUNREACH), errors.Is(err, unix.EHOSTUNREACH):
		return fmt.Errorf("%w to %s", errNoRoute, a)
	}
	return nil
}

// TargetsFromDHCP adds the targets of the leases' root-path (DHCPv4 option
// 17, or an iscsi: boot file URL, DHCPv6 option 59),
// for netroot=dhcp / root=dhcp, and takes the initiator name from DHCP
// (option 203) when nothing else gave one. With bootdev=, only the boot
// device's lease counts, as in dracut. Both come from any machine on the
// segment: netcfg drops values of the wrong syntax, and so does this step
// again, with a warning, since a Result is plain data anyone can fill.
func TargetsFromDHCP(p *plan.Plan, leases []netcfg.Result, logf func(string, ...any)) error {
	for _, r := range leases {
		if p.BootDev != "" && r.Name != p.BootDev {
			continue
		}
		if p.Initiator == "" && r.InitiatorName != "" {
			if err := core.CheckName(r.InitiatorName); err != nil {
				logf("warning: %s: DHCP option 203 (iSCSI initiator name) dropped: %v", r.Name, err)
			} else {
				p.Initiator = r.InitiatorName
				logf("%s: initiator name %s from DHCP", r.Name, r.InitiatorName)
			}
		}
		if r.RootPath == "" {
			continue
		}
		if !esc.Printable(r.RootPath) {
			logf("warning: %s: DHCP option 17 (root path) dropped: %s: holds a control byte or invalid UTF-8", r.Name, esc.Clip(r.RootPath, 255))
			continue
		}
		t, err := plan.TargetFromRootPath(r.RootPath, r.ServerAddr)
		if err != nil {
			return fmt.Errorf("%s: DHCP root-path: %w", r.Name, err)
		}
		if r.ServerAddr.IsValid() {
			logf("%s: root-path %s from DHCP server %s", r.Name, t.Name, r.ServerAddr)
		} else { // DHCPv6 names its server by a DUID, not an address
			logf("%s: root-path %s from %s", r.Name, t.Name, r.Method)
		}
		t.Iface = r.Name
		p.Targets = append(p.Targets, t)
	}
	switch {
	case len(p.Targets) > 0:
		return nil
	case p.BootDev != "":
		return fmt.Errorf("netroot=dhcp, but bootdev=%s got no iSCSI root-path (DHCPv4 option 17, DHCPv6 option 59) from DHCP", esc.String(p.BootDev))
	}
	return fmt.Errorf("netroot=dhcp, but no DHCP server sent an iSCSI root-path (DHCPv4 option 17, DHCPv6 option 59)")
}

// namedPortals tells whether a portal is a host name, which needs the name
// servers of every interface to resolve.
func namedPortals(p *plan.Plan) bool {
	for _, t := range p.Targets {
		for _, pt := range t.Portals {
			if _, err := netip.ParseAddr(pt.Address); err != nil {
				return true
			}
		}
	}
	return false
}

// HostRouted tells whether a transport's connections follow the kernel's
// routes, so that a missing route means a login cannot work: tcp and iser
// do; offload cards (bnx2i, qedi, ...) have a network of their own.
func HostRouted(transport string) bool {
	return transport == "" || transport == "tcp" || transport == "iser"
}

// physicalLinks lists the network interfaces backed by a device, sorted.
func physicalLinks() []string {
	ents, _ := os.ReadDir("/sys/class/net")
	var out []string
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join("/sys/class/net", e.Name(), "device")); err == nil {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// Done is closed when every interface is up or has failed.
func (n *Network) Done() <-chan struct{} { return n.done }
