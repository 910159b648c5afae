package qemutests

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
)

// Steps the login scripts below stamp themselves: they run in their own shell, without GuestScript's ts.
const (
	stepFWLogin  = "fw login exec" // just before iscsistart -b
	stepLiveDisk = "live disk"     // /dev/sda appeared, whatever -b is still doing
)

// stamp is the shell that prints a step as GuestScript's ts does, so VM.Mark finds it.
func stamp(step string) string {
	return `read up _ < /proc/uptime; echo "ISCSIBOOT[$up] ` + step + `"`
}

// timedFirmwareGuest runs -N, then -b with extra flags while a watcher stamps the moment the first disk
// appears (watching for up to 120 s): with a dead target in the table, -b keeps trying it after the live
// one's disk is there.
func timedFirmwareGuest(bin, extra string) Guest {
	return Guest{
		Login: `iscsistart -N || exit $?
(i=0; while [ ! -b /dev/sda ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i+1)); done; [ -b /dev/sda ] && { ` + stamp(stepLiveDisk) + `; }) &
` + stamp(stepFWLogin) + `
iscsistart -b ` + extra + `
rc=$?
echo "SESSIONS: $(ls /sys/class/iscsi_session 2>/dev/null | wc -l)"
wait
exit $rc`,
		Binaries: map[string]string{"/sbin/iscsistart": bin},
		Modules:  []string{"iscsi_boot_sysfs", "iscsi_ibft"},
		NoNet:    true,
	}
}

// TestFirmwareDeadTarget: the table names the root target and a second one whose portal refuses
// connections. The root's disk comes up as fast as in a boot whose table names the root alone; -b keeps
// retrying the dead target until --timeout, then exits with the dead path's code, ISCSI_ERR_TRANS (4),
// as open-iscsi's iscsistart fails -b when any firmware target fails; the live session stays.
func TestFirmwareDeadTarget(t *testing.T) {
	t.Parallel()
	const (
		timeout = 20 * time.Second
		margin  = 2 * time.Second
		dead    = "iqn.2025-01.test:gone"
	)
	alone, both := newRig(t), newRig(t)
	flags := fmt.Sprintf("--timeout %v", timeout)
	tAlone := writeIBFT(t, alone.h.Dir, ibft.Target{Port: uint16(alone.srv.Port), Name: TargetIQN})
	// Port 1: slirp's connection there is refused.
	tBoth := writeIBFT(t, both.h.Dir, ibft.Target{Port: uint16(both.srv.Port), Name: TargetIQN}, ibft.Target{Port: 1, Name: dead})
	vmAlone := alone.h.Boot(alone.ctx, BootOptions{Name: "alone", Initrd: alone.h.Initramfs(alone.ctx, timedFirmwareGuest(alone.bin, flags)),
		ExtraArgs: []string{"-acpitable", "sig=iBFT,file=" + tAlone}})
	vmBoth := both.h.Boot(both.ctx, BootOptions{Name: "both", Initrd: both.h.Initramfs(both.ctx, timedFirmwareGuest(both.bin, flags)),
		ExtraArgs: []string{"-acpitable", "sig=iBFT,file=" + tBoth}})
	vmAlone.Expect(alone.ctx, alone.disk.Marker)
	vmBoth.Expect(both.ctx, StepLoginExit)
	if err := vmAlone.Wait(alone.ctx); err != nil {
		t.Fatal(err)
	}
	if err := vmBoth.Wait(both.ctx); err != nil {
		t.Fatal(err)
	}

	base := since(t, vmAlone, stepFWLogin, stepLiveDisk)
	live := since(t, vmBoth, stepFWLogin, stepLiveDisk)
	total := since(t, vmBoth, stepFWLogin, StepLoginExit)
	t.Logf("-b to the root disk: %v with the root target alone, %v beside a dead one; -b exited after %v (--timeout %v)",
		base.Round(time.Millisecond), live.Round(time.Millisecond), total.Round(time.Millisecond), timeout)
	if live > base+margin {
		t.Errorf("the dead target delayed the live one's disk: %v, against %v alone", live, base)
	}
	// The retry that would end past the deadline is not started, so -b
	// may end up to one backoff (1 s) early.
	if total < timeout-5*time.Second || total > timeout+3*time.Second {
		t.Errorf("-b took %v: the dead target must be retried until --timeout %v, and no longer", total, timeout)
	}
	if rc, err := vmBoth.LoginExitCode(); err != nil || rc != iscsierr.Trans {
		t.Errorf("iscsistart -b exit = %d, %v; want %d (ISCSI_ERR_TRANS, the dead portal's connection refused)", rc, err, iscsierr.Trans)
	}
	c := consoleText(vmBoth)
	deadLine := regexp.MustCompile(`(?m)^iscsistart: ` + regexp.QuoteMeta(dead+" at "+HostAddr+":1: ") + `.*connection refused \(after \d+ attempts\)$`)
	for _, ok := range []bool{
		strings.Contains(c, fmt.Sprintf("iscsistart: logged in to %s at %s:%d: session ", TargetIQN, HostAddr, both.srv.Port)),
		deadLine.MatchString(c),
		strings.Contains(c, "SESSIONS: 1"),
	} {
		if !ok {
			t.Fatalf("want the live session logged in, one line for the dead target, and one session left:\n%s", c)
		}
	}
	if rc, err := vmAlone.LoginExitCode(); err != nil || rc != 0 {
		t.Errorf("root target alone: exit %d, %v; want 0", rc, err)
	}
}

