package qemutests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestCmdlineBoot boots our /init from the kernel command line forms
// people write: a static ip= with the target on it, dracut's manual
// rd.iscsi.target.* keys with rd.iscsi.initiator, and CHAP in netroot=.
func TestCmdlineBoot(t *testing.T) {
	cases := []struct {
		name    string
		chap    bool
		cmdline func(port int) string
		console []string
	}{
		{"static ip=", false, func(port int) string {
			return fmt.Sprintf("ip=10.0.2.15::10.0.2.2:255.255.255.0:guest:eth0:none netroot=iscsi:%s::%d::%s", HostAddr, port, TargetIQN)
		}, []string{"eth0: static [10.0.2.15/24] gateway 10.0.2.2"}},
		{"rd.iscsi.target.*", false, func(port int) string {
			return fmt.Sprintf("ip=dhcp rd.iscsi.initiator=iqn.2025-01.test:other-init rd.iscsi.target.name=%s rd.iscsi.target.ip=%s rd.iscsi.target.port=%d rd.iscsi.target.group=1",
				TargetIQN, HostAddr, port)
		}, []string{"eth0: dhcp"}},
		{"CHAP in netroot=", true, func(port int) string {
			return fmt.Sprintf("ip=dhcp netroot=iscsi:alice:alice-secret-1:disk1:target-secret-2@%s::%d::%s", HostAddr, port, TargetIQN)
		}, nil},
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
			vm := h.Boot(ctx, BootOptions{Initrd: initrd, Append: tc.cmdline(srv.Port)})
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
