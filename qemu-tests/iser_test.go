package qemutests

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/ibft"
)

// dataMarker starts the line dataRootInit prints after its write and read-back.
const dataMarker = "ISCSIBOOT-DATA: "

// dataRootInit is the root disk's /sbin/init for the LIO scenarios: it writes 2 MiB to the iSCSI root,
// drops the page cache so the read-back comes from the target, compares, names the SCSI host's driver
// (iser or iscsi_tcp) and the soft-RoCE packet counts, then prints the disk's marker and powers off.
const dataRootInit = `#!/bin/busybox sh
read up _ < /proc/uptime
echo "ISCSIBOOT[$up] root init"
out() { echo "` + dataMarker + `$*"; }
mount -o remount,rw / || out "remount failed"
dd if=/dev/urandom of=/data bs=64k count=32 2>/dev/null
sync
a=$(md5sum /data)
echo 3 > /proc/sys/vm/drop_caches
b=$(md5sum /data)
if [ "$a" = "$b" ]; then out "read back ${a%% *}"; else out "mismatch $a $b"; fi
for h in /sys/class/scsi_host/host*; do out "driver $(cat $h/proc_name)"; done
for t in /sys/class/iscsi_transport/*; do out "transport ${t##*/} caps $(cat $t/caps)"; done
for c in /sys/class/infiniband/*/ports/1/hw_counters; do
	[ -d $c ] && out "rxe sent $(cat $c/sent_pkts) received $(cat $c/rcvd_pkts)"
done
. /etc/os-release
echo "` + RootMarker + `$PRETTY_NAME"
/bin/busybox poweroff -f
`

// lioDisk builds a root disk with dataRootInit.
func lioDisk(ctx context.Context, t testing.TB, h *Harness, name string) RootDisk {
	t.Helper()
	d, err := RootImage{Name: name + ".ext4", Init: dataRootInit, Size: "32M"}.Build(ctx, h.Dir)
	if err != nil {
		t.Fatalf("root disk: %v", err)
	}
	return d
}

// lioBoot boots an initiator guest on the LIO guest's Ethernet and returns its console once the root's
// init powered it off, and how long the login command ran (guest clock; 0 for our /init, which has no
// login command).
func lioBoot(ctx context.Context, t *testing.T, h *Harness, lio *LIO, opts BootOptions, disk RootDisk) (string, time.Duration) {
	t.Helper()
	opts.NetdevSpec, opts.Timeout = lio.Netdev(), 3*time.Minute
	vm := h.Boot(ctx, opts)
	vm.Expect(ctx, disk.Marker)
	if err := vm.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range vm.Lines() {
		b.WriteString(l.Text + "\n")
	}
	exec, _ := vm.Mark(StepLoginExec)
	exit, _ := vm.Mark(StepLoginExit)
	return b.String(), exit.Uptime - exec.Uptime
}

// ourISERInitramfs builds our /init image as a packager would for an iSER root over soft-RoCE:
// iscsiboot-initramfs with rdma_rxe and ib_iser beside the TCP set (the image builder adds the crc32
// that rdma_rxe needs). No rdma tool and no shell: the binary adds the soft-RoCE device itself.
func ourISERInitramfs(ctx context.Context, t testing.TB, h *Harness) string {
	t.Helper()
	tool := h.GoBinary(ctx, "./cmd/iscsiboot-initramfs")
	bin := h.GoBinary(ctx, "./cmd/iscsistart")
	out := filepath.Join(h.Dir, "iscsiboot-iser.img")
	mods := append(slices.Clone(DefaultModules), "rdma_rxe", "ib_iser")
	cmd := exec.CommandContext(ctx, tool, "-o", out, "-binary", bin, "-init",
		"-kernel-dir", h.Kernel.Dir, "-kver", h.Kernel.Version, "-modules", strings.Join(mods, ","))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("iscsiboot-initramfs: %v\n%s", err, b)
	}
	return out
}

// lioIBFT writes an iBFT whose one target is the LIO guest's portal, LUN 0 (LIO's numbering, not
// tgt's), for the guest's NIC at 10.0.2.15/24.
func lioIBFT(t *testing.T, dir, initiator, iqn string) string {
	t.Helper()
	mac, _ := net.ParseMAC(MAC)
	tab := &ibft.Table{
		Header:    ibft.Header{OEMID: "ISCSIB", OEMTableID: "LIOIBFT"},
		Initiator: &ibft.Initiator{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, Name: initiator},
		NICs: []ibft.NIC{{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, IP: netip.MustParseAddr("10.0.2.15"),
			PrefixLen: 24, Origin: ibft.OriginManual, MAC: mac, PCIBDF: ibft.NewBDF(0, 3, 0)}},
		Targets: []ibft.Target{{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, IP: netip.MustParseAddr(HostAddr),
			Port: LIOPort, Name: iqn, LUN: ibft.LUNFromInt(0)}},
	}
	b, err := tab.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "lio-ibft.bin")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLIO logs in to the kernel's own target in a second guest: over iSER (soft-RoCE on both guests'