// TestFirmwareCHAP: one-way CHAP from the table logs in (mutual CHAP is in TestFirmwareBoot); a wrong
// secret in the table fails at once with ISCSI_ERR_LOGIN_AUTH_FAILED (24) and leaves no session. Neither
// -f nor -b prints a secret.
func TestFirmwareCHAP(t *testing.T) {
	for _, tc := range []struct {
		name, secret string
		rc           int
		console      []string
	}{
		{"one-way", "alice-secret-1", 0, []string{"FW: node.session.auth.username = alice", "FW: node.session.auth.password = <redacted>",
			"SESSIONS: 1", "USER: alice"}},
		{"wrong secret", "wrong-secret-3", iscsierr.LoginAuthFailed, []string{"SESSIONS: 0", "0201 authentication failure"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			chapAccounts(t, r.ctx, r.h, false)
			table := writeIBFT(t, r.h.Dir, ibft.Target{Port: uint16(r.srv.Port), Name: TargetIQN, CHAPType: ibft.CHAPOneWay,
				CHAPName: "alice", CHAPSecret: ibft.Secret(tc.secret)})
			g := Guest{
				Login: `iscsistart -f | grep '^node.session.auth' | sed 's/^/FW: /'
iscsistart -N && iscsistart -b
rc=$?
echo "SESSIONS: $(ls /sys/class/iscsi_session 2>/dev/null | wc -l)"
for s in /sys/class/iscsi_session/session*; do [ -e "$s" ] && echo "USER: $(cat $s/username)"; done
exit $rc`,
				Binaries: map[string]string{"/sbin/iscsistart": r.bin},
				Modules:  []string{"iscsi_boot_sysfs", "iscsi_ibft"},
				NoNet:    true,
			}
			vm := r.h.Boot(r.ctx, BootOptions{Initrd: r.h.Initramfs(r.ctx, g), ExtraArgs: []string{"-acpitable", "sig=iBFT,file=" + table}})
			if tc.rc == 0 {
				vm.Expect(r.ctx, r.disk.Marker)
			}
			if err := vm.Wait(r.ctx); err != nil {
				t.Fatal(err)
			}
			if rc, err := vm.LoginExitCode(); err != nil || rc != tc.rc {
				t.Errorf("iscsistart -N && iscsistart -b exit = %d, %v; want %d", rc, err, tc.rc)
			}
			c := consoleText(vm)
			for _, want := range tc.console {
				if !strings.Contains(c, want) {
					t.Errorf("console lacks %q", want)
				}
			}
			if strings.Contains(c, "secret-") {
				t.Errorf("a CHAP secret reached the console")
			}
		})
	}
}

