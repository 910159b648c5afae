package qemutests

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/ibft"
)

// writeIBFT marshals a table with our initiator, the guest's NIC (the MAC
// and PCI function the harness pins: 00:03.0) with a static address, and
// targets, for QEMU's -acpitable.
func writeIBFT(t testing.TB, dir string, targets ...ibft.Target) string {
	return writeIBFTVLAN(t, dir, 0, targets...)
}

// writeIBFTVLAN is writeIBFT with the NIC on a VLAN.
func writeIBFTVLAN(t testing.TB, dir string, vlan uint16, targets ...ibft.Target) string {
	t.Helper()
	mac, _ := net.ParseMAC(MAC)
	tab := &ibft.Table{
		Header:    ibft.Header{OEMID: "ISCSIB", OEMTableID: "TESTIBFT"},
		Initiator: &ibft.Initiator{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, Name: InitiatorIQN},
		NICs: []ibft.NIC{{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, IP: netip.MustParseAddr("10.0.2.15"),
			PrefixLen: 24, Origin: ibft.OriginManual, Gateway: netip.MustParseAddr(HostAddr),
			PrimaryDNS: netip.MustParseAddr("10.0.2.3"), MAC: mac, PCIBDF: ibft.NewBDF(0, 3, 0), VLAN: vlan}},
	}
	for i, tg := range targets {
		tg.Index = uint8(i)
		tg.Flags = ibft.FlagBlockValid | ibft.FlagBootSelected
		tg.IP = netip.MustParseAddr(HostAddr)
		tg.LUN = ibft.LUNFromInt(1)
		tab.Targets = append(tab.Targets, tg)
	}
	b, err := tab.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "ibft.bin")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// firmwareGuest runs our -f and Debian's -f on the table, prints both,
// then brings the network up and logs in from the firmware: -N, then -b
// with extra flags.
func firmwareGuest(bin, extra string) Guest {
	return Guest{
		Login: `iscsistart -f > /tmp/ours; echo "FW-OURS-RC $?"; oiscsistart -f > /tmp/theirs; ` +
			`sed 's/^/FW-OURS: /' /tmp/ours; sed 's/^/FW-THEIRS: /' /tmp/theirs; ` +
			`iscsistart -N && iscsistart -b ` + extra + `; rc=$?; echo "SESSIONS: $(ls /sys/class/iscsi_session 2>/dev/null | wc -l)"; exit $rc`,
		Binaries: map[string]string{"/sbin/iscsistart": bin, "/sbin/oiscsistart": "/usr/sbin/iscsistart"},
		Modules:  []string{"iscsi_boot_sysfs", "iscsi_ibft"},
		NoNet:    true,
	}
}

// fwLines returns the record lines the guest printed with prefix.
func fwLines(console, prefix string) []string {
	var out []string
	for _, l := range strings.Split(console, "\n") {
		if i := strings.Index(l, prefix); i >= 0 {
			out = append(out, strings.TrimRight(l[i+len(prefix):], "\r"))
		}
	}
	return out
}

