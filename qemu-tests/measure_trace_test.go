package qemutests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tracePhase is one span of a login as the trace shows it: from one step
// to another, per tool. A tool that has no such span has "" for both.
type tracePhase struct {
	name        string
	ours, floor [2]string
}

// Step names the phases use besides the trace's own: the guest script's
// marks before and after the tool, and the last login PDU's answer.
const (
	stepExec  = "<exec>"
	stepBlock = "<block device>"
	// stepQuietDisk is the mark quietLogin stamps when the disk is there.
	stepQuietDisk = "quiet login: block device present"
	stepLastPDU   = "<last login PDU>"
)

// tracePhases cover a login from the script's exec of the tool to the
// script seeing the block device, without gaps, for both tools: the floor
// logs in over its socket before it makes the kernel's session, ours
// makes the session first and logs in through the kernel.
var tracePhases = []tracePhase{
	{name: "fork and exec (busybox timeout, sh, the tool)", ours: [2]string{stepExec, "process start"}, floor: [2]string{stepExec, "process start"}},
	{name: "Go runtime start and package inits", ours: [2]string{"process start", "main entered"}, floor: [2]string{"process start", "main entered"}},
	{name: "flags, initiator name, plan", ours: [2]string{"main entered", "plan ready"}},
	{name: "transport lookup, netlink socket", ours: [2]string{"plan ready", "netlink open"}, floor: [2]string{"main entered", "netlink open"}},
	{name: "run: session check, login config", ours: [2]string{"netlink open", "connecting"}, floor: [2]string{"netlink open", "connecting"}},
	{name: "TCP connect", ours: [2]string{"connecting", "connected"}, floor: [2]string{"connecting", "connected"}},
	{name: "CREATE_SESSION, CREATE_CONN, BIND_CONN", ours: [2]string{"connected", "connection bound"}, floor: [2]string{stepLastPDU, "connection bound"}},
	{name: "identity and timer params (iscsid's adoption)", ours: [2]string{"connection bound", "identity params set"}},
	{name: "login round trips", ours: [2]string{"identity params set", stepLastPDU}, floor: [2]string{"connected", stepLastPDU}},
	{name: "negotiated params, START_CONN", ours: [2]string{stepLastPDU, "connection started"}, floor: [2]string{"connection bound", "connection started"}},
	{name: "scan of the target until its disk opens", ours: [2]string{"connection started", "disk node present"}, floor: [2]string{"connection started", "disk node present"}},
	{name: "the run's end (other LUNs of a named one)", ours: [2]string{"disk node present", "logins done"}},
	{name: "session lines, node records for iscsid", ours: [2]string{"logins done", "records left"}},
	{name: "to exit", ours: [2]string{"records left", "exit"}, floor: [2]string{"disk node present", "exit"}},
	{name: "exit until the script sees the block device", ours: [2]string{"exit", stepBlock}, floor: [2]string{"exit", stepBlock}},
}

// quietLogin wraps a login command for the timed boots: its output goes to
// a file in the guest's tmpfs, and only once the root's block device is
// there (stamped, polled as GuestScript polls it) is the file printed.
// Every line on the serial console costs the guest's one CPU under TCG,
// and the trace's twenty would slow the very login they time; the three
// tools are treated alike.
func quietLogin(login string) string {
	return `{ ` + login + `; } >/tmp/login.out 2>&1; rc=$?
i=0; while [ ! -b /dev/sda ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
` + stamp(stepQuietDisk) + `
cat /tmp/login.out; exit $rc`
}

// traceTimes returns a boot's trace steps with the guest script's marks
// and the last login PDU's answer under their names above.
func traceTimes(vm *VM) (map[string]time.Duration, error) {
	at, order := traceOf(consoleText(vm))
	exec, ok1 := vm.Mark(StepLoginExec)
	blk, ok2 := vm.Mark(stepQuietDisk)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%s: no login marks:\n%s", vm.Name, FormatMarks(vm.Marks()))
	}
	at[stepExec], at[stepBlock] = exec.Uptime, blk.Uptime
	for _, s := range order {
		if strings.HasPrefix(s, "login PDU answered ") {
			at[stepLastPDU] = at[s]
		}
	}
	return at, nil
}

// phaseTimes splits a boot's login into tracePhases for tool ("ours" or
// "floor"); a missing step is an error.
func phaseTimes(tool string, at map[string]time.Duration) ([]time.Duration, error) {
	out := make([]time.Duration, len(tracePhases))
	for i, p := range tracePhases {
		span := p.ours
		if tool == "floor" {
			span = p.floor
		}
		if span[0] == "" {
			continue
		}
		a, ok1 := at[span[0]]
		b, ok2 := at[span[1]]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: phase %q: no step %q or %q in the trace", tool, p.name, span[0], span[1])
		}
		out[i] = b - a
	}
	return out, nil
}