// virtio NICs) and over TCP, with our iscsistart and, as the yardstick, Debian's. Each boot mounts its
// root from the target, writes and reads back 2 MiB, and shows which SCSI driver carried it. In
// init_iser our own /init boots the root over iSER from the kernel command line alone, adding the
// soft-RoCE device itself (rd.iscsi.rxe); in ibft_iser the drop-in logs in with -b from an iBFT whose
// target is the iSER portal, over iSER by -P iface.transport_name=iser. In the
// _resident scenarios the target ends the session right after the login and refuses logins for a
// second (its portal group disabled); our resident loop (iscsistart --resident) must log in again, over
// a new kernel endpoint for iSER, before the boot goes on.
func TestLIO(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	h := New(t)
	ours := h.GoBinary(ctx, "./cmd/iscsistart")
	type scenario struct {
		name      string
		reference bool // Debian's iscsistart instead of ours
		iser      bool
		drop      bool   // the target drops the session after the login; our resident loop must log in again
		boot      string // "" the drop-in with -t and -a; "init" our /init; "ibft" the drop-in's -b
	}
	scenarios := []scenario{
		{"reference_iser", true, true, false, ""},
		{"iser", false, true, false, ""},
		{"tcp", false, false, false, ""},
		{"iser_resident", false, true, true, ""},
		{"tcp_resident", false, false, true, ""},
		{"init_iser", false, true, false, "init"},
		{"ibft_iser", false, true, false, "ibft"},
	}
	var targets []LIOTarget
	disks := map[string]RootDisk{}
	const dropPort = 7000
	for _, s := range scenarios {
		d := lioDisk(ctx, t, h, s.name)
		disks[s.name] = d
		lt := LIOTarget{IQN: "iqn.2025-01.test:" + strings.ReplaceAll(s.name, "_", "-"), Disk: d.Path}
		if s.drop {
			lt.DropPort = dropPort + len(targets)
			lt.DropFor = time.Second
		}
		targets = append(targets, lt)
	}
	lio := h.StartLIO(ctx, targets)
	for i, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			iqn := targets[i].IQN
			initiator := InitiatorIQN + "-" + strings.ReplaceAll(s.name, "_", "-")
			login := fmt.Sprintf("-i %s -t %s -g 1 -a %s -p %d", initiator, iqn, HostAddr, LIOPort)
			if s.boot == "ibft" {
				login = "-b"
			}
			if s.iser {
				login += " -P iface.transport_name=iser"
			}
			g := Guest{
				Login:    "iscsistart " + login,
				Binaries: map[string]string{"/sbin/iscsistart": ours},
				Files:    map[string]string{"/etc/iscsi/initiatorname.iscsi": "InitiatorName=" + initiator + "\n"},
			}
			if s.reference {
				g.Binaries["/sbin/iscsistart"] = "/usr/sbin/iscsistart"
			}
			if s.drop {
				// The loop stays behind the login; the script asks the target guest to drop the session,
				// waits for it to leave LOGGED_IN and for the loop's new login, then the boot goes on.
				g.Login += " --resident || exit $?\n" + `st() { cat /sys/class/iscsi_session/session1/state; }
echo drop | nc -w 5 ` + HostAddr + ` ` + strconv.Itoa(dropPort+i) + `
i=0; while [ "$(st)" = LOGGED_IN ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
echo "SESSION: $(st)"
i=0; while [ "$(st)" != LOGGED_IN ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
echo "SESSION AGAIN: $(st)"; [ "$(st)" = LOGGED_IN ]`
			}
			if s.iser {
				g.Modules = ISERModules
				g.Binaries["/sbin/rdma"] = rdmaTool
				g.Login = "rdma link add rxe0 type rxe netdev eth0 || exit 1\n" + g.Login
			}
			opts := BootOptions{Name: s.name}
			switch s.boot {
			case "init":
				opts.Initrd = ourISERInitramfs(ctx, t, h)
				opts.Append = fmt.Sprintf("ip=10.0.2.15::%[1]s:255.255.255.0::eth0:none netroot=iscsi:%[1]s::%[2]d::%[3]s "+
					"rd.iscsi.initiator=%[4]s rd.iscsi.transport=iser rd.iscsi.rxe=eth0 rd.retry=60", HostAddr, LIOPort, iqn, initiator)
			case "ibft":
				g.Modules = slices.Concat(g.Modules, []string{"iscsi_boot_sysfs", "iscsi_ibft"})
				opts.ExtraArgs = []string{"-acpitable", "sig=iBFT,file=" + lioIBFT(t, h.Dir, initiator, iqn)}
			}
			if opts.Initrd == "" {
				opts.Initrd = h.Initramfs(ctx, g)
			}
			console, took := lioBoot(ctx, t, h, lio, opts, disks[s.name])
			if !s.drop && s.boot != "init" {
				// A figure, not a check: login over iSER against iscsi_tcp, ours against Debian's.
				t.Logf("login command ran %.2f s (guest clock, connect + login + disk)", took.Seconds())
			}
			want := wantLIO(s.iser)
			if !s.reference && s.boot != "init" {
				// The drop-in's login line names the transport; for our /init, the root's driver line does.
				want = append(want, map[bool]string{true: "(transport iser), sd", false: "(transport tcp), sd"}[s.iser])
			}
			if s.boot == "init" {
				want = append(want, "iscsiboot: soft-RoCE rxe_eth0 on eth0 added (port ACTIVE, address GID ready)",
					"root /dev/sda (ext4) mounted")
			}
			if s.drop {
				want = append(want, "iscsistart: resident loop started", "SESSION: FAILED",
					"iscsiboot-resident: session 1: logged in again after", "SESSION AGAIN: LOGGED_IN")
				if _, ok, _, _ := lio.VM.con.find(LIODropped + iqn); !ok {
					t.Errorf("target guest never dropped %s", iqn)
				}
				t.Logf("%s", lineWith(console, "logged in again after"))
			}
			for _, want := range want {
				if !strings.Contains(console, want) {
					t.Errorf("console lacks %q", want)
				}
			}
			if t.Failed() {
				t.Logf("console: %s", filepath.Join(h.LogDir, s.name+".console"))
			}
		})
	}
}

func wantLIO(iser bool) []string {
	want := []string{dataMarker + "read back "}
	if iser {
		return append(want, dataMarker+"driver iscsi_iser", dataMarker+"rxe sent ")
	}
	return append(want, dataMarker+"driver iscsi_tcp")
}
