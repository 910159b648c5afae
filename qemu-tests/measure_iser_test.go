package qemutests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// stepISERLogin is the mark the login scripts of BenchmarkISERBoot print right before the login tool
// runs: after `rdma link add` for iSER, so that the figure is the login alone on either transport.
const stepISERLogin = "login tool exec"

// BenchmarkISERBoot measures a login over iSER against one over iscsi_tcp, in the same run, to the same
// LIO target guest (TestLIO's, soft-RoCE on both guests' virtio NICs over a QEMU socket network): the
// login tool's exec until the root block device exists (in-guest clock), for our iscsistart and for
// Debian's, each over iser and tcp; and our /init from the kernel command line, from its modules loaded
// to its boot step done (network, for iser the soft-RoCE device rd.iscsi.rxe asks for, login, disk), the
// same image over iser and tcp. Each boot then mounts the root, writes and reads back 2 MiB, and
// must show the SCSI driver of its transport. One initiator VM at a time, boots interleaved, each with
// an initiator name of its own so that no boot waits for the target to end the session of the one
// before. Run it with make bench (BENCH_N boots each); the table goes to BENCH_OUT/iser.txt.
func BenchmarkISERBoot(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	h := New(b)
	tools := map[string]string{"ours": h.GoBinary(ctx, "./cmd/iscsistart"), "debian": "/usr/sbin/iscsistart"}
	kinds := []string{"iser", "tcp"}
	disks := map[string]RootDisk{}
	var targets []LIOTarget
	for _, k := range kinds {
		disks[k] = lioDisk(ctx, b, h, "bench-"+k)
		targets = append(targets, LIOTarget{IQN: "iqn.2025-01.test:bench-" + k, Disk: disks[k].Path})
	}
	lio := h.StartLIO(ctx, targets)
	names := []string{"ours-iser", "ours-tcp", "debian-iser", "debian-tcp", "init-iser", "init-tcp"}
	initImage := ourISERInitramfs(ctx, b, h)
	took := map[string][]time.Duration{}
	var raw strings.Builder
	for i := 0; i < b.N; i++ {
		for _, name := range names {
			tool, kind, _ := strings.Cut(name, "-")
			iqn := "iqn.2025-01.test:bench-" + kind
			initiator := fmt.Sprintf("%s-%s-%d", InitiatorIQN, name, i)
			login := fmt.Sprintf("iscsistart -i %s -t %s -g 1 -a %s -p %d", initiator, iqn, HostAddr, LIOPort)
			if tool == "init" {
				d := initBoot(ctx, b, h, lio, fmt.Sprintf("%s-%d", name, i), kind, iqn, initiator, disks[kind], initImage)
				took[name] = append(took[name], d)
				fmt.Fprintf(&raw, "%s run %d: modules loaded -> boot step done %.3f s\n", name, i, d.Seconds())
				continue
			}
			g := Guest{
				Login:    stamp(stepISERLogin) + "\n" + login,
				Binaries: map[string]string{"/sbin/iscsistart": tools[tool]},
				Files:    map[string]string{"/etc/iscsi/initiatorname.iscsi": "InitiatorName=" + initiator + "\n"},
			}
			if kind == "iser" {
				g.Login = "rdma link add rxe0 type rxe netdev eth0 || exit 1\n" + g.Login + " -P iface.transport_name=iser"
				g.Modules = ISERModules
				g.Binaries["/sbin/rdma"] = rdmaTool
			}
			vm := h.benchBoot(ctx, name, i, BootOptions{Initrd: h.Initramfs(ctx, g), NetdevSpec: lio.Netdev(),
				Timeout: 3 * time.Minute}, disks[kind].Marker, &raw)
			c := consoleText(vm)
			for _, want := range wantLIO(kind == "iser") {
				if !strings.Contains(c, want) {
					b.Fatalf("%s boot %d: console lacks %q:\n%s", name, i, want, c)
				}
			}
			took[name] = append(took[name], since(b, vm, stepISERLogin, StepBlockDev))
		}
	}
	m := map[string]float64{}
	for _, name := range names {
		m[name] = median(took[name]).Seconds()
	}
	var tab strings.Builder
	fmt.Fprintf(&tab, "%-58s %9s %9s %s\n", fmt.Sprintf("login exec -> root block device, guest (median of %d boots each)", b.N), "iser", "tcp", "iser/tcp")
	fmt.Fprintf(&tab, "%-58s %8.3fs %8.3fs %.2f\n", "ours (iscsistart drop-in) to LIO", m["ours-iser"], m["ours-tcp"], m["ours-iser"]/m["ours-tcp"])
	fmt.Fprintf(&tab, "%-58s %8.3fs %8.3fs %.2f\n", "Debian's iscsistart to LIO", m["debian-iser"], m["debian-tcp"], m["debian-iser"]/m["debian-tcp"])
	fmt.Fprintf(&tab, "%-58s %8.2f  %8.2f\n", "ours / Debian's", m["ours-iser"]/m["debian-iser"], m["ours-tcp"]/m["debian-tcp"])
	fmt.Fprintf(&tab, "%-58s %8.3fs %8.3fs %.2f\n", "our /init: modules loaded -> boot step done (incl. rxe, net)", m["init-iser"], m["init-tcp"], m["init-iser"]/m["init-tcp"])
	b.Logf("\n%s", tab.String())
	if out := os.Getenv("BENCH_OUT"); out != "" {
		os.MkdirAll(out, 0o755)
		os.WriteFile(filepath.Join(out, "iser.txt"), []byte(tab.String()), 0o644)
		os.WriteFile(filepath.Join(out, "iser-raw-marks.txt"), []byte(raw.String()), 0o644)
	}
	b.ReportMetric(m["ours-iser"]/m["ours-tcp"], "iser/tcp-ratio")
	b.ReportMetric(m["ours-iser"]/m["debian-iser"], "iser-debian-ratio")
}