// floorGuest logs in with the floor program (qemu-tests/internal/floor),
// tracing its steps: the target's first disk, as ours and open-iscsi's
// iscsistart take it from the same flags.
func floorGuest(bin string, port int) Guest {
	return Guest{
		Login:    fmt.Sprintf("ISCSIBOOT_TRACE=1 floor %s %s %s:%d", InitiatorIQN, TargetIQN, HostAddr, port),
		Binaries: map[string]string{"/sbin/floor": bin},
	}
}

// tracedGuests are the guests BenchmarkTrace times: our drop-in from
// iscsistart's flags with the trace on, and the floor.
func tracedGuests(ours, floor string, port int) map[string]Guest {
	og := OurGuest(ours, port, "")
	og.Login = quietLogin("ISCSIBOOT_TRACE=1 " + strings.SplitN(og.Login, ";", 2)[0])
	fg := floorGuest(floor, port)
	fg.Login = quietLogin(fg.Login)
	return map[string]Guest{"ours": og, "floor": fg}
}

// TestTracePhases boots the floor program and our drop-in as
// BenchmarkTrace does: both reach the root disk, and each one's trace
// covers every phase of its login, in order, without a gap.
func TestTracePhases(t *testing.T) {
	for _, tool := range []string{"floor", "ours"} {
		t.Run(tool, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			h := New(t)
			bins := map[string]string{"ours": "", "floor": ""}
			if tool == "ours" {
				bins[tool] = h.GoBinary(ctx, "./cmd/iscsistart", "dropin")
			} else {
				bins[tool] = h.GoBinary(ctx, "./qemu-tests/internal/floor")
			}
			disk := h.RootDisk(ctx)
			srv := h.Target(ctx, 1, TargetIQN, disk.Path)
			g := tracedGuests(bins["ours"], bins["floor"], srv.Port)[tool]
			vm := h.Boot(ctx, BootOptions{Initrd: h.Initramfs(ctx, g)})
			vm.Expect(ctx, disk.Marker)
			vm.Wait(ctx)
			at, err := traceTimes(vm)
			if err != nil {
				t.Fatal(err)
			}
			ps, err := phaseTimes(tool, at)
			if err != nil {
				t.Fatalf("%v; console:\n%s", err, consoleText(vm))
			}
			var sum time.Duration
			for i, d := range ps {
				// The script's marks read /proc/uptime, to 10 ms.
				span, least := tracePhases[i].ours, time.Duration(0)
				if tool == "floor" {
					span = tracePhases[i].floor
				}
				if span[0] == stepExec || span[1] == stepBlock {
					least = -10 * time.Millisecond
				}
				if d < least {
					t.Errorf("phase %q of %v: the steps came out of order (all: %v)", tracePhases[i].name, d, ps)
				}
				sum += d
			}
			if want := at[stepBlock] - at[stepExec]; sum != want {
				t.Errorf("phases sum to %v, want exec -> block device %v", sum, want)
			}
			t.Logf("%s: exec -> block device %v, phases %v", tool, sum, ps)
		})
	}
}