// TestFirmwareBoot boots from an iBFT passed as an ACPI table: our -f
// against Debian's, line by line; -N and -b reach the root; two targets,
// one of them dead; CHAP from the table; a table with a bad checksum.
func TestFirmwareBoot(t *testing.T) {
	t.Run("one target and -f like open-iscsi", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		table := writeIBFT(t, r.h.Dir, ibft.Target{Port: uint16(r.srv.Port), Name: TargetIQN})
		vm := r.h.Boot(r.ctx, BootOptions{Initrd: r.h.Initramfs(r.ctx, firmwareGuest(r.bin, "")),
			ExtraArgs: []string{"-acpitable", "sig=iBFT,file=" + table}})
		vm.Expect(r.ctx, r.disk.Marker)
		vm.Wait(r.ctx)
		c := consoleText(vm)
		ours, theirs := fwLines(c, "FW-OURS: "), fwLines(c, "FW-THEIRS: ")
		if len(theirs) < 10 || len(ours) != len(theirs) {
			t.Fatalf("records differ in length: ours %d lines, open-iscsi's %d:\n%s", len(ours), len(theirs), c)
		}
		for i := range theirs {
			if strings.HasPrefix(theirs[i], "node.boot_lun = ") {
				if ours[i] != "node.boot_lun = 1" || theirs[i] != "node.boot_lun = 01000000" {
					t.Errorf("boot LUN: ours %q, open-iscsi's %q", ours[i], theirs[i])
				}
				continue
			}
			if ours[i] != theirs[i] {
				t.Errorf("line %d: ours %q, open-iscsi's %q", i, ours[i], theirs[i])
			}
		}
		for _, want := range []string{"FW-OURS-RC 0", "FW-OURS: iface.net_ifacename = eth0", "FW-OURS: iface.hwaddress = " + MAC,
			"FW-OURS: node.name = " + TargetIQN, "FW-OURS: node.boot_lun = 1"} {
			if !strings.Contains(c, want) {
				t.Errorf("console lacks %q: the table's NIC, target or LUN is not in our records", want)
			}
		}
	})

	t.Run("two targets one dead", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		table := writeIBFT(t, r.h.Dir, ibft.Target{Port: uint16(r.srv.Port), Name: TargetIQN},
			ibft.Target{Port: 1, Name: "iqn.2025-01.test:gone"})
		vm := r.h.Boot(r.ctx, BootOptions{Initrd: r.h.Initramfs(r.ctx, firmwareGuest(r.bin, "--require any --timeout 60s")),
			ExtraArgs: []string{"-acpitable", "sig=iBFT,file=" + table}})
		vm.Expect(r.ctx, r.disk.Marker)
		vm.Wait(r.ctx)
		if d := since(t, vm, StepLoginExec, StepBlockDev); d > 10*time.Second {
			t.Errorf("-N and -b took %v with one dead target; the live one must not wait for it", d)
		}
		if c := consoleText(vm); !strings.Contains(c, "10.0.2.2:1: given up after") || !strings.Contains(c, "SESSIONS: 1") {
			t.Errorf("dead target not given up, or not exactly one session:\n%s", c)
		}
	})

	t.Run("two live targets", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		disk2 := r.h.RootDisk(r.ctx)
		if err := r.srv.NewDiskTarget(r.ctx, 2, "iqn.2025-01.test:disk2", disk2.Path); err != nil {
			t.Fatal(err)
		}
		table := writeIBFT(t, r.h.Dir, ibft.Target{Port: uint16(r.srv.Port), Name: TargetIQN},
			ibft.Target{Port: uint16(r.srv.Port), Name: "iqn.2025-01.test:disk2"})
		vm := r.h.Boot(r.ctx, BootOptions{Initrd: r.h.Initramfs(r.ctx, firmwareGuest(r.bin, "")),
			ExtraArgs: []string{"-acpitable", "sig=iBFT,file=" + table}})
		vm.Expect(r.ctx, r.disk.Marker)
		vm.Wait(r.ctx)
		c := consoleText(vm)
		disks := map[string]bool{}
		for _, iqn := range []string{TargetIQN, "iqn.2025-01.test:disk2"} {
			if m := regexp.MustCompile(`(?m)^iscsistart: logged in to ` + regexp.QuoteMeta(iqn) + ` at .*, (sd[a-z]+)$`).FindStringSubmatch(c); m != nil {
				disks[m[1]] = true
			}
		}
		if len(disks) != 2 || !strings.Contains(c, "SESSIONS: 2") {
			t.Errorf("want two sessions, each with its own disk:\n%s", c)
		}
	})

	t.Run("mutual CHAP from the table", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		chapAccounts(t, r.ctx, r.h, true)
		table := writeIBFT(t, r.h.Dir, ibft.Target{Port: uint16(r.srv.Port), Name: TargetIQN, CHAPType: ibft.CHAPMutual,
			CHAPName: "alice", CHAPSecret: "alice-secret-1", ReverseCHAPName: "disk1", ReverseCHAPSecret: "target-secret-2"})
		vm := r.h.Boot(r.ctx, BootOptions{Initrd: r.h.Initramfs(r.ctx, firmwareGuest(r.bin, "")),
			ExtraArgs: []string{"-acpitable", "sig=iBFT,file=" + table}})
		vm.Expect(r.ctx, r.disk.Marker)
		vm.Wait(r.ctx)
		c := consoleText(vm)
		if strings.Contains(strings.Join(fwLines(c, "FW-OURS: "), "\n"), "secret-") {
			t.Errorf("our -f printed a CHAP secret")
		}
	})

	// QEMU recomputes the checksum of an -acpitable, so the corruption
	// is one it passes through: a NIC structure whose length disagrees
	// with the spec (the kernel's iscsi_ibft refuses it too).
	t.Run("corrupt table", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		table := writeIBFT(t, r.h.Dir, ibft.Target{Port: uint16(r.srv.Port), Name: TargetIQN})
		b, _ := os.ReadFile(table)
		nic := int(b[58]) | int(b[59])<<8
		b[nic+2] = 100
		os.WriteFile(table, b, 0o644)
		g := Guest{Login: `iscsistart -b; rc=$?; echo "SESSIONS: $(ls /sys/class/iscsi_session 2>/dev/null | wc -l)"; exit $rc`,
			Binaries: map[string]string{"/sbin/iscsistart": r.bin}, Modules: []string{"iscsi_boot_sysfs", "iscsi_ibft"}}
		vm := r.h.Boot(r.ctx, BootOptions{Initrd: r.h.Initramfs(r.ctx, g), ExtraArgs: []string{"-acpitable", "sig=iBFT,file=" + table}})
		vm.Wait(r.ctx)
		rc, err := vm.LoginExitCode()
		c := consoleText(vm)
		if err != nil || rc != 7 || !strings.Contains(c, "nic0.length = 100") || !strings.Contains(c, "SESSIONS: 0") {
			t.Errorf("exit %d (%v), want 7 with a line naming nic0.length and no session:\n%s", rc, err, c)
		}
	})
}

