package boot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/internal/esc"
	"github.com/iscsiboot/iscsiboot/netcfg"
	"golang.org/x/sys/unix"
)

// Booted is what Boot brought up.
type Booted struct {
	// Device is the root disk's block device (/dev/sda).
	Device string
	// Resident is the state for the resident loop when the plan asks for
	// one (rd.iscsi.resident), else nil.
	Resident *ResidentState
	// Records are the node records of the sessions, for
	// InstallNodeRecords.
	Records []NodeRecord
}

// Boot is what an initramfs /init runs to reach an iSCSI root, one step
// after the other: gather the plan from the kernel command line (and the
// firmware table when it asks for one or names no target), bring the
// network up, log in to every target in parallel through the kernel,
// write the files iscsid and the distribution read after switch_root,
// and return the root disk's block device.
func Boot(ctx context.Context, cmdline string, log io.Writer) (*Booted, error) {
	logf := func(format string, args ...any) { fmt.Fprintf(log, "iscsiboot: "+format+"\n", args...) }
	WarmRandom()

	p, err := gatherPlan(ctx, cmdline, logf)
	if err != nil {
		return nil, err
	}
	for _, w := range p.Warnings {
		logf("warning: %s", w)
	}
	if len(p.Targets) == 0 && !p.DHCPRootPath {
		return nil, fmt.Errorf("nothing to boot: no netroot=, root=iscsi:, rd.iscsi.* target or iBFT")
	}

	nw, err := startNetwork(ctx, p, "/", true, logf)
	if err != nil {
		return nil, err
	}
	leases, err := nw.forLogins(p)
	if err != nil {
		return nil, err
	}
	if p.DHCPRootPath {
		if err := targetsFromDHCP(p, leases, logf); err != nil {
			return nil, err
		}
	}

	k, err := OpenKernel(first(p.Transport, "tcp"))
	if err != nil {
		return nil, err
	}
	defer k.Close()
	// rd.retry, or Run's default when it is not given (0)
	deadline := time.Duration(p.RetrySeconds) * time.Second
	ro := RunOptions{Deadline: deadline, Log: log, Settled: nw.done}
	if p.Multipath {
		ro.Grace = MultipathGrace // every path counts (boot/multipath.go)
	}
	if !p.SkipRouteTest && hostRouted(p.Transport) {
		ro.Route = routeTo
	}
	sessions, err := Run(ctx, p, k.Login, ro)
	if len(sessions) > 0 {
		Summary(log, sessions)
	}
	if err != nil {
		return nil, err
	}
	// The hand-off describes every interface: wait for those still coming
	// up (each bounded by its carrier and DHCP timeouts).
	<-nw.done

	// dm-multipath: a disk with several paths is mounted through its map
	// (boot/multipath_linux.go).
	maps := MultipathMaps(p, sessions, logf)
	out := &Booted{Records: k.NodeRecords(p, sessions), Device: maps.Root(sessions)}
	if err := WriteHandoff("/", p, out.Records); err != nil {
		logf("warning: hand-off files: %v", err)
	}
	if p.Resident {
		st := k.ResidentState(p, sessions)
		st.SetMaps(maps)
		out.Resident = &st
	}
	if out.Device != "" {
		return out, nil
	}
	for _, s := range sessions {
		if s.Device != "" {
			out.Device = "/dev/" + s.Device
			return out, nil
		}
	}
	return nil, fmt.Errorf("logged in, but no session brought a disk")
}

