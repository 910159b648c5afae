package qemutests

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iscsiboot/iscsiboot/ibft"
)

// The guest's static IPv6 address in an iBFT: in slirp's prefix, beside
// the address slirp's router advertisement would give it.
const (
	guestAddr6 = "fec0::15"
	slirpDNS6  = "fec0::3"
)

// writeIBFT6 is writeIBFT with everything IPv6 (iBFT 1.03, Sections
// 3.6-3.7: native 16-byte addresses and a prefix length): the NIC at
// fec0::15/64 with slirp's host as gateway, and one target at slirp's
// host address, HostAddr6, which slirp connects to the host's [::1].
func writeIBFT6(t testing.TB, dir string, port int) string {
	t.Helper()
	mac, _ := net.ParseMAC(MAC)
	tab := &ibft.Table{
		Header:    ibft.Header{OEMID: "ISCSIB", OEMTableID: "TESTIBF6"},
		Initiator: &ibft.Initiator{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, Name: InitiatorIQN},
		NICs: []ibft.NIC{{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, IP: netip.MustParseAddr(guestAddr6),
			PrefixLen: 64, Origin: ibft.OriginManual, Gateway: netip.MustParseAddr(HostAddr6),
			PrimaryDNS: netip.MustParseAddr(slirpDNS6), MAC: mac, PCIBDF: ibft.NewBDF(0, 3, 0)}},
		Targets: []ibft.Target{{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, IP: netip.MustParseAddr(HostAddr6),
			Port: uint16(port), LUN: ibft.LUNFromInt(1), Name: TargetIQN}},
	}
	b, err := tab.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "ibft6.bin")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFirmwareIPv6 boots from an iBFT whose NIC and target are IPv6 only:
// the target at fec0::2, which slirp connects to tgtd on the host's [::1].
// Once through the drop-in (-f beside open-iscsi's, the kernel's sysfs
// view printed, then -N and -b), once through our /init with
// rd.iscsi.firmware. No IPv4 portal exists, so the root can only come
// over IPv6.
func TestFirmwareIPv6(t *testing.T) {
	t.Run("drop-in", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		onlyIPv6(r)
		table := writeIBFT6(t, r.h.Dir, r.srv.Port)
		g := firmwareGuest(r.bin, "")
		g.Login = `for f in /sys/firmware/ibft/ethernet0/* /sys/firmware/ibft/target0/*; do [ -f "$f" ] && echo "SYSFS: ${f#/sys/firmware/ibft/} = $(cat $f)"; done
` + g.Login
		vm := r.h.Boot(r.ctx, BootOptions{Initrd: r.h.Initramfs(r.ctx, g), ExtraArgs: []string{"-acpitable", "sig=iBFT,file=" + table}})
		vm.Expect(r.ctx, r.disk.Marker)
		vm.Wait(r.ctx)
		c := consoleText(vm)
		if rc, err := vm.LoginExitCode(); err != nil || rc != 0 {
			t.Errorf("iscsistart -N && iscsistart -b exit = %d, %v; want 0", rc, err)
		}
		ours, theirs := fwLines(c, "FW-OURS: "), fwLines(c, "FW-THEIRS: ")
		if len(theirs) < 10 || len(ours) != len(theirs) {
			t.Fatalf("records differ in length: ours %d lines, open-iscsi's %d", len(ours), len(theirs))
		}
		for i := range theirs {
			if strings.HasPrefix(theirs[i], "node.boot_lun = ") {
				continue
			}
			if ours[i] != theirs[i] {
				t.Errorf("line %d: ours %q, open-iscsi's %q", i, ours[i], theirs[i])
			}
		}
		// open-iscsi prints the kernel's sysfs form, every group in full.
		for _, want := range []string{
			"SYSFS: ethernet0/ip-addr = fec0:0000:0000:0000:0000:0000:0000:0015",
			"SYSFS: ethernet0/prefix-len = 64",
			"FW-OURS: iface.ipaddress = fec0:0000:0000:0000:0000:0000:0000:0015",
			"FW-OURS: iface.prefix_len = 64",
			"FW-OURS: iface.gateway = fec0:0000:0000:0000:0000:0000:0000:0002",
			"FW-OURS: node.conn[0].address = fec0:0000:0000:0000:0000:0000:0000:0002",
			"iscsistart: eth0: configured [" + guestAddr6 + "/64]",
			fmt.Sprintf("iscsistart: logged in to %s at [%s]:%d", TargetIQN, HostAddr6, r.srv.Port),
			"SESSIONS: 1",
		} {
			if !strings.Contains(c, want) {
				t.Errorf("console lacks %q", want)
			}
		}
	})

	t.Run("init", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		onlyIPv6(r)
		table := writeIBFT6(t, r.h.Dir, r.srv.Port)
		vm := r.h.Boot(r.ctx, BootOptions{Initrd: ourInitramfsNamed(r.ctx, t, r.h, ""), Append: "rd.iscsi.firmware=1 ip=ibft",
			ExtraArgs: []string{"-acpitable", "sig=iBFT,file=" + table}})
		vm.Expect(r.ctx, r.disk.Marker)
		if err := vm.Wait(r.ctx); err != nil {
			t.Fatal(err)
		}
		c := consoleText(vm)
		t.Logf("%s; login: %s", lineWith(c, "eth0: static ["), loginRow(c))
		for _, want := range []string{
			"eth0: static [" + guestAddr6 + "/64]",
			fmt.Sprintf("Logging into %s [%s]:%d", TargetIQN, HostAddr6, r.srv.Port),
			"root /dev/sda (ext4) mounted",
		} {
			if !strings.Contains(c, want) {
				t.Errorf("console lacks %q", want)
			}
		}
	})
}

// loginRow is the row of /init's login table for TargetIQN: portal,
// session, disk and login time.
func loginRow(console string) string {
	return strings.Join(strings.Fields(regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(TargetIQN)+` +\[.*$`).FindString(console)), " ")
}

// onlyIPv6 moves r's tgtd from 127.0.0.1 to [::1], same port: a guest
// that reaches the root reached it over IPv6.
func onlyIPv6(r *rig) {
	r.h.t.Helper()
	for _, op := range [][2]string{{"new", "[::1]"}, {"delete", "127.0.0.1"}} {
		if _, err := r.srv.Tgtadm(r.ctx, "--op", op[0], "--mode", "portal", "--param", fmt.Sprintf("portal=%s:%d", op[1], r.srv.Port)); err != nil {
			r.h.t.Fatal(err)
		}
	}
}