// TestIPXEBoot is the path real servers take: QEMU's own iPXE runs
// sanhook, leaves its iBFT in low memory (found by the legacy /dev/mem
// scan, not ACPI), boots the kernel, and our iscsistart -N && -b log in
// from it. Debian's tool does the same in TestReferenceIPXE.
func TestIPXEBoot(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	g := firmwareGuest(r.bin, "")
	g.Gzip = true // TFTP is slow
	vm := r.h.Boot(r.ctx, r.h.IPXEBoot(IPXEOptions{Port: r.srv.Port, Initrd: r.h.Initramfs(r.ctx, g)}))
	vm.Expect(r.ctx, r.disk.Marker)
	vm.Wait(r.ctx)
	if rc, err := vm.LoginExitCode(); err != nil || rc != 0 {
		t.Errorf("iscsistart -N && iscsistart -b exit = %d, %v; want 0", rc, err)
	}
	c := consoleText(vm)
	for _, want := range []string{"FW-OURS: node.name = " + TargetIQN, "FW-OURS: iface.bootproto = DHCP", "SESSIONS: 1"} {
		if !strings.Contains(c, want) {
			t.Errorf("console lacks %q", want)
		}
	}
}

// TestFirmwareVLAN: a table whose NIC is on VLAN 100 makes -N create
// eth0.100 with the table's address. slirp carries no tagged frames, so
// no login follows; the test checks the interface the guest ends up with.
func TestFirmwareVLAN(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	table := writeIBFTVLAN(t, r.h.Dir, 100, ibft.Target{Port: uint16(r.srv.Port), Name: TargetIQN})
	// No disk can follow, so the script stamps the exit itself and powers
	// off (once the console has drained) instead of letting /init wait
	// 10 s for /dev/sda.
	g := Guest{Login: `iscsistart -N; rc=$?; ip -o addr show dev eth0.100 | sed 's/^/VLANIF: /'; ` + stamp(StepLoginExit+` rc=$rc`) + `; sleep 0.2; poweroff -f`,
		Binaries: map[string]string{"/sbin/iscsistart": r.bin}, Modules: []string{"iscsi_boot_sysfs", "iscsi_ibft", "8021q"},
		NoNet: true, LoginTimeout: 30 * time.Second}
	vm := r.h.Boot(r.ctx, BootOptions{Initrd: r.h.Initramfs(r.ctx, g), ExtraArgs: []string{"-acpitable", "sig=iBFT,file=" + table}})
	vm.WaitFor(r.ctx, StepLoginExit)
	vm.Wait(r.ctx)
	if rc, err := vm.LoginExitCode(); err != nil || rc != 0 {
		t.Errorf("iscsistart -N exit = %d, %v; want 0", rc, err)
	}
	if c := consoleText(vm); !strings.Contains(c, "VLANIF: ") || !strings.Contains(c, "inet 10.0.2.15/24") {
		t.Errorf("no eth0.100 with 10.0.2.15/24:\n%s", c)
	}
}
