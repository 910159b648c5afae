package boot

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/internal/esc"
	"github.com/iscsiboot/iscsiboot/netcfg"
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

	leases, err := NetworkUp(ctx, p, logf)
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
	sessions, err := Run(ctx, p, k.Login, RunOptions{Deadline: deadline, Log: log})
	if len(sessions) > 0 {
		Summary(log, sessions)
	}
	if err != nil {
		return nil, err
	}

	out := &Booted{Records: k.NodeRecords(p, sessions)}
	if err := WriteHandoff("/", p, out.Records); err != nil {
		logf("warning: hand-off files: %v", err)
	}
	if p.Resident {
		st := k.ResidentState(p, sessions)
		out.Resident = &st
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

// NetworkUp configures the plan's interfaces. One that names no link
// (ip=dhcp) stands for every network card the machine has, as in dracut;
// the boot goes on when at least one of them came up.
func NetworkUp(ctx context.Context, p *Plan, logf func(string, ...any)) ([]netcfg.Result, error) {
	var ifs []netcfg.Interface
	for _, i := range p.Interfaces {
		if i.Method == "" || i.Method == MethodIBFT {
			continue
		}
		n := netcfg.Interface{Name: i.Name, MAC: i.MAC, Method: i.Method, Addresses: i.Addresses,
			Gateway: i.Gateway, DNS: i.DNS, VLAN: i.VLAN, MTU: i.MTU, Hostname: i.Hostname}
		if n.Method == MethodEither6 || n.Method == MethodLink6 {
			n.Method = netcfg.MethodAuto6
		}
		if n.Name == "" && n.MAC == "" {
			for _, name := range physicalLinks() {
				n.Name = name
				ifs = append(ifs, n)
			}
			continue
		}
		ifs = append(ifs, n)
	}
	if len(ifs) == 0 {
		return nil, nil
	}
	for _, i := range ifs {
		if i.Method != MethodStatic {
			logf("kernel random pool ready after %v (DHCP needs it)", waitRandom().Round(time.Millisecond))
			break
		}
	}
	begin := time.Now()
	res, err := netcfg.Configure(ctx, ifs, netcfg.WithLogf(func(f string, a ...any) { logf(f, a...) }))
	var up []netcfg.Result
	for _, r := range res {
		if r.Name == "" || len(r.Addresses) == 0 {
			continue
		}
		up = append(up, r)
		logf("%s: %s %v gateway %v (%.0f ms)", r.Name, r.Method, r.Addresses, r.Gateway, float64(r.Took.Microseconds())/1000)
		if werr := netcfg.WriteHandoff("/", r); werr != nil {
			logf("warning: %v", werr)
		}
	}
	if len(up) == 0 {
		return nil, fmt.Errorf("network: no interface came up after %v: %w", time.Since(begin).Round(time.Millisecond), err)
	}
	if err != nil {
		logf("warning: %v", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return up, nil
}

// targetsFromDHCP adds the targets of the leases' root-path (option 17),
// for netroot=dhcp / root=dhcp, and takes the initiator name from DHCP
// (option 203) when nothing else gave one. Both come from any machine on
// the segment: netcfg drops values of the wrong syntax, and so does this
// step again, with a warning, since a Result is plain data anyone can fill.
func targetsFromDHCP(p *Plan, leases []netcfg.Result, logf func(string, ...any)) error {
	for _, r := range leases {
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
	if len(p.Targets) == 0 {
		return fmt.Errorf("netroot=dhcp, but no DHCP server sent an iSCSI root-path (option 17)")
	}
	return nil
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
