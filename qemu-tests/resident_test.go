package qemutests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/internal/tgtd"
)

// Console markers of residentInit.
const (
	residentDropNow = "RESIDENT-DROP-NOW"
	residentDone    = "RESIDENT-DONE"
)

// residentInit is the root's /sbin/init for TestResident: the time after
// switch_root and before iscsid starts. It writes data, asks the host to
// drop the connection, and then, with the resident loop (RESIDENT=yes),
// needs the session back without iscsid: a write during the outage
// completes and the connection is a new one. Without the loop it checks
// that nothing logs in again for 10 s (and warms the page cache with the
// root's files first: iscsid's own program is on the stalled root). Then
// it starts Debian's iscsid: the
// loop must be gone at once, iscsid adopts the session, and everything
// written reads back.
const residentInit = rootInitPrelude + `ts "root init"
mount -o remount,rw / || fail "remount the root read-write"
mkdir -p /run/lock
resident() { for p in /proc/[0-9]*; do case "$(tr '\0' ' ' < $p/cmdline 2>/dev/null)" in "@iscsiboot-resident "*) echo ${p#/proc/};; esac; done; }
echo "RESIDENT-PIDS: $(resident)"
if [ "$RESIDENT" != yes ]; then
	# iscsid and iscsiadm live on the iSCSI root: while it is down their
	# exec waits for it, and iscsid never starts (the deadlock the loop is
	# for). The control reads the root's files into the page cache first,
	# so that iscsid can start and end the test.
	find / -xdev -type f -exec cat {} + > /dev/null 2>&1
fi
p0=$(lport)
dd if=/dev/urandom of=/before.bin bs=64k count=4 2>/dev/null && sha256sum /before.bin > /before.sum && sync || fail "write before the drop"
ts "` + residentDropNow + `"
# The loop may log in again within the 0.1 s between two looks: a new
# local port shows the connection was replaced all the same.
down() { [ "$(state)" != LOGGED_IN ] || [ "$(lport)" != "$p0" ]; }
wait_for 300 down || fail "session still LOGGED_IN on the same connection 30 s after the drop request"
ts "DOWN: state $(state), local port $(lport)"
relogged() { [ "$(state)" = LOGGED_IN ] && [ "$(lport)" != "$p0" ]; }
if [ "$RESIDENT" = yes ]; then
	timeout 60 dd if=/dev/urandom of=/during.bin bs=64k count=4 conv=fsync 2>/dev/null && sha256sum /during.bin > /during.sum && sync || fail "write during the outage"
	wait_for 300 relogged || fail "no re-login in 30 s without iscsid: state $(state)"
	ts "UP without iscsid: state $(state)"
	timers "after the resident loop's login"
else
	if wait_for 100 relogged; then fail "logged in again without iscsid or the resident loop"; fi
	ts "STILL DOWN after 10 s: state $(state)"
fi
p1=$(lport)
iscsid -f &
gone() { [ -z "$(resident)" ]; }
wait_for 50 gone || fail "resident loop still running 5 s after iscsid started: $(resident)"
ts "NO RESIDENT LOOP"
adopted() { [ "$(state)" = LOGGED_IN ] && [ "$(lport)" != "$p1" ] && iscsiadm -m session -P 3 2>/dev/null | grep -q "Internal iscsid Session State: NO CHANGE"; }
wait_for 600 adopted || fail "iscsid did not take the session in 60 s: state $(state)"
ts "ADOPTED: state $(state)"
timers "after adoption"
echo 3 > /proc/sys/vm/drop_caches
sha256sum -c /*.sum 2>&1 | sed 's/^/READBACK: /'
sha256sum -c -s /*.sum || fail "data changed"
echo "SESSIONS: $(ls /sys/class/iscsi_session)"
ts "` + residentDone + `"
sync
poweroff -f
`

