package qemutests

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/ibft"
)

// TestCmdlineBoot boots our /init from the kernel command line forms
// people write: a static ip= with the target on it, dracut's manual
// rd.iscsi.target.* keys with rd.iscsi.initiator, CHAP in netroot=, and
// rd.iscsi.firmware with a corrupt table (a bad checksum, found by the
// legacy scan): the boot says why the table is not used and goes on from
// netroot=.
func TestCmdlineBoot(t *testing.T) {
	cases := []struct {
		name    string
		chap    bool
		corrupt bool // a firmware table with a bad checksum
		cmdline func(port int) string
		console []string
	}{
		{"static ip=", false, false, func(port int) string {
			return fmt.Sprintf("ip=10.0.2.15::10.0.2.2:255.255.255.0:guest:eth0:none netroot=iscsi:%s::%d::%s", HostAddr, port, TargetIQN)
		}, []string{"eth0: static [10.0.2.15/24] gateway 10.0.2.2"}},
		{"rd.iscsi.target.*", false, false, func(port int) string {
			return fmt.Sprintf("ip=dhcp rd.iscsi.initiator=iqn.2025-01.test:other-init rd.iscsi.target.name=%s rd.iscsi.target.ip=%s rd.iscsi.target.port=%d rd.iscsi.target.group=1",
				TargetIQN, HostAddr, port)
		}, []string{"eth0: dhcp"}},
		{"CHAP in netroot=", true, false, func(port int) string {
			return fmt.Sprintf("ip=dhcp netroot=iscsi:alice:alice-secret-1:disk1:target-secret-2@%s::%d::%s", HostAddr, port, TargetIQN)
		}, nil},
		{"corrupt iBFT and a netroot", false, true, func(port int) string {
			return fmt.Sprintf("rd.iscsi.firmware=1 ip=dhcp netroot=iscsi:%s::%d::%s", HostAddr, port, TargetIQN)
		}, []string{"warning: firmware table not used, booting from the command line: ibft: corrupt table in memory /dev/mem at 0x",
			": acpi_header.checksum = 0x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			h := New(t)
			disk := h.RootDisk(ctx)
			srv := h.Target(ctx, 1, TargetIQN, disk.Path)
			if tc.chap {
				chapAccounts(t, ctx, h, true)
			}
			initrd := ourInitramfs(ctx, t, h)
			var extra []string
			if tc.corrupt {
				b, err := os.ReadFile(writeIBFT(t, h.Dir, ibft.Target{Port: uint16(srv.Port), Name: TargetIQN}))
				if err != nil {
					t.Fatal(err)
				}
				b[9] ^= 0x5a // the ACPI header's checksum byte
				extra = h.LegacyIBFTArgs(b)
			}
			vm := h.Boot(ctx, BootOptions{Initrd: initrd, Append: tc.cmdline(srv.Port), ExtraArgs: extra})
			vm.Expect(ctx, disk.Marker)
			if err := vm.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			var console strings.Builder
			for _, l := range vm.Lines() {
				console.WriteString(l.Text + "\n")
			}
			for _, want := range append(tc.console, "Logging into "+TargetIQN, "root /dev/sda (ext4) mounted") {
				if !strings.Contains(console.String(), want) {
					t.Errorf("console lacks %q", want)
				}
			}
			if strings.Contains(console.String(), "secret-") {
				t.Errorf("a CHAP secret reached the console")
			}
		})
	}
}
