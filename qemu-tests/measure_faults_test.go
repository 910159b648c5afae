package qemutests

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/internal/tgtd"
)

// silentPortal listens on 127.0.0.1 in the test's namespace and accepts
// connections without ever answering: a portal whose target hangs, or a
// middlebox that holds the connection, as a login through it meets it. It
// returns the port; everything closes with the test.
func silentPortal(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// faultRun is one boot of BenchmarkFaultBoot.
type faultRun struct {
	disk, exit time.Duration // from -b's exec to the root disk, and to -b's exit
	rc         int
	ok         bool // the root disk appeared
}

// BenchmarkFaultBoot measures time to the root disk when a path is dead or
// the target is late, our iscsistart against Debian's in the same run,
// same kernel, target and firmware table (-N, then -b: a table is how
// Debian's iscsistart takes two portals), boots interleaved, one VM at a
// time:
//
//   - live only: the table names the root target's portal alone (the base);
//   - refused portal: the table names the same target first at a portal
//     that refuses connections, then at the live one;
//   - silent portal: the same with a portal that accepts and never answers
//     (a hung target);
//   - target 5 s late: the table's only portal refuses until tgtd starts on
//     it, 5 s after -b's exec.
//
// For each it reports the median time from -b's exec to the root disk and
// to -b's exit (when a distribution's script goes on to mount the root),
// and how many boots reached the root at all. Goals (issue #7): with a
// dead portal, root within the live-only time + 0.5 s; with the late
// target, within 5 s + 1 s.
func BenchmarkFaultBoot(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	h := New(b)
	tools := map[string]string{"ours": h.GoBinary(ctx, "./cmd/iscsistart"), "debian": "/usr/sbin/iscsistart"}
	disk := h.RootDisk(ctx)
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	silent := silentPortal(b)
	// A port no tgtd of this binary takes by itself (they count up from
	// 3260): nothing listens there until the late target starts.
	const latePort = 3298
	const lateBy = 5 * time.Second
	scenarios := []struct {
		name    string
		targets []ibft.Target
		late    bool
	}{
		{"live only", []ibft.Target{{Port: uint16(srv.Port), Name: TargetIQN}}, false},
		{"refused portal", []ibft.Target{{Port: 1, Name: TargetIQN}, {Port: uint16(srv.Port), Name: TargetIQN}}, false},
		{"silent portal", []ibft.Target{{Port: uint16(silent), Name: TargetIQN}, {Port: uint16(srv.Port), Name: TargetIQN}}, false},
		{"target 5 s late", []ibft.Target{{Port: latePort, Name: TargetIQN}}, true},
	}
	images := map[string]string{}
	for _, tool := range []string{"ours", "debian"} {
		g := timedFirmwareGuest(tools[tool], "")
		g.LoginTimeout = 60 * time.Second
		images[tool] = h.Initramfs(ctx, g)
	}
	runs := map[string]map[string][]faultRun{}
	var raw strings.Builder
	for si, sc := range scenarios {
		dir := filepath.Join(h.Dir, fmt.Sprintf("table%d", si))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		table := writeIBFT(b, dir, sc.targets...)
		runs[sc.name] = map[string][]faultRun{}
		for i := 0; i < b.N; i++ {
			for _, tool := range []string{"ours", "debian"} {
				vm := h.Boot(ctx, BootOptions{Name: fmt.Sprintf("%s-%d-%s", tool, i, strings.ReplaceAll(sc.name, " ", "-")),
					Initrd: images[tool], ExtraArgs: []string{"-acpitable", "sig=iBFT,file=" + table}})
				var late *tgtd.Server
				var up time.Duration
				if sc.late {
					if _, err := vm.WaitFor(ctx, stepFWLogin); err != nil {
						b.Fatal(err)
					}
					exec, _ := vm.Mark(stepFWLogin)
					select {
					case <-time.After(time.Until(vm.Started().Add(exec.Host + lateBy))):
					case <-ctx.Done():
						b.Fatal(ctx.Err())
					}
					late = tgtd.Start(ctx, b, tgtd.WithPort(latePort))
					if err := late.NewDiskTarget(ctx, 1, TargetIQN, disk.Path); err != nil {
						b.Fatal(err)
					}
					up = time.Since(vm.Started())
				}
				vm.Expect(ctx, StepLoginExit)
				vm.Wait(ctx)
				if late != nil {
					late.Stop(ctx)
				}
				r := faultRun{rc: -1}
				if exec, ok := vm.Mark(stepFWLogin); ok {
					if d, ok := vm.Mark(stepLiveDisk); ok {
						r.disk, r.ok = d.Uptime-exec.Uptime, true
						if sc.late {
							// from the target's start, on the host clock
							r.disk = d.Host - up
						}
					}
					if x, ok := vm.Mark(StepLoginExit); ok {
						r.exit = x.Uptime - exec.Uptime
					}
				}
				if rc, err := vm.LoginExitCode(); err == nil {
					r.rc = rc
				}
				runs[sc.name][tool] = append(runs[sc.name][tool], r)
				fmt.Fprintf(&raw, "%s %s run %d: disk %v exit %v rc %d\n%s", sc.name, tool, i, r.disk, r.exit, r.rc, FormatMarks(vm.Marks()))
			}
		}
	}

	summary := func(rs []faultRun) (disk, exit time.Duration, ok int, rcs string) {
		var ds, xs []time.Duration
		seen := map[int]int{}
		for _, r := range rs {
			if r.ok {
				ds = append(ds, r.disk)
				ok++
			}
			xs = append(xs, r.exit)
			seen[r.rc]++
		}
		if len(ds) > 0 {
			disk = median(ds)
		}
		var parts []string
		for rc, n := range seen {
			parts = append(parts, fmt.Sprintf("%d×%d", n, rc))
		}
		return disk, median(xs), ok, strings.Join(parts, ",")
	}
	goal := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "NO"
	}
	baseDisk, _, _, _ := summary(runs["live only"]["ours"])
	var tab strings.Builder
	fmt.Fprintf(&tab, "%-18s %-7s %10s %10s %8s %-10s %s\n", fmt.Sprintf("scenario (%d each)", b.N), "tool", "-b->disk", "-b->exit", "root ok", "exit codes", "goal (ours)")
	for _, sc := range scenarios {
		for _, tool := range []string{"ours", "debian"} {
			d, x, ok, rcs := summary(runs[sc.name][tool])
			g := ""
			if tool == "ours" {
				switch {
				case sc.late:
					g = "disk within 1 s of the target's start: " + goal(ok == b.N && d <= time.Second)
				case sc.name != "live only":
					g = "disk and exit within live-only + 0.5 s: " + goal(ok == b.N && d <= baseDisk+500*time.Millisecond && x <= baseDisk+500*time.Millisecond)
				}
			}
			ds := "-"
			if ok > 0 {
				ds = fmt.Sprintf("%.3fs", d.Seconds())
				if sc.late {
					ds = "+" + ds
				}
			}
			fmt.Fprintf(&tab, "%-18s %-7s %10s %9.3fs %5d/%-2d %-10s %s\n", sc.name, tool, ds, x.Seconds(), ok, b.N, rcs, g)
		}
	}
	tab.WriteString("late target: -b->disk is from tgtd's start (5 s after -b's exec) on the host clock; -b->exit from -b's exec\n")
	b.Logf("\n%s", tab.String())
	if out := os.Getenv("BENCH_OUT"); out != "" {
		os.MkdirAll(out, 0o755)
		os.WriteFile(filepath.Join(out, "faults.txt"), []byte(tab.String()), 0o644)
		os.WriteFile(filepath.Join(out, "faults-raw-marks.txt"), []byte(raw.String()), 0o644)
	}
}
