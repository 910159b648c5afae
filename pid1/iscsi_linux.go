package pid1

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/handoff"
	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/plan"
)

// Booted is what Boot brought up.
type Booted struct {
	// Device is the root disk's block device (/dev/sda).
	Device string
	// Resident is the state for the resident loop when the plan asks for
	// one (rd.iscsi.resident), else nil.
	Resident *handoff.ResidentState
	// Records are the node records of the sessions, for
	// InstallNodeRecords.
	Records []handoff.NodeRecord
	// WWIDs are the WWIDs of the dm-multipath maps the boot made, for
	// handoff.InstallWWIDs.
	WWIDs []string
}

// Boot is what an initramfs /init runs to reach an iSCSI root, one step
// after the other: gather the plan from the kernel command line (and the
// firmware table when it asks for one or names no target), bring the
// network up, take the machine's own initiator name when no source gave
// one, add the soft-RoCE devices the plan asks for (iSER over Ethernet),
// log in to every target in parallel through the kernel, write the files
// iscsid and the distribution read after switch_root, and return the root
// disk's block device.
func Boot(ctx context.Context, cmdline string, log io.Writer) (*Booted, error) {
	logf := func(format string, args ...any) { fmt.Fprintf(log, "iscsiboot: "+format+"\n", args...) }

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

	nw, err := boot.StartNetwork(ctx, p, "/", true, logf)
	if err != nil {
		return nil, err
	}
	leases, err := nw.ForLogins(p)
	if err != nil {
		return nil, err
	}
	if p.DHCPRootPath {
		if err := boot.TargetsFromDHCP(p, leases, logf); err != nil {
			return nil, err
		}
	}
	// The last source: the machine's own identity (initiator.go).
	deriveInitiator(p, productUUIDPath, machineIDPath, logf)
	// iSER over plain Ethernet: the RDMA devices rd.iscsi.rxe asks for.
	if err := boot.AddSoftRoCE(ctx, p, logf); err != nil {
		return nil, err
	}

	k, err := boot.OpenKernel(cmp.Or(p.Transport, "tcp"))
	if err != nil {
		return nil, err
	}
	defer k.Close()
	// rd.retry, or Run's default when it is not given (0)
	deadline := time.Duration(p.RetrySeconds) * time.Second
	ro := boot.RunOptions{Deadline: deadline, Log: log, Settled: nw.Done(), Offloaded: k.Offloaded(), Prefix: "iscsiboot"}
	if p.Multipath {
		ro.Grace = boot.MultipathGrace // every path counts (boot/multipath.go)
	}
	if !p.SkipRouteTest && boot.HostRouted(p.Transport) {
		ro.Route = boot.RouteTo
	}
	sessions, err := boot.Run(ctx, p, k.Login, ro)
	if len(sessions) > 0 {
		boot.Summary(log, sessions)
	}
	if err != nil {
		return nil, err
	}
	// The hand-off describes every interface: wait for those still coming
	// up (each bounded by its carrier and DHCP timeouts).
	<-nw.Done()

	// dm-multipath: a disk with several paths is mounted through its map
	// (boot/multipath_linux.go).
	maps := boot.MultipathMaps(p, sessions, logf)
	out := &Booted{Records: handoff.NodeRecords(k, p, sessions), Device: maps.Root(sessions)}
	for _, m := range maps.Maps {
		out.WWIDs = append(out.WWIDs, m.WWID)
	}
	if err := handoff.WriteHandoff("/", p, out.Records); err != nil {
		logf("warning: hand-off files: %v", err)
	}
	if p.Resident {
		st := handoff.NewResidentState(k, p, sessions)
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

// Handoff leaves in the real root, mounted at newRoot, what it needs once
// /init is gone, and is the last thing to run before switch_root: the
// sessions' node records, so that its iscsid adopts them with the timers of
// our login (handoff.InstallNodeRecords); the WWIDs of the boot's
// dm-multipath maps, so that its multipathd keeps them
// (handoff.InstallWWIDs); and, when the plan asked for it
// (rd.iscsi.resident), the resident loop that keeps the sessions until
// iscsid runs (handoff.StartResident). It returns one line of what it did
// for the console; its error is a warning, as the root is up either way.
func (b *Booted) Handoff(newRoot string) (string, error) {
	msg, err := handoff.InstallNodeRecords(newRoot, b.Records)
	// multipathd keeps the maps only with their WWIDs in its file
	if wmsg, werr := handoff.InstallWWIDs(newRoot, b.WWIDs); wmsg != "" || werr != nil {
		msg, err = strings.TrimPrefix(msg+"; "+wmsg, "; "), errors.Join(err, werr)
	}
	if b.Resident == nil {
		return msg, err
	}
	// Last, once nothing else can fail: the loop outlives us.
	if rerr := handoff.StartResident(*b.Resident); rerr != nil {
		return msg, errors.Join(err, rerr)
	}
	return strings.TrimPrefix(msg+"; resident loop started", "; "), err
}

// gatherPlan merges the command line with the firmware table when the
// command line asks for firmware (rd.iscsi.firmware, iscsi_auto) or names
// no target of its own (FirmwareFor).
func gatherPlan(ctx context.Context, cmdline string, logf func(string, ...any)) (*plan.Plan, error) {
	env := map[string]string{}
	if b, err := os.ReadFile(plan.InitramfsToolsFile); err == nil {
		vars, err := plan.ParseInitramfsTools(strings.NewReader(string(b)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", plan.InitramfsToolsFile, err)
		}
		env = vars
	}
	cp, err := plan.FromCmdline(cmdline, plan.WithEnv(env))
	if err != nil {
		return nil, err
	}
	fw, err := plan.FirmwareFor(ctx, cp, plan.FirmwareOptions{Load: func(ctx context.Context) (*ibft.Table, error) { return ibft.Load(ctx) },
		Logf: logf})
	if err != nil {
		return nil, err
	}
	p := plan.Merge(nil, cp, fw)
	plan.PlanMultipath(p, cp, fw)
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
