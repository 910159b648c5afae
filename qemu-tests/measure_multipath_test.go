package qemutests

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkMultipathBoot measures what a multipath root costs at login, in
// the same run as a single path and as Debian's iscsistart: login exec
// until the root block device exists (in-guest clock), for
//
//   - ours, one path: one drop-in call, /dev/sda;
//   - ours, two paths: the drop-in called once per portal as open-iscsi's
//     is (two IPv4 portals of one target, so IPv6's address wait is not
//     in the figure), the second with --multipath, until the map
//     /dev/mapper/WWID exists;
//   - Debian's iscsistart, one path, /dev/sda (it makes no map).
//
// One VM at a time, boots interleaved. Run it with make bench (BENCH_N
// boots each); the table goes to BENCH_OUT/multipath.txt.
func BenchmarkMultipathBoot(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	h := New(b)
	ours := h.GoBinary(ctx, "./cmd/iscsistart")
	disk := h.RootDisk(ctx)
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	// A second portal of the target on another port of the namespace's
	// 127.0.0.1, which the guest reaches as 10.0.2.2 too.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port2 := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if _, err := srv.Tgtadm(ctx, "--op", "new", "--mode", "portal", "--param", fmt.Sprintf("portal=127.0.0.1:%d", port2)); err != nil {
		b.Fatal(err)
	}
	const wwid = "360000000000000000e00000000010001" // tgt's NAA name of target 1, LUN 1
	login := func(port int, extra string) string {
		return strings.TrimSpace(fmt.Sprintf("iscsistart -i %s -t %s -g 1 -a %s -p %d %s", InitiatorIQN, TargetIQN, HostAddr, port, extra))
	}
	single := OurGuest(ours, srv.Port, "")
	single.Login = login(srv.Port, "")
	multi := OurGuest(ours, srv.Port, "")
	multi.Login = login(srv.Port, "") + " && " + login(port2, "--multipath")
	multi.Modules = mpModules
	multi.RootDev = "/dev/mapper/" + wwid
	debian := ReferenceGuest(srv.Port)
	names := []string{"ours-multipath", "ours-single", "debian-single"}
	images := map[string]string{}
	for name, g := range map[string]Guest{"ours-multipath": multi, "ours-single": single, "debian-single": debian} {
		images[name] = h.Initramfs(ctx, g)
	}
	took := map[string][]time.Duration{}
	var raw strings.Builder
	for i := 0; i < b.N; i++ {
		for _, name := range names {
			vm := h.benchBoot(ctx, name, i, BootOptions{Initrd: images[name]}, disk.Marker, &raw)
			took[name] = append(took[name], since(b, vm, StepLoginExec, StepBlockDev))
			if name == "ours-multipath" && !strings.Contains(consoleText(vm), "made as /dev/mapper/"+wwid) {
				b.Fatalf("%s boot %d: no map made:\n%s", name, i, consoleText(vm))
			}
		}
	}
	m, s, d := median(took["ours-multipath"]), median(took["ours-single"]), median(took["debian-single"])
	var tab strings.Builder
	fmt.Fprintf(&tab, "%-62s %9s %s\n", fmt.Sprintf("login exec -> root block device, guest (median of %d boots each)", b.N), "seconds", "ratio")
	fmt.Fprintf(&tab, "%-62s %8.3fs %s\n", "ours, one path: /dev/sda", s.Seconds(), "1.00")
	fmt.Fprintf(&tab, "%-62s %8.3fs %.2f\n", "ours, two paths, two calls, --multipath: /dev/mapper/WWID", m.Seconds(), m.Seconds()/s.Seconds())
	fmt.Fprintf(&tab, "%-62s %8.3fs %.2f\n", "Debian's iscsistart, one path: /dev/sda", d.Seconds(), d.Seconds()/s.Seconds())
	fmt.Fprintf(&tab, "%-62s %9s %.2f\n", "ours two paths / Debian's one path", "", m.Seconds()/d.Seconds())
	b.Logf("\n%s", tab.String())
	if out := os.Getenv("BENCH_OUT"); out != "" {
		os.MkdirAll(out, 0o755)
		os.WriteFile(filepath.Join(out, "multipath.txt"), []byte(tab.String()), 0o644)
		os.WriteFile(filepath.Join(out, "multipath-raw-marks.txt"), []byte(raw.String()), 0o644)
	}
	b.ReportMetric(m.Seconds()/s.Seconds(), "multipath-ratio")
	b.ReportMetric(m.Seconds()/d.Seconds(), "multipath-debian-ratio")
}
