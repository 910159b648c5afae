package qemutests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// OurGuest logs in with iscsiboot's iscsistart, the same command line as
// ReferenceGuest, plus extra flags.
func OurGuest(bin string, port int, extra string) Guest {
	return Guest{
		Login:    fmt.Sprintf("iscsistart -i %s -t %s -g 1 -a %s -p %d %s", InitiatorIQN, TargetIQN, HostAddr, port, extra),
		Binaries: map[string]string{"/sbin/iscsistart": bin},
	}
}

// TestKernelLogin boots Debian's kernel with our static iscsistart logging
// in through the kernel's iSCSI transport (NETLINK_ISCSI, iscsi_tcp), with
// no authentication, CHAP and mutual CHAP: the root disk appears, is
// mounted and switched to.
func TestKernelLogin(t *testing.T) {
	cases := []struct {
		name  string
		auth  func(ctx context.Context, h *Harness, port int) string
		check []string
	}{
		{"no auth", nil, nil},
		{"mutual CHAP", func(ctx context.Context, h *Harness, port int) string {
			srv := h.Tgtd(ctx)
			for _, err := range []error{
				srv.NewAccount(ctx, "alice", "alice-secret-1"), srv.NewAccount(ctx, "disk1", "target-secret-2"),
				srv.BindAccount(ctx, 1, "alice", false), srv.BindAccount(ctx, 1, "disk1", true),
			} {
				if err != nil {
					t.Fatal(err)
				}
			}
			return "-u alice -w alice-secret-1 -U disk1 -W target-secret-2"
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			h := New(t)
			bin := h.GoBinary(ctx, "./cmd/iscsistart")
			disk := h.RootDisk(ctx)
			srv := h.Target(ctx, 1, TargetIQN, disk.Path)
			extra := ""
			if tc.auth != nil {
				extra = tc.auth(ctx, h, srv.Port)
			}
			vm := h.Boot(ctx, BootOptions{Initrd: h.Initramfs(ctx, OurGuest(bin, srv.Port, extra))})
			vm.Expect(ctx, disk.Marker)
			if err := vm.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			if rc, err := vm.LoginExitCode(); err != nil || rc != 0 {
				t.Errorf("iscsistart exit = %d, %v; want 0", rc, err)
			}
			var console strings.Builder
			for _, l := range vm.Lines() {
				console.WriteString(l.Text + "\n")
			}
			if !strings.Contains(console.String(), "iscsistart: logged in to "+TargetIQN) {
				t.Errorf("no login line on the console")
			}
			if strings.Contains(console.String(), "secret-") {
				t.Errorf("a CHAP secret reached the console")
			}
			t.Logf("iscsiboot boot (%s):\n%s", tc.name, FormatMarks(vm.Marks()))
		})
	}
}