// TestFirmwareBadChecksum: the BIOS publishes a table whose checksum is wrong, in low memory as iPXE
// does. The kernel's iscsi_ibft refuses such a table (it would fail to load, so the guest does not load
// it), and so must -f and -b: one line naming the table's address and the checksum, exit
// ISCSI_ERR_INVAL (7), no session.
func TestFirmwareBadChecksum(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	b, err := os.ReadFile(writeIBFT(t, r.h.Dir, ibft.Target{Port: uint16(r.srv.Port), Name: TargetIQN}))
	if err != nil {
		t.Fatal(err)
	}
	b[9] ^= 0x5a // the ACPI header's checksum byte
	g := Guest{
		Login: `dmesg | grep 'iBFT found at' | sed 's/^.*iBFT found at /KERNEL-SCAN: /'
iscsistart -f; echo "F-RC: $?"
iscsistart -b
rc=$?
echo "SESSIONS: $(ls /sys/class/iscsi_session 2>/dev/null | wc -l)"
exit $rc`,
		Binaries: map[string]string{"/sbin/iscsistart": r.bin},
	}
	vm := r.h.Boot(r.ctx, BootOptions{Initrd: r.h.Initramfs(r.ctx, g), ExtraArgs: r.h.LegacyIBFTArgs(b)})
	if err := vm.Wait(r.ctx); err != nil {
		t.Fatal(err)
	}
	c := consoleText(vm)
	if rc, err := vm.LoginExitCode(); err != nil || rc != iscsierr.Invalid || !strings.Contains(c, fmt.Sprintf("F-RC: %d", iscsierr.Invalid)) {
		t.Errorf("-f and -b exit = %d, %v; want %d for both:\n%s", rc, err, iscsierr.Invalid, c)
	}
	// The kernel prints the address as 0x00000000000c4020, we as 0xc4020.
	scan := regexp.MustCompile(`(?m)^KERNEL-SCAN: 0x0*([0-9a-f]+)\.?$`).FindStringSubmatch(c)
	if scan == nil {
		t.Fatalf("the kernel's legacy scan did not find the table:\n%s", c)
	}
	line := regexp.MustCompile(`(?m)^iscsistart: ibft: corrupt table in memory /dev/mem at 0x` + scan[1] +
		`: acpi_header\.checksum = 0x[0-9a-f]{2}: checksum mismatch \(want 0x[0-9a-f]{2}\); no other table; .*$`)
	if n := len(line.FindAllString(c, -1)); n != 2 {
		t.Errorf("want one line from -f and one from -b naming the table at 0x%s and its checksum, got %d:\n%s", scan[1], n, c)
	}
	if !strings.Contains(c, "SESSIONS: 0") {
		t.Errorf("a session exists after a refused table:\n%s", c)
	}
}

// TestFirmwareOptionROM checks the ROM LegacyIBFTArgs hands QEMU: SeaBIOS runs only a ROM with the
// signature, a size that covers it and a zero byte sum, and the table inside must stay as given.
func TestFirmwareOptionROM(t *testing.T) {
	table := make([]byte, 600)
	for i := range table {
		table[i] = byte(i * 7)
	}
	rom, err := optionROM(table)
	if err != nil {
		t.Fatal(err)
	}
	var sum byte
	for _, b := range rom {
		sum += b
	}
	if rom[0] != 0x55 || rom[1] != 0xaa || int(rom[2])*romBlock != len(rom) || len(rom)%romBlock != 0 || sum != 0 {
		t.Errorf("header % x, %d bytes, byte sum 0x%02x: want 55 aa, a size in 512-byte blocks that covers it, sum 0", rom[:4], len(rom), sum)
	}
	if got := rom[romTableOffset : romTableOffset+len(table)]; string(got) != string(table) || romTableOffset%16 != 0 {
		t.Errorf("table not kept as given at a 16-byte aligned offset")
	}
	if _, err := optionROM(make([]byte, romMaxBlocks*romBlock)); err == nil {
		t.Errorf("a table larger than an option ROM was accepted")
	}
}
