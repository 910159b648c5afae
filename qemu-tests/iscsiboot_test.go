package qemutests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// OurGuest logs in with iscsiboot's iscsistart, the same command line as
// ReferenceGuest, plus extra flags. After the login, successful or not, it
// prints the kernel's iSCSI sessions and their root-disk timers from
// sysfs, and keeps iscsistart's exit code.
func OurGuest(bin string, port int, extra string) Guest {
	return Guest{
		Login: fmt.Sprintf("iscsistart -i %s -t %s -g 1 -a %s -p %d %s; rc=$?; ", InitiatorIQN, TargetIQN, HostAddr, port, extra) +
			`echo "SESSIONS: $(ls /sys/class/iscsi_session 2>/dev/null | wc -l)"; ` +
			`for s in /sys/class/iscsi_session/session*; do [ -e "$s" ] && echo "TIMERS: recovery_tmo=$(cat $s/recovery_tmo) ` +
			`noop=$(cat /sys/class/iscsi_connection/connection${s##*session}:0/ping_tmo 2>/dev/null),$(cat /sys/class/iscsi_connection/connection${s##*session}:0/recv_tmo 2>/dev/null) ` +
			`target=$(cat $s/targetname) user=$(cat $s/username) ` +
			`persistent=$(cat /sys/class/iscsi_connection/connection${s##*session}:0/persistent_address):$(cat /sys/class/iscsi_connection/connection${s##*session}:0/persistent_port)"; done; exit $rc`,
		Binaries: map[string]string{"/sbin/iscsistart": bin},
	}
}

func chapAccounts(t *testing.T, ctx context.Context, h *Harness, mutual bool) {
	srv := h.Tgtd(ctx)
	errs := []error{srv.NewAccount(ctx, "alice", "alice-secret-1"), srv.BindAccount(ctx, 1, "alice", false)}
	if mutual {
		errs = append(errs, srv.NewAccount(ctx, "disk1", "target-secret-2"), srv.BindAccount(ctx, 1, "disk1", true))
	}
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestKernelLogin boots Debian's kernel with our static iscsistart logging
// in through the kernel's iSCSI transport (NETLINK_ISCSI, iscsi_tcp) from
// open-iscsi's flags. A good login reaches the iSCSI root with the
// root-disk timers in the kernel; a refused one exits with open-iscsi's
// code and leaves no session behind.
func TestKernelLogin(t *testing.T) {
	cases := []struct {
		name     string
		accounts int // 0 none, 1 CHAP, 2 mutual CHAP
		flags    string
		rc       int
		console  []string
	}{
		{"no auth", 0, "", 0, []string{"SESSIONS: 1", "TIMERS: recovery_tmo=86400 noop=0,0 target=" + TargetIQN}},
		{"CHAP", 1, "-u alice -w alice-secret-1", 0, []string{"SESSIONS: 1", "user=alice"}},
		{"mutual CHAP", 2, "-u alice -w alice-secret-1 -U disk1 -W target-secret-2", 0, []string{"SESSIONS: 1"}},
		{"replacement_timeout from -P", 0, "-P node.session.timeo.replacement_timeout=30 -P node.conn[0].timeo.noop_out_interval=5 -P node.conn[0].timeo.noop_out_timeout=5", 0,
			[]string{"TIMERS: recovery_tmo=30 noop=5,5"}},
		{"wrong password", 1, "-u alice -w wrong-secret-3", 24, []string{"SESSIONS: 0", "0201 authentication failure"}},
		{"unknown target", 0, "", 19, []string{"SESSIONS: 0", "0203 target not found"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			h := New(t)
			bin := h.GoBinary(ctx, "./cmd/iscsistart")
			disk := h.RootDisk(ctx)
			iqn := TargetIQN
			if tc.name == "unknown target" {
				iqn = "iqn.2025-01.test:other"
			}
			srv := h.Target(ctx, 1, iqn, disk.Path)
			if tc.accounts > 0 {
				chapAccounts(t, ctx, h, tc.accounts == 2)
			}
			vm := h.Boot(ctx, BootOptions{Initrd: h.Initramfs(ctx, OurGuest(bin, srv.Port, tc.flags))})
			if tc.rc == 0 {
				vm.Expect(ctx, disk.Marker)
			}
			if err := vm.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			if rc, err := vm.LoginExitCode(); err != nil || rc != tc.rc {
				t.Errorf("iscsistart exit = %d, %v; want %d", rc, err, tc.rc)
			}
			var console strings.Builder
			for _, l := range vm.Lines() {
				console.WriteString(l.Text + "\n")
			}
			for _, want := range tc.console {
				if !strings.Contains(console.String(), want) {
					t.Errorf("console lacks %q", want)
				}
			}
			if strings.Contains(console.String(), "secret-") {
				t.Errorf("a CHAP secret reached the console")
			}
			if tc.rc == 0 {
				t.Logf("iscsiboot boot (%s):\n%s", tc.name, FormatMarks(vm.Marks()))
			}
		})
	}
}