// gatherPlan merges the command line with the firmware table when the
// command line asks for firmware (rd.iscsi.firmware, iscsi_auto) or names
// no target of its own (FirmwareFor).
func gatherPlan(ctx context.Context, cmdline string, logf func(string, ...any)) (*Plan, error) {
	env := map[string]string{}
	if b, err := os.ReadFile(InitramfsToolsFile); err == nil {
		vars, err := ParseInitramfsTools(strings.NewReader(string(b)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", InitramfsToolsFile, err)
		}
		env = vars
	}
	cp, err := FromCmdline(cmdline, WithEnv(env))
	if err != nil {
		return nil, err
	}
	fw, err := FirmwareFor(ctx, cp, FirmwareOptions{Load: func(ctx context.Context) (*ibft.Table, error) { return ibft.Load(ctx) },
		Logf: logf})
	if err != nil {
		return nil, err
	}
	p := Merge(nil, cp, fw)
	PlanMultipath(p, cp, fw)
	if p.Initiator == "" {
		p.Initiator = readInitiatorName("/etc/iscsi/initiatorname.iscsi")
	}
	return p, nil
}

// readInitiatorName reads InitiatorName= from an open-iscsi
// initiatorname.iscsi file, or "".
func readInitiatorName(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "InitiatorName="); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// NetworkUp configures the plan's interfaces and waits for all of them
// (see netInterfaces for which), as iscsistart -N does: it leaves the host
// name alone. The boot goes on when at least one of them came up.
func NetworkUp(ctx context.Context, p *Plan, logf func(string, ...any)) ([]netcfg.Result, error) {
	n, err := startNetwork(ctx, p, "/", false, logf)
	if err != nil {
		return nil, err
	}
	return n.wait()
}

// network is the plan's interfaces coming up in the background.
type network struct {
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

// startNetwork names the links ifname= names, then starts configuring the
// plan's interfaces in parallel, with the host name when setHostname says
// so. A link that cannot be renamed is still configured, by its MAC
// address, under the kernel's name.
func startNetwork(ctx context.Context, p *Plan, root string, setHostname bool, logf func(string, ...any)) (*network, error) {
	n := &network{first: make(chan struct{}), done: make(chan struct{}), root: root, begin: time.Now()}
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
	for _, i := range ifs {
		if i.Method != MethodStatic {
			logf("kernel random pool ready after %v (DHCP needs it)", waitRandom().Round(time.Millisecond))
			break
		}
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
func (n *network) finish(p *Plan, res []netcfg.Result, err error, logf func(string, ...any)) {
	var up []netcfg.Result
	for _, r := range res {
		if r.Name == "" || len(r.Addresses) == 0 {
			continue
		}
		up = append(up, r)
		logf("%s: %s %v gateway %v (%.0f ms)", r.Name, r.Method, r.Addresses, r.Gateway, float64(r.Took.Microseconds())/1000)
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
func (n *network) wait() ([]netcfg.Result, error) {
	<-n.done
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.up, n.err
}

// forLogins waits until the logins can start. As dracut without
// rd.iscsi.waitnet, that is once one interface is up, the others coming up
// meanwhile; with it (WaitNet), once every one is. A root from DHCP needs
// the leases, and a portal's host name the name servers, of them all. It
// returns the interfaces up when every one is done, else none.
func (n *network) forLogins(p *Plan) ([]netcfg.Result, error) {
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

// routeTo returns an error wrapping errNoRoute when the kernel has no route
// to the portal's address, what dracut asks "ip route get" before a login
// (rd.iscsi.testroute). Connecting a UDP socket looks the route up and sends
// nothing. A host name is not tested, as in dracut, nor is any other
// failure taken for a missing route.
func routeTo(ctx context.Context, p Portal) error {
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

// targetsFromDHCP adds the targets of the leases' root-path (option 17),
// for netroot=dhcp / root=dhcp, and takes the initiator name from DHCP
// (option 203) when nothing else gave one. With bootdev=, only the boot
// device's lease counts, as in dracut. Both come from any machine on the
// segment: netcfg drops values of the wrong syntax, and so does this step
// again, with a warning, since a Result is plain data anyone can fill.
func targetsFromDHCP(p *Plan, leases []netcfg.Result, logf func(string, ...any)) error {
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
			logf("warning: %s: DHCP option 17 (root path) dropped: %s: %v", r.Name, esc.Clip(r.RootPath, 255), errControlByte)
			continue
		}
		t, err := TargetFromRootPath(r.RootPath, r.ServerAddr)
		if err != nil {
			return fmt.Errorf("%s: DHCP root-path: %w", r.Name, err)
		}
		logf("%s: root-path %s from DHCP server %s", r.Name, t.Name, r.ServerAddr)
		t.Iface = r.Name
		p.Targets = append(p.Targets, t)
	}
	switch {
	case len(p.Targets) > 0:
		return nil
	case p.BootDev != "":
		return fmt.Errorf("netroot=dhcp, but bootdev=%s got no iSCSI root-path (option 17) from DHCP", esc.String(p.BootDev))
	}
	return fmt.Errorf("netroot=dhcp, but no DHCP server sent an iSCSI root-path (option 17)")
}

// namedPortals tells whether a portal is a host name, which needs the name
// servers of every interface to resolve.
func namedPortals(p *Plan) bool {
	for _, t := range p.Targets {
		for _, pt := range t.Portals {
			if _, err := netip.ParseAddr(pt.Address); err != nil {
				return true
			}
		}
	}
	return false
}

// hostRouted tells whether a transport's connections follow the kernel's
// routes, so that a missing route means a login cannot work: tcp and iser
// do; offload cards (bnx2i, qedi, ...) have a network of their own.
func hostRouted(transport string) bool {
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