// BenchmarkTrace is issue 16's trace of the boot path: BENCH_N boots
// each, one VM at a time, interleaved, of our drop-in with
// ISCSIBOOT_TRACE=1, of the floor (the simplest client of the same kernel
// interface, qemu-tests/internal/floor) and of Debian's iscsistart, on the
// same kernel and target, each tool's output kept off the console until
// its disk is there (quietLogin). BENCH_OUT/trace.txt gets each phase's median
// in-guest time for ours and the floor and what ours spends above it,
// exec -> block device for all three and the ratios; trace-raw.txt every
// boot's trace.
func BenchmarkTrace(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	h := New(b)
	ours := h.GoBinary(ctx, "./cmd/iscsistart", "dropin") // the build that stands in for Debian's
	floor := h.GoBinary(ctx, "./qemu-tests/internal/floor")
	disk := h.RootDisk(ctx)
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	guests := tracedGuests(ours, floor, srv.Port)
	dg := ReferenceGuest(srv.Port)
	dg.Login = quietLogin(dg.Login)
	guests["debian"] = dg
	og := guests["ours"]
	tools := []string{"ours", "floor", "debian"}
	images := map[string]string{}
	for name, g := range guests {
		images[name] = h.Initramfs(ctx, g)
	}
	phases := map[string][][]time.Duration{} // tool -> phase -> boots
	total := map[string][]time.Duration{}    // exec -> block device
	disk0 := map[string][]time.Duration{}    // exec -> disk node present (trace)
	var raw strings.Builder
	for i := 0; i < b.N; i++ {
		for _, name := range tools {
			vm := h.benchBoot(ctx, name, i, BootOptions{Initrd: images[name]}, disk.Marker, &raw)
			total[name] = append(total[name], since(b, vm, StepLoginExec, stepQuietDisk))
			if name == "debian" {
				continue
			}
			at, err := traceTimes(vm)
			if err != nil {
				b.Fatal(err)
			}
			ps, err := phaseTimes(name, at)
			if err != nil {
				b.Fatal(err)
			}
			if phases[name] == nil {
				phases[name] = make([][]time.Duration, len(tracePhases))
			}
			for j, d := range ps {
				phases[name][j] = append(phases[name][j], d)
			}
			disk0[name] = append(disk0[name], at["disk node present"]-at[stepExec])
			for _, l := range strings.Split(consoleText(vm), "\n") {
				if strings.Contains(l, "iscsiboot-trace[") {
					fmt.Fprintf(&raw, "  %s\n", strings.TrimSpace(l))
				}
			}
		}
	}

	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	var tab strings.Builder
	fmt.Fprintf(&tab, "where the login's time goes (medians of %d boots each, in-guest CLOCK_MONOTONIC, ms; process start to 10 ms;\n", b.N)
	fmt.Fprintf(&tab, "each tool's output to a file, printed once the disk is there: console lines cost the guest's CPU)\n")
	fmt.Fprintf(&tab, "%-48s %9s %9s %9s\n", "phase", "ours", "floor", "above")
	var sumO, sumF float64
	for j, p := range tracePhases {
		o, f := ms(median(phases["ours"][j])), ms(median(phases["floor"][j]))
		sumO, sumF = sumO+o, sumF+f
		fmt.Fprintf(&tab, "%-48s %9.1f %9.1f %+9.1f\n", p.name, o, f, o-f)
	}
	fmt.Fprintf(&tab, "%-48s %9.1f %9.1f %+9.1f\n", "sum of the medians", sumO, sumF, sumO-sumF)
	fmt.Fprintln(&tab)
	to, tf, td := median(total["ours"]), median(total["floor"]), median(total["debian"])
	fmt.Fprintf(&tab, "%-48s %9.3fs\n", "ours: exec -> root disk node opens (trace)", median(disk0["ours"]).Seconds())
	fmt.Fprintf(&tab, "%-48s %9.3fs\n", "floor: exec -> root disk node opens (trace)", median(disk0["floor"]).Seconds())
	fmt.Fprintf(&tab, "%-48s %9s %9s %9s\n", "exec -> block device (script)", "ours", "floor", "iscsistart")
	fmt.Fprintf(&tab, "%-48s %8.3fs %8.3fs %8.3fs\n", "", to.Seconds(), tf.Seconds(), td.Seconds())
	fmt.Fprintf(&tab, "%-48s %9.2f   (goal <= 0.2)\n", "ratio ours / iscsistart", to.Seconds()/td.Seconds())
	fmt.Fprintf(&tab, "%-48s %9.2f   (goal <= 1.5)\n", "ratio ours / floor", to.Seconds()/tf.Seconds())
	fmt.Fprintf(&tab, "%-48s %9.2f\n", "ratio floor / iscsistart", tf.Seconds()/td.Seconds())
	// The package inits of ours, in the guest, in a boot of their own:
	// inittrace's lines on the serial console would slow the timed ones.
	it := og
	it.Login = `GODEBUG=inittrace=1 iscsistart --version 2>&1 | awk '/^init /{c+=$5; by+=$8; a+=$10; n++; ` +
		`if ($5 > mc) {mc=$5; m=$2}} END {printf "INITTRACE: %d packages, %.3f ms, %d bytes, %d allocations; slowest %s %.3f ms\n", n, c, by, a, m, mc}'; ` + og.Login
	vm := h.Boot(ctx, BootOptions{Name: "inittrace", Initrd: h.Initramfs(ctx, it)})
	l, err := vm.WaitFor(ctx, "INITTRACE: ")
	if err != nil {
		b.Fatal(err)
	}
	vm.Wait(ctx)
	_, inits, _ := strings.Cut(l.Text, "INITTRACE: ")
	fmt.Fprintf(&tab, "\n%-48s %s\n", "package inits of ours in the guest", inits)
	fmt.Fprintf(&tab, "%-48s\n", "  (GODEBUG=inittrace=1 iscsistart --version, one boot)")
	b.Logf("\n%s", tab.String())
	if out := os.Getenv("BENCH_OUT"); out != "" {
		os.MkdirAll(out, 0o755)
		os.WriteFile(filepath.Join(out, "trace.txt"), []byte(tab.String()), 0o644)
		os.WriteFile(filepath.Join(out, "trace-raw.txt"), []byte(raw.String()), 0o644)
	}
	b.ReportMetric(to.Seconds()/td.Seconds(), "ours/iscsistart")
	b.ReportMetric(to.Seconds()/tf.Seconds(), "ours/floor")
}