// initPhase matches the phase lines of our /init, which carry the guest's uptime.
var initPhase = regexp.MustCompile(`iscsiboot: \[\s*([0-9.]+)\] (modules loaded|boot step done)`)

// initBoot boots our /init image against the LIO guest over kind (iser or tcp) and returns the guest
// time from its modules loaded to its boot step done.
func initBoot(ctx context.Context, b *testing.B, h *Harness, lio *LIO, name, kind, iqn, initiator string, disk RootDisk, image string) time.Duration {
	b.Helper()
	cmdline := fmt.Sprintf("ip=10.0.2.15::%[1]s:255.255.255.0::eth0:none netroot=iscsi:%[1]s::%[2]d::%[3]s rd.iscsi.initiator=%[4]s rd.retry=60",
		HostAddr, LIOPort, iqn, initiator)
	if kind == "iser" {
		cmdline += " rd.iscsi.transport=iser rd.iscsi.rxe=eth0"
	}
	vm := h.Boot(ctx, BootOptions{Name: name, Initrd: image, Append: cmdline, NetdevSpec: lio.Netdev(), Timeout: 3 * time.Minute})
	vm.Expect(ctx, disk.Marker)
	vm.Wait(ctx)
	c := consoleText(vm)
	for _, want := range wantLIO(kind == "iser") {
		if !strings.Contains(c, want) {
			b.Fatalf("%s: console lacks %q:\n%s", name, want, c)
		}
	}
	at := map[string]float64{}
	for _, m := range initPhase.FindAllStringSubmatch(c, -1) {
		at[m[2]], _ = strconv.ParseFloat(m[1], 64)
	}
	start, ok1 := at["modules loaded"]
	done, ok2 := at["boot step done"]
	if !ok1 || !ok2 {
		b.Fatalf("%s: phase lines missing:\n%s", name, c)
	}
	return time.Duration((done - start) * float64(time.Second))
}
