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

// initImageCPUs are the guest sizes BenchmarkInitImage boots: one vCPU, as every other test, and two, where
// our /init's modules load side by side and the file systems' load runs beside the login (pid1.StartModules),
// as on any server. Both images get the same machine.
var initImageCPUs = []int{1, 2}

// BenchmarkInitImage boots our whole /init image (iscsiboot-initramfs -init, the README's command) and the
// busybox + open-iscsi iscsistart image with the same modules, BENCH_N times each, interleaved, on one and on
// two vCPUs, and reports the median time from QEMU's start to the root's own init (host clock) and the
// in-guest steps of ours. Run it with make bench; BENCH_OUT receives init.txt and init-raw-marks.txt.
func BenchmarkInitImage(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	h := New(b)
	disk := h.RootDisk(ctx)
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	ref := ReferenceGuest(srv.Port)
	ref.Gzip = true
	images := []struct{ name, initrd, append string }{
		{"busybox + iscsistart", h.Initramfs(ctx, ref), ""},
		{"iscsiboot /init", ourInitramfs(ctx, b, h),
			fmt.Sprintf("ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off netroot=iscsi:%s::%d::%s", HostAddr, srv.Port, TargetIQN)},
	}
	rootInit := map[string][]time.Duration{} // by "cpus name"
	var raw strings.Builder
	for i := 0; i < b.N; i++ {
		for _, cpus := range initImageCPUs {
			for j, im := range images {
				vm := h.Boot(ctx, BootOptions{Name: fmt.Sprintf("init%d-%d-%d", cpus, j, i), Initrd: im.initrd,
					Append: im.append, ExtraArgs: []string{"-smp", fmt.Sprint(cpus)}, Timeout: 2 * time.Minute})
				m, err := rootInitMark(ctx, vm, disk.Marker)
				if err != nil {
					b.Fatalf("%s, %d vCPUs: %v; console:\n%s", im.name, cpus, err, consoleText(vm))
				}
				k := fmt.Sprintf("%d %s", cpus, im.name)
				rootInit[k] = append(rootInit[k], m.Host)
				fmt.Fprintf(&raw, "%s, %d vCPUs, run %d:\n%s", im.name, cpus, i, FormatMarks(vm.Marks()))
				if j == 1 {
					for _, l := range strings.Split(consoleText(vm), "\n") {
						if strings.Contains(l, "iscsiboot: [") {
							fmt.Fprintf(&raw, "  %s\n", strings.TrimSpace(l))
						}
					}
				}
			}
		}
	}

	var t strings.Builder
	fmt.Fprintf(&t, "our /init image against busybox + open-iscsi iscsistart, same modules, QEMU TCG; QEMU start -> root init, host clock, median of %d boots each\n", b.N)
	fmt.Fprintf(&t, "%-6s %22s %18s %7s %s\n", "vCPUs", images[0].name, images[1].name, "ratio", "goal (issue 16): <= 0.7")
	for _, cpus := range initImageCPUs {
		theirs, ours := median(rootInit[fmt.Sprintf("%d %s", cpus, images[0].name)]), median(rootInit[fmt.Sprintf("%d %s", cpus, images[1].name)])
		r := ours.Seconds() / theirs.Seconds()
		goal := "yes"
		if r > 0.7 {
			goal = "NO"
		}
		fmt.Fprintf(&t, "%-6d %21.3fs %17.3fs %7.2f %s\n", cpus, theirs.Seconds(), ours.Seconds(), r, goal)
		b.ReportMetric(r, fmt.Sprintf("init-ratio-%dcpu", cpus))
	}
	b.Logf("\n%s", t.String())
	if out := os.Getenv("BENCH_OUT"); out != "" {
		os.MkdirAll(out, 0o755)
		os.WriteFile(filepath.Join(out, "init.txt"), []byte(t.String()), 0o644)
		os.WriteFile(filepath.Join(out, "init-raw-marks.txt"), []byte(raw.String()), 0o644)
	}
}
