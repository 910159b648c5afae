package qemutests

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/internal/tgtd"
)

// Console markers of mpHandoffInit: the guest asks the host to drop the
// IPv4 path and to bring it back, and says when it is done.
const (
	mphDropV4     = "MPH-DROP-V4-NOW"
	mphRestoreV4  = "MPH-RESTORE-V4-NOW"
	mpHandoffDone = "MPH-DONE"
)

// mpHandoffConf is the real root's /etc/multipath.conf for
// TestMultipathHandoff: Debian's defaults (find_multipaths strict among
// them, which keeps only the WWIDs in /etc/multipath/wwids: our /init adds
// the map's) and two settings. uid_attribute "" has multipathd read each
// path's WWID from sysfs (VPD page 0x83) instead of udev's ID_SERIAL,
// which no udevd gives it here; no_path_retry queue keeps our map's
// queue_if_no_path when multipathd loads its own table.
const mpHandoffConf = `defaults {
	uid_attribute ""
	user_friendly_names no
	no_path_retry queue
}
`

// mpHandoffInit is the root's /sbin/init for TestMultipathHandoff: what a
// Debian root with multipath-tools and open-iscsi does after our /init
// switched to it on the map, then the proof. It starts Debian's iscsid,
// which adopts both sessions with the node records /init installed, and
// Debian's multipathd (foreground, -d -s), which adopts the map: with no
// udevd in this root (and no udev database), it learns the paths from the
// map's table and their WWIDs from sysfs. Every wait is bounded; a failure prints handoffFail and powers off.
const mpHandoffInit = rootInitPrelude + `ts "root init"
mount -o remount,rw / || fail "remount the root read-write"
mkdir -p /run/lock /etc/multipath
echo "ROOT: $(awk '$2 == "/" {print $1}' /proc/mounts | tail -1)"
echo "SESSIONS: $(ls /sys/class/iscsi_session | tr '\n' ' ')"
sessions() { ls -d /sys/class/iscsi_session/session* | sed 's/.*session//'; }
alltimers() { for n in $(sessions); do echo "TIMERS $1 session$n: recovery_tmo=$(cat /sys/class/iscsi_session/session$n/recovery_tmo) ping_tmo=$(cat /sys/class/iscsi_connection/connection$n:0/ping_tmo) recv_tmo=$(cat /sys/class/iscsi_connection/connection$n:0/recv_tmo)"; done; }
alltimers "before iscsid"
for f in $(find /etc/iscsi/nodes -type f 2>/dev/null); do grep -E "^node.conn\[0\].address|replacement_timeout|noop_out" $f | sed "s|^|RECORD: |"; done
dmsetup table | sed 's/^/DMTABLE-OURS: /'
grep -v '^#' /etc/multipath/wwids | sed 's/^/WWIDS: /'
ports0=$(cat /sys/class/iscsi_connection/*/local_port | tr '\n' ' ')
iscsid -f &
adopted() { [ "$(iscsiadm -m session -P 3 2>/dev/null | grep -c 'Internal iscsid Session State: NO CHANGE')" = 2 ] && [ "$(iscsiadm -m session -P 3 2>/dev/null | grep -c 'iSCSI Session State: LOGGED_IN')" = 2 ]; }
wait_for 600 adopted || fail "iscsid did not adopt both sessions in 60 s: $(iscsiadm -m session -P 3 2>&1 | grep State)"
ts "ADOPTED by iscsid: local ports $ports0-> $(cat /sys/class/iscsi_connection/*/local_port | tr '\n' ' ')"
alltimers "after adoption"
iscsiadm -m session 2>&1 | sed 's/^/IADM: /'
multipathd -d -s &
paths() { multipathd show paths raw format "%d %t %T" 2>/dev/null; }
bothready() { [ "$(paths | grep -c 'active ready')" = 2 ]; }
wait_for 600 bothready || fail "multipathd: paths not both active in 60 s: $(paths)"
ts "ADOPTED by multipathd"
paths | sed 's/^/MPATHD-PATH: /'
multipathd show maps raw format "%n %w %N %Q" 2>&1 | sed 's/^/MPATHD-MAP: /'
multipathd show maps topology 2>&1 | sed 's/^/MPATHD-TOPOLOGY: /'
dmsetup table | sed 's/^/DMTABLE-MPATHD: /'
dd if=/dev/urandom of=/after.bin bs=64k count=4 2>/dev/null && sha256sum /after.bin > /after.sum && sync || fail "write after the hand-off"
for c in /sys/class/iscsi_connection/connection*; do case "$(cat $c/persistent_address)" in *:*) ;; *) c4=$c;; esac; done
n4=${c4##*connection}; n4=${n4%:0}; s4=/sys/class/iscsi_session/session$n4
d4=$(basename $(ls -d $s4/device/target*/*/block/* | head -1))
pstate() { paths | awk -v d=$1 '$1 == d {print $2}'; }
ts "` + mphDropV4 + `"
v4failed() { [ "$(pstate $d4)" = failed ]; }
timeout 120 dd if=/dev/urandom of=/during.bin bs=64k count=4 conv=fsync 2>/dev/null && sha256sum /during.bin > /during.sum || fail "write while the IPv4 path is down"
ts "T-WRITTEN while the IPv4 path is down: session$n4 $(cat $s4/state), $d4 $(pstate $d4)"
wait_for 600 v4failed || fail "multipathd did not fail $d4 in 60 s: $(paths)"
ts "T-MPATHD-FAILED: $d4 $(pstate $d4)"
paths | sed 's/^/MPATHD-PATH-DOWN: /'
ts "` + mphRestoreV4 + `"
v4back() { [ "$(cat $s4/state)" = LOGGED_IN ] && [ "$(pstate $d4)" = active ]; }
wait_for 600 v4back || fail "iscsid and multipathd did not bring $d4 back in 60 s: session$n4 $(cat $s4/state), $(paths)"
ts "T-MPATHD-REINSTATED: session$n4 $(cat $s4/state), $d4 $(pstate $d4)"
paths | sed 's/^/MPATHD-PATH-BACK: /'
echo 3 > /proc/sys/vm/drop_caches
sha256sum -c -s /after.sum /during.sum || fail "data changed"
echo "READBACK: OK"
alltimers "at the end"
ts "` + mpHandoffDone + `"
sync
poweroff -f
`