// TestResident: rd.iscsi.resident keeps the root's session between
// switch_root and iscsid. Our /init logs in, starts the resident loop and
// switches to a root with Debian's iscsid, which the root does not start
// yet. The host drops the connection (tgtadm): the loop logs in again on
// the same kernel session, so a write issued during the outage completes,
// with the root-disk timers kept; when iscsid starts, the loop leaves at
// once and iscsid adopts the session; the data reads back. The control,
// without the loop, shows the session stays down until iscsid.
func TestResident(t *testing.T) {
	for _, tc := range []struct {
		name     string
		resident bool
		want     []string
	}{
		{"resident loop", true, []string{
			"iscsiboot: ", "resident loop started",
			"iscsiboot-resident: watching 1 session(s) until iscsid runs",
			"iscsiboot-resident: session 1 (" + TargetIQN + " at " + HostAddr,
			"iscsiboot-resident: session 1: logged in again after",
			"UP without iscsid: state LOGGED_IN",
			"TIMERS after the resident loop's login: recovery_tmo=86400 ping_tmo=0 recv_tmo=0",
			"READBACK: /during.bin: OK",
			"): the sessions are its now; resident loop done",
		}},
		{"without it the session waits for iscsid", false, []string{
			"STILL DOWN after 10 s",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			h := New(t)
			init := residentInit
			opt := ""
			if tc.resident {
				init = strings.Replace(init, "\n", "\nRESIDENT=yes\n", 1)
				opt = " rd.iscsi.resident=1"
			}
			disk, err := handoffRootImage(init).Build(ctx, h.Dir)
			if err != nil {
				t.Fatal(err)
			}
			srv := h.Target(ctx, 1, TargetIQN, disk.Path)
			vm := h.Boot(ctx, BootOptions{Initrd: ourInitramfs(ctx, t, h),
				Append: fmt.Sprintf("ip=dhcp netroot=iscsi:%s::%d::%s rw%s", HostAddr, srv.Port, TargetIQN, opt)})
			if _, err := vm.WaitFor(ctx, residentDropNow); err != nil {
				t.Fatalf("%v; console:\n%s", err, consoleText(vm))
			}
			_, took := faultAndWaitRelogin(ctx, t, srv, func(c tgtd.Conn) error { return srv.DropConnection(ctx, 1, c) })
			if _, err := vm.WaitFor(ctx, residentDone); err != nil {
				t.Fatalf("%v; console:\n%s", err, consoleText(vm))
			}
			if err := vm.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			c := consoleText(vm)
			want := append([]string{"NO RESIDENT LOOP", "ADOPTED: state LOGGED_IN", "TIMERS after adoption: recovery_tmo=86400 ping_tmo=0 recv_tmo=0",
				"READBACK: /before.bin: OK", "SESSIONS: session1\n"}, tc.want...)
			for _, w := range want {
				if !strings.Contains(c, w) {
					t.Errorf("console lacks %q", w)
				}
			}
			if strings.Contains(c, handoffFail) {
				t.Errorf("guest failed: %s", lineWith(c, handoffFail))
			}
			down, up := guestSecs(c, "DOWN: "), guestSecs(c, "UP without iscsid")
			t.Logf("after the drop, tgtd saw a new login %v later; the guest saw the session down at %.2f s and up at %.2f s without iscsid",
				took.Round(time.Millisecond), down, up)
		})
	}
}

// TestResidentDropIn: iscsistart --resident, as a distribution's initramfs
// script would call it: the login returns, the loop stays behind it, and
// when the host drops the connection the loop logs in again before the
// script goes on to mount the root.
func TestResidentDropIn(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	const conn = "/sys/class/iscsi_connection/connection1:0/local_port"
	g := OurGuest(r.bin, r.srv.Port, "--resident")
	g.Login = fmt.Sprintf("iscsistart -i %s -t %s -g 1 -a %s -p %d --resident || exit $?\n", InitiatorIQN, TargetIQN, HostAddr, r.srv.Port) +
		`p0=$(cat ` + conn + `); echo "` + residentDropNow + `"
i=0; while [ $i -lt 300 ]; do p=$(cat ` + conn + ` 2>/dev/null); st=$(cat /sys/class/iscsi_session/session1/state)
[ "$st" = LOGGED_IN ] && [ -n "$p" ] && [ "$p" != "$p0" ] && break; sleep 0.1; i=$((i+1)); done
echo "RELOGIN: $st port $p0 -> $p"; [ "$p" != "$p0" ]`
	vm := r.h.Boot(r.ctx, BootOptions{Initrd: r.h.Initramfs(r.ctx, g)})
	if _, err := vm.WaitFor(r.ctx, residentDropNow); err != nil {
		t.Fatalf("%v; console:\n%s", err, consoleText(vm))
	}
	_, took := faultAndWaitRelogin(r.ctx, t, r.srv, func(c tgtd.Conn) error { return r.srv.DropConnection(r.ctx, 1, c) })
	vm.Expect(r.ctx, r.disk.Marker)
	vm.Wait(r.ctx)
	c := consoleText(vm)
	for _, w := range []string{"iscsistart: resident loop started", "iscsiboot-resident: session 1: logged in again after", "RELOGIN: LOGGED_IN port "} {
		if !strings.Contains(c, w) {
			t.Errorf("console lacks %q:\n%s", w, c)
		}
	}
	t.Logf("tgtd saw the loop's login %v after the drop", took.Round(time.Millisecond))
}
