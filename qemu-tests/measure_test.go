package qemutests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// peakRSSLogin wraps a login command so the guest samples the peak RSS
// (VmHWM) of every iscsistart process, open-iscsi's forked child included,
// every 10 ms while it runs, and prints the largest as "PEAKRSS: N kB".
// The sampling costs CPU, so it runs in boots of its own, not timed ones.
func peakRSSLogin(login string) string {
	// Shell builtins only: under TCG a fork per sample would miss a
	// process that lives 0.3 s.
	return login + ` & p=$!; hwm=0; while kill -0 $p 2>/dev/null; do ` +
		`for q in $p $(cat /proc/$p/task/*/children 2>/dev/null); do ` +
		`while read -r k v u; do [ "$k" = VmHWM: ] && [ "$v" -gt "$hwm" ] && hwm=$v; done < /proc/$q/status 2>/dev/null; done; ` +
		`sleep 0.01; done; wait $p; rc=$?; echo "PEAKRSS: $hwm kB"; exit $rc`
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func fileSize(t testing.TB, paths ...string) int64 {
	var n int64
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		n += st.Size()
	}
	return n
}

// BenchmarkBoot compares our iscsistart with Debian's in the same run, on
// the same kernel and target, one VM at a time, boots interleaved: exec
// of the login tool until the root block device exists (in-guest clock),
// QEMU wall time until the root is mounted, bytes the tool adds to a
// gzip'd initramfs, its peak RSS, and its size on disk. Run it with
// make bench (BENCH_N boots each, default 5); raw marks go to the log.
func BenchmarkBoot(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	h := New(b)
	ours := h.GoBinary(ctx, "./cmd/iscsistart", "dropin") // the build that stands in for Debian's
	disk := h.RootDisk(ctx)
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	guests := map[string]Guest{"ours": OurGuest(ours, srv.Port, ""), "debian": ReferenceGuest(srv.Port)}
	for _, name := range []string{"ours", "debian"} {
		g := guests[name]
		g.Login = strings.SplitN(g.Login, ";", 2)[0] // the bare login, as a distribution's script runs it
		guests[name] = g
	}
	images := map[string]string{}
	for name, g := range guests {
		images[name] = h.Initramfs(ctx, g)
	}
	login := map[string][]time.Duration{}
	root := map[string][]time.Duration{}
	var raw strings.Builder
	for i := 0; i < b.N; i++ {
		for _, name := range []string{"ours", "debian"} {
			vm := h.benchBoot(ctx, name, i, BootOptions{Initrd: images[name]}, disk.Marker, &raw)
			login[name] = append(login[name], since(b, vm, StepLoginExec, StepBlockDev))
			rm, ok := vm.Mark(StepRoot)
			if !ok {
				b.Fatalf("%s boot %d: marks missing:\n%s", name, i, FormatMarks(vm.Marks()))
			}
			root[name] = append(root[name], rm.Host)
		}
	}

	// Bytes added to a gzip'd image: the same guest with and without the tool, each cpio through gzip -9.
	sizes := map[string]int64{}
	gzSize := func(g Guest) int64 {
		f, err := os.Open(h.Initramfs(ctx, g))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		n, err := gzip9(f)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	baseSize := gzSize(Guest{Login: "true"})
	for name, g := range guests {
		sizes[name] = gzSize(g) - baseSize
	}
	// Size on disk: ours is static; Debian's brings its shared libraries.
	libs, err := sharedLibs(ctx, "/usr/sbin/iscsistart")
	if err != nil {
		b.Fatal(err)
	}
	disk0 := map[string]int64{"ours": fileSize(b, ours), "debian": fileSize(b, append([]string{"/usr/sbin/iscsistart"}, libs...)...)}
	// Peak RSS, in boots of their own.
	rss := map[string]int{}
	re := regexp.MustCompile(`PEAKRSS: ([0-9]+) kB`)
	for _, name := range []string{"ours", "debian"} {
		g := guests[name]
		g.Login = peakRSSLogin(g.Login)
		vm := h.Boot(ctx, BootOptions{Name: "rss-" + name, Initrd: h.Initramfs(ctx, g)})
		l, err := vm.WaitFor(ctx, "PEAKRSS: ")
		if err != nil {
			b.Fatal(err)
		}
		vm.Wait(ctx)
		m := re.FindStringSubmatch(l.Text)
		rss[name], _ = strconv.Atoi(m[1])
	}

	ratio := func(a, c float64) string { return fmt.Sprintf("%.2f", a/c) }
	goal := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "NO"
	}
	lo, ld := median(login["ours"]), median(login["debian"])
	ro, rd := median(root["ours"]), median(root["debian"])
	so, sd := float64(sizes["ours"]), float64(sizes["debian"])
	var tab strings.Builder
	fmt.Fprintf(&tab, "%-44s %12s %12s %7s %s\n", fmt.Sprintf("metric (median of %d boots each)", b.N), "iscsiboot", "open-iscsi", "ratio", "goal")
	fmt.Fprintf(&tab, "%-44s %11.3fs %11.3fs %7s %s\n", "login exec -> root block device (guest)", lo.Seconds(), ld.Seconds(), ratio(lo.Seconds(), ld.Seconds()), "<= 0.2: "+goal(lo.Seconds() <= 0.2*ld.Seconds()))
	fmt.Fprintf(&tab, "%-44s %11.3fs %11.3fs %7s\n", "QEMU start -> root mounted (host)", ro.Seconds(), rd.Seconds(), ratio(ro.Seconds(), rd.Seconds()))
	fmt.Fprintf(&tab, "%-44s %12d %12d %7s %s\n", "bytes added to a gzip'd initramfs", sizes["ours"], sizes["debian"], ratio(so, sd), "<= 0.4: "+goal(so <= 0.4*sd)+", <= 1.5 MB: "+goal(so <= 1.5e6))
	fmt.Fprintf(&tab, "%-44s %12d %12d %7s\n", "bytes on disk (binary + shared libraries)", disk0["ours"], disk0["debian"], ratio(float64(disk0["ours"]), float64(disk0["debian"])))
	fmt.Fprintf(&tab, "%-44s %9d kB %9d kB %7s %s\n", "peak RSS of the login tool (VmHWM)", rss["ours"], rss["debian"], ratio(float64(rss["ours"]), float64(rss["debian"])), "ours <= 12 MB: "+goal(rss["ours"] <= 12*1024))
	b.Logf("\n%s", tab.String())
	if out := os.Getenv("BENCH_OUT"); out != "" {
		os.MkdirAll(out, 0o755)
		os.WriteFile(filepath.Join(out, "table.txt"), []byte(tab.String()), 0o644)
		os.WriteFile(filepath.Join(out, "raw-marks.txt"), []byte(raw.String()), 0o644)
	}
	b.ReportMetric(lo.Seconds()/ld.Seconds(), "login-ratio")
	b.ReportMetric(so/sd, "size-ratio")
	b.ReportMetric(float64(rss["ours"]), "ours-peak-kB")
}