// TestMultipathHandoff is the multipath root handed to Debian's
// open-iscsi and multipath-tools (this machine's, copied into the root
// with their libraries and multipath's checker and prioritizer plugins):
// our /init logs in over IPv4 and IPv6, makes the map and switches to the
// root on it, with the map's WWID added to the root's
// /etc/multipath/wwids; there iscsid adopts both sessions and keeps README 8.1's
// timers from the node records (replacement_timeout 5, NOP-outs 5/10 s;
// Debian's iscsid.conf says 120 and 5/5), and multipathd, with no udevd,
// takes the map over with both paths active and ready. Then the host drops
// the IPv4 path: a write goes on through IPv6 once the replacement timeout
// fails its I/O, multipathd fails the path; the portal comes back, iscsid
// logs in again and multipathd reinstates the path; the data reads back.
func TestMultipathHandoff(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h := New(t)
	img := handoffRootImage(mpHandoffInit)
	img.Name = "mpath-handoff-root.ext4"
	plugins, err := filepath.Glob("/lib/multipath/*.so")
	if err != nil || len(plugins) == 0 {
		t.Fatalf("multipath-tools' plugins in /lib/multipath (scripts/deps.sh installs multipath-tools): %v", err)
	}
	img.Programs = append(img.Programs, append([]string{"/sbin/multipathd", "/usr/sbin/dmsetup"}, plugins...)...)
	// glibc loads libgcc_s when a thread is cancelled, as multipathd's are
	img.HostFiles = append(img.HostFiles, "/lib/x86_64-linux-gnu/libgcc_s.so.1")
	img.Files["/etc/multipath.conf"] = ImageFile{mpHandoffConf, 0o644}
	disk, err := img.Build(ctx, h.Dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	if _, err := srv.Tgtadm(ctx, "--op", "new", "--mode", "portal", "--param", fmt.Sprintf("portal=[::1]:%d", srv.Port)); err != nil {
		t.Fatal(err)
	}
	vm := h.Boot(ctx, BootOptions{Initrd: mpInitramfs(ctx, t, h),
		Append: fmt.Sprintf("ip=eth0:dhcp ip=eth0:auto6 netroot=iscsi:%s::%d::%s netroot=iscsi:[%s]::%d::%s rw",
			HostAddr, srv.Port, TargetIQN, HostAddr6, srv.Port, TargetIQN)})
	wait := func(marker string) {
		t.Helper()
		if _, err := vm.WaitFor(ctx, marker); err != nil {
			t.Fatalf("%v; console:\n%s", err, consoleText(vm))
		}
	}
	v4 := fmt.Sprintf("127.0.0.1:%d", srv.Port)
	wait(mphDropV4)
	// iscsid's connections, after its adoption: delete the IPv4 portal and
	// kill its connection (tgt keeps a connection when its portal goes)
	cs := waitConns(ctx, t, srv, func(cs []tgtd.Conn) bool { return len(cs) == 2 })
	if _, err := srv.Tgtadm(ctx, "--op", "delete", "--mode", "portal", "--param", "portal="+v4); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Address == "127.0.0.1" {
			if err := srv.DropConnection(ctx, 1, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	wait(mphRestoreV4)
	if _, err := srv.Tgtadm(ctx, "--op", "new", "--mode", "portal", "--param", "portal="+v4); err != nil {
		t.Fatal(err)
	}
	wait(mpHandoffDone)
	if err := vm.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	c := consoleText(vm)
	const wwid = "360000000000000000e00000000010001" // tgt's NAA name of target 1, LUN 1
	want := []string{
		"ROOT: /dev/mapper/" + wwid,
		"multipath wwids: 1 added to /etc/multipath/wwids",
		"WWIDS: /" + wwid + "/\n",
		"SESSIONS: session1 session2 ",
		"TIMERS before iscsid session1: recovery_tmo=5 ping_tmo=10 recv_tmo=5",
		"TIMERS before iscsid session2: recovery_tmo=5 ping_tmo=10 recv_tmo=5",
		"RECORD: node.session.timeo.replacement_timeout = 5\n",
		"RECORD: node.conn[0].timeo.noop_out_interval = 5\n",
		"RECORD: node.conn[0].timeo.noop_out_timeout = 10\n",
		"TIMERS after adoption session1: recovery_tmo=5 ping_tmo=10 recv_tmo=5",
		"TIMERS after adoption session2: recovery_tmo=5 ping_tmo=10 recv_tmo=5",
		"TIMERS at the end session1: recovery_tmo=5 ping_tmo=10 recv_tmo=5",
		"TIMERS at the end session2: recovery_tmo=5 ping_tmo=10 recv_tmo=5",
		fmt.Sprintf("IADM: tcp: [1] %s:%d,1 %s (non-flash)", HostAddr, srv.Port, TargetIQN),
		fmt.Sprintf("IADM: tcp: [2] [%s]:%d,1 %s (non-flash)", HostAddr6, srv.Port, TargetIQN),
		"MPATHD-MAP: " + wwid + " " + wwid + " 2 on",
		"T-MPATHD-FAILED: ", "T-MPATHD-REINSTATED: ", "READBACK: OK",
		"TIMERS at the end session1: recovery_tmo=5 ping_tmo=10 recv_tmo=5",
	}
	for _, w := range want {
		if !strings.Contains(c, w) {
			t.Errorf("console lacks %q", w)
		}
	}
	if n := len(regexp.MustCompile(`MPATHD-PATH: sd[a-z] active ready`).FindAllString(c, -1)); n != 2 {
		t.Errorf("multipathd shows %d paths active and ready, want 2", n)
	}
	// what multipathd does to a map whose WWID it would not keep
	if strings.Contains(c, "unable to flush devmap") {
		t.Errorf("multipathd tried to flush the root's map: %s", lineWith(c, "unable to flush devmap"))
	}
	if strings.Contains(c, handoffFail) {
		t.Errorf("guest failed: %s", lineWith(c, handoffFail))
	}
	g := func(s string) float64 { return guestSecs(c, s) }
	t.Logf("after the hand-off (guest uptime, s): IPv4 dropped %.2f, a write done on IPv6 alone %.2f, multipathd failed the path %.2f; portal back %.2f, iscsid logged in again and multipathd reinstated the path %.2f",
		g(mphDropV4), g("T-WRITTEN"), g("T-MPATHD-FAILED"), g(mphRestoreV4), g("T-MPATHD-REINSTATED"))
	if t.Failed() {
		t.Logf("console:\n%s", c)
	}
}
