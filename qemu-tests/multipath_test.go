package qemutests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/internal/tgtd"
)

// Console markers of multipathInit: the guest asks the host for each fault
// and for its end.
const (
	mpDropV4    = "MP-DROP-V4-NOW"
	mpRestoreV4 = "MP-RESTORE-V4-NOW"
	mpDropBoth  = "MP-DROP-BOTH-NOW"
	mpDone      = "MP-DONE"
)

// mpModules are what a multipath root needs besides DefaultModules: the
// device-mapper, its multipath target and both path selectors, and the
// ALUA handler multipathd would attach.
var mpModules = []string{"dm_mod", "dm_multipath", "dm_service_time", "dm_round_robin", "scsi_dh_alua"}

// HostAddr6 is the host as the guest sees it through slirp's IPv6, which
// slirp connects to the host's [::1], in QEMU's default prefix fec0::/64:
// site-local, whose addresses Linux gives site scope, and which
// ip=eth0:auto6 takes as dracut does.
const HostAddr6 = "fec0::2"

// multipathInit is the root's /sbin/init for TestMultipath. It runs from
// tmpfs (rootInitPrelude), finds the IPv4 and the IPv6 session, prints the
// map, the mounts and the kernel's timers, and starts a writer: 16 KiB
// blocks with fsync, in a ring of 64 files, each block's sum kept in tmpfs,
// each completion logged with the guest's uptime. Then, each step stamped
// and bounded:
//
//  1. the host drops the IPv4 path (its portal and connection): the session
//     goes down, dm-multipath fails the path once the replacement timeout
//     (5 s) fails its I/O, and the writer goes on through IPv6 alone;
//  2. the host brings the portal back: the resident loop logs the session
//     in again and puts the path back into the map, and writes reach it;
//  3. the host drops both paths for 12 s: the map queues (queue_if_no_path),
//     and when they come back the writer goes on.
//
// Then the writer stops, the page cache is dropped and every block is read
// back; a write error, a failed sum or a file-system error fails the test.
const multipathInit = rootInitPrelude + `ts "root init"
mount -o remount,rw / || fail "remount the root read-write"
sess() { for c in /sys/class/iscsi_connection/connection*; do case "$(cat $c/persistent_address)" in *:*) [ $1 = 6 ] && basename $c;; *) [ $1 = 4 ] && basename $c;; esac; done; }
c4=/sys/class/iscsi_connection/$(sess 4); c6=/sys/class/iscsi_connection/$(sess 6)
n4=${c4##*connection}; n4=${n4%:0}; n6=${c6##*connection}; n6=${n6%:0}
s4=/sys/class/iscsi_session/session$n4; s6=/sys/class/iscsi_session/session$n6
disk() { basename $(ls -d /sys/class/iscsi_session/session$1/device/target*/*/block/* 2>/dev/null | head -1); }
d4=$(disk $n4); d6=$(disk $n6)
echo "PATHS: v4 session$n4 $(cat $c4/persistent_address) $d4 $(cat /sys/block/$d4/dev); v6 session$n6 $(cat $c6/persistent_address) $d6 $(cat /sys/block/$d6/dev)"
for n in $n4 $n6; do echo "TIMERS session$n: recovery_tmo=$(cat /sys/class/iscsi_session/session$n/recovery_tmo) ping_tmo=$(cat /sys/class/iscsi_connection/connection$n:0/ping_tmo) recv_tmo=$(cat /sys/class/iscsi_connection/connection$n:0/recv_tmo)"; done
echo "ROOT: $(awk '$2 == "/" {print $1}' /proc/mounts | tail -1)"
echo "HOLDERS: $d4 $(ls /sys/block/$d4/holders) $d6 $(ls /sys/block/$d6/holders)"
ls /dev/mapper | sed 's/^/MAPPER: /'
dmsetup table | sed 's/^/DMTABLE: /'
dmsetup status | sed 's/^/DMSTATUS: /'
# the page cache keeps dmsetup runnable while the root stalls
find /usr/sbin/dmsetup /lib /lib64 /usr/lib -type f -exec cat {} + > /dev/null 2>&1
dev4=$(cat /sys/block/$d4/dev); dev6=$(cat /sys/block/$d6/dev)
pathstate() { dmsetup status | awk -v d=$1 '{for (i = 1; i < NF; i++) if ($i == d) print $(i+1)}'; }
writes() { awk '{print $5}' /sys/block/$1/stat; }
done_writes() { wc -l < /run/w.log; }
state() { cat $1/state 2>/dev/null; }
mkdir -p /data /run/sums
: > /run/w.log
(i=0; while [ ! -e /run/stop ]; do
	f=f$((i % 64)); dd if=/dev/urandom of=/run/blk bs=16k count=1 2>/dev/null
	if dd if=/run/blk of=/data/$f bs=16k conv=fsync 2>/run/dd.err; then
		sha256sum /run/blk | sed "s| .*|  /data/$f|" > /run/sums/$f
		read up _ < /proc/uptime; echo "$i $up" >> /run/w.log
	else echo "WRITE-ERROR $i: $(cat /run/dd.err)"; fi
	i=$((i+1))
done) &
wp=$!
moved() { [ $(done_writes) -gt $1 ]; }
wait_for 300 moved 10 || fail "the writer did not get going in 30 s"
ts "WRITER running: $(done_writes) writes, v4 $(writes $d4) v6 $(writes $d6)"

ts "` + mpDropV4 + `"
down() { [ "$(state $s4)" != LOGGED_IN ]; }
wait_for 300 down || fail "the IPv4 session still LOGGED_IN 30 s after the drop"
ts "T-V4-DOWN: session$n4 $(state $s4)"
failed() { [ "$(pathstate $dev4)" = F ]; }
wait_for 300 failed || fail "dm-multipath did not fail $dev4 in 30 s: $(dmsetup status)"
ts "T-V4-FAILED in the map: $(dmsetup status)"
w=$(done_writes); v6w=$(writes $d6)
wait_for 300 moved $w || fail "no write completed in 30 s after the IPv4 path failed"
ts "T-IO-MOVED: write $(done_writes) done through IPv6 alone"
more() { [ $(done_writes) -gt $(($1 + 20)) ]; }
wait_for 600 more $w || fail "fewer than 20 writes in 60 s through IPv6"
ts "T-IPV6-ALONE: $(( $(done_writes) - w )) writes, v6 writes $v6w -> $(writes $d6), v4 $(state $s4)"

ts "` + mpRestoreV4 + `"
up() { [ "$(state $s4)" = LOGGED_IN ]; }
wait_for 300 up || fail "the IPv4 session not back in 30 s: $(state $s4)"
ts "T-V4-UP: session$n4 $(state $s4)"
active() { [ "$(pathstate $dev4)" = A ]; }
wait_for 100 active || fail "$dev4 not back in the map 10 s after its login: $(dmsetup status)"
ts "T-V4-REINSTATED: $(dmsetup status)"
v4w=$(writes $d4)
used() { [ $(writes $d4) -gt $v4w ]; }
wait_for 300 used || fail "no write through IPv4 in 30 s after its return"
ts "T-V4-USED: v4 writes $v4w -> $(writes $d4)"

ts "` + mpDropBoth + `"
bothdown() { [ "$(state $s4)" != LOGGED_IN ] && [ "$(state $s6)" != LOGGED_IN ]; }
wait_for 300 bothdown || fail "both sessions not down 30 s after the drop: $(state $s4) $(state $s6)"
ts "T-BOTH-DOWN: $(state $s4) $(state $s6), $(done_writes) writes"
bothup() { [ "$(state $s4)" = LOGGED_IN ] && [ "$(state $s6)" = LOGGED_IN ]; }
wait_for 600 bothup || fail "both sessions not back in 60 s: $(state $s4) $(state $s6)"
ts "T-BOTH-UP: $(done_writes) writes"
w=$(done_writes)
wait_for 300 moved $w || fail "no write completed in 30 s after both paths came back"
ts "T-IO-RESUMED: write $(done_writes)"
bothactive() { [ "$(pathstate $dev4)" = A ] && [ "$(pathstate $dev6)" = A ]; }
wait_for 100 bothactive || fail "paths not both active 10 s after the return: $(dmsetup status)"
ts "T-BOTH-ACTIVE: $(dmsetup status)"

touch /run/stop; wait $wp
echo "WRITES: $(done_writes)"
awk 'NR > 1 && $2 - p > g {g = $2 - p; at = p} {p = $2} END {printf "LONGEST-GAP: %.2f s after %.2f s\n", g, at}' /run/w.log
sync; echo 3 > /proc/sys/vm/drop_caches
cat /run/sums/* > /run/all.sum
echo "SUMS: $(sha256sum -c /run/all.sum 2>&1 | grep -c ': OK$') OK of $(ls /run/sums | wc -l)"
sha256sum -c -s /run/all.sum || fail "data changed"
# a path's own I/O fails at its replacement timeout, and dm-multipath
# retries it on another path: only an error above the map is one
dmesg | grep -E "I/O error, dev sd" | sed 's/^/PATH-ERROR: /'
dmesg | grep -iE "I/O error, dev dm-|EXT4-fs (error|warning)|Buffer I/O|Remounting filesystem read-only" | sed 's/^/KERNEL-ERROR: /'
dmsetup status | sed 's/^/DMSTATUS-END: /'
ts "` + mpDone + `"
sync
poweroff -f
`

// TestMultipath is a multipath root end to end: tgtd serves one target on
// two portals, 127.0.0.1 and [::1]; our /init logs in over IPv4
// (10.0.2.2) and over IPv6 (fec0::2, slirp's host address, which it
// connects to [::1]) from ip=eth0:dhcp ip=eth0:auto6 and two netroot=,
// finds one WWID behind the two disks, makes a dm-multipath map named
// as multipathd would, with queue_if_no_path and service-time, mounts
// the root on it and starts the resident loop. While a writer runs in the
// root, the host drops the IPv4 path (deletes its portal and kills its
// connection at tgtd), brings it back, then drops both for 12 s:
// writes go on through IPv6 with no I/O error, the IPv4 path comes back
// and is used again, nothing is lost while both are down, and every
// block reads back. The guest stamps each step: the failover timeline.
func TestMultipath(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	h := New(t)
	img := RootImage{Name: "mpath-root.ext4", Init: multipathInit, Programs: []string{"/usr/sbin/dmsetup"}, Size: "64M"}
	disk, err := img.Build(ctx, h.Dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	v4, v6 := fmt.Sprintf("127.0.0.1:%d", srv.Port), fmt.Sprintf("[::1]:%d", srv.Port)
	portal := func(op, p string) {
		t.Helper()
		if _, err := srv.Tgtadm(ctx, "--op", op, "--mode", "portal", "--param", "portal="+p); err != nil {
			t.Fatal(err)
		}
	}
	portal("new", v6)
	vm := h.Boot(ctx, BootOptions{Initrd: mpInitramfs(ctx, t, h),
		Append: fmt.Sprintf("ip=eth0:dhcp ip=eth0:auto6 netroot=iscsi:%s::%d::%s netroot=iscsi:[%s]::%d::%s rw rd.iscsi.resident=1",
			HostAddr, srv.Port, TargetIQN, HostAddr6, srv.Port, TargetIQN)})
	wait := func(marker string) Line {
		t.Helper()
		l, err := vm.WaitFor(ctx, marker)
		if err != nil {
			t.Fatalf("%v; console:\n%s", err, consoleText(vm))
		}
		return l
	}
	// drop deletes the portals and kills their connections (tgt keeps a
	// connection when its portal goes).
	drop := func(addrs map[string]string) {
		t.Helper()
		cs := waitConns(ctx, t, srv, func(cs []tgtd.Conn) bool { return len(cs) == 2 })
		for a, p := range addrs {
			portal("delete", p)
			for _, c := range cs {
				if c.Address == a {
					if err := srv.DropConnection(ctx, 1, c); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	wait(mpDropV4)
	drop(map[string]string{"127.0.0.1": v4})
	wait(mpRestoreV4)
	portal("new", v4)
	wait(mpDropBoth)
	drop(map[string]string{"127.0.0.1": v4, "::1": v6})
	select {
	case <-time.After(12 * time.Second):
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	portal("new", v4)
	portal("new", v6)
	wait(mpDone)
	if err := vm.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	c := consoleText(vm)
	for _, w := range []string{
		"iscsiboot: multipath map 3",
		"ROOT: /dev/mapper/3",
		"MAPPER: 3",
		" multipath 1 queue_if_no_path 0 1 1 service-time 0 2 2 ",
		"TIMERS session1: recovery_tmo=5 ping_tmo=10 recv_tmo=5",
		"TIMERS session2: recovery_tmo=5 ping_tmo=10 recv_tmo=5",
		"T-IO-MOVED", "T-V4-REINSTATED", "T-V4-USED", "T-IO-RESUMED", "T-BOTH-ACTIVE",
		"iscsiboot-resident: session ", ": path ", /* back in use */
	} {
		if !strings.Contains(c, w) {
			t.Errorf("console lacks %q", w)
		}
	}
	for _, bad := range []string{handoffFail, "WRITE-ERROR", "KERNEL-ERROR", "warning: dm-multipath", "warning: no multipath map"} {
		if strings.Contains(c, bad) {
			t.Errorf("console: %s", lineWith(c, bad))
		}
	}
	if !strings.Contains(c, "HOLDERS: sd") || strings.Contains(c, "HOLDERS: sda  ") {
		t.Errorf("paths not held by the map: %s", lineWith(c, "HOLDERS: "))
	}
	// Both paths are logged in again side by side: the second path's
	// outage is handled before the first path is back.
	both := c[strings.Index(c, mpDropBoth):]
	if i := strings.Index(both, "logged in again after"); i < 0 || strings.Count(both[:i], "; logging in again") != 2 {
		t.Errorf("the resident loop did not take up both paths at once:\n%s", both[:max(i, 0)])
	}
	g := func(s string) float64 { return guestSecs(c, s) }
	t.Logf("failover timeline (guest uptime, s): IPv4 dropped %.2f, session down %.2f, path failed in the map %.2f, first write through IPv6 alone %.2f;"+
		" portal back %.2f, session up %.2f, path reinstated %.2f, written again %.2f; both dropped %.2f, both down %.2f, both up %.2f, writes resumed %.2f; %s; %s",
		g(mpDropV4), g("T-V4-DOWN"), g("T-V4-FAILED"), g("T-IO-MOVED"), g(mpRestoreV4), g("T-V4-UP"), g("T-V4-REINSTATED"), g("T-V4-USED"),
		g(mpDropBoth), g("T-BOTH-DOWN"), g("T-BOTH-UP"), g("T-IO-RESUMED"), lineWith(c, "LONGEST-GAP"), lineWith(c, "SUMS:"))
}

// mpInitramfs is our /init image with the multipath modules.
func mpInitramfs(ctx context.Context, t *testing.T, h *Harness) string {
	t.Helper()
	tool := h.GoBinary(ctx, "./cmd/iscsiboot-initramfs")
	bin := h.GoBinary(ctx, "./cmd/iscsistart")
	out := filepath.Join(h.Dir, "iscsiboot-mpath-initrd.img")
	name := filepath.Join(h.Dir, "initiatorname.iscsi")
	if err := os.WriteFile(name, []byte("InitiatorName="+InitiatorIQN+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-o", out, "-binary", bin, "-init", "-kernel-dir", h.Kernel.Dir, "-kver", h.Kernel.Version,
		"-modules", strings.Join(append(append([]string(nil), DefaultModules...), mpModules...), ","),
		"-file", name + ":/etc/iscsi/initiatorname.iscsi"}
	if b, err := exec.CommandContext(ctx, tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("iscsiboot-initramfs: %v\n%s", err, b)
	}
	return out
}

// TestMultipathDropIn: the drop-in iscsistart keeps open-iscsi's
// behaviour, one portal a call and sessions only, and --multipath on the
// last call makes the map of the disk over both sessions (the first
// call's one included, whose replacement timeout it lowers to the map's),
// for an initramfs script that mounts /dev/mapper/WWID itself.
func TestMultipathDropIn(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	if _, err := r.srv.Tgtadm(r.ctx, "--op", "new", "--mode", "portal", "--param", fmt.Sprintf("portal=[::1]:%d", r.srv.Port)); err != nil {
		t.Fatal(err)
	}
	const wwid = "360000000000000000e00000000010001" // tgt's NAA name of target 1, LUN 1
	// The second call, with --multipath, through IPv6; OurGuest's lines
	// after it print the sessions and their timers.
	g := OurGuest(r.bin, r.srv.Port, "--multipath")
	g.Login = strings.Replace(g.Login, "-a "+HostAddr+" ", "-a "+HostAddr6+" ", 1)
	// slirp's router advertisement gives the guest its IPv6 address; wait
	// out duplicate address detection, bounded
	g.Login = `i=0; until ip -6 addr show dev eth0 | grep -q "inet6 fec0:" && ! ip -6 addr show dev eth0 | grep -q tentative; do
	i=$((i+1)); [ $i -gt 100 ] && { echo "no IPv6 address"; exit 1; }; sleep 0.1; done
` + fmt.Sprintf("iscsistart -i %s -t %s -g 1 -a %s -p %d || exit $?\n", InitiatorIQN, TargetIQN, HostAddr, r.srv.Port) +
		`echo "AFTER ONE: $(ls /dev/mapper 2>/dev/null | grep -vc control) maps"` + "\n" + g.Login
	g.Modules = mpModules
	g.RootDev = "/dev/mapper/" + wwid
	vm := r.h.Boot(r.ctx, BootOptions{Initrd: r.h.Initramfs(r.ctx, g)})
	vm.Expect(r.ctx, r.disk.Marker)
	vm.Wait(r.ctx)
	c := consoleText(vm)
	for _, w := range []string{
		"AFTER ONE: 0 maps",
		"iscsistart: multipath map " + wwid + " made as /dev/mapper/" + wwid,
		"iscsistart: session 1: replacement timeout 5 s, as a path of a map",
		"SESSIONS: 2",
		"TIMERS: recovery_tmo=5 noop=0,0", // the first call's: NOP-Outs as it logged in
		"TIMERS: recovery_tmo=5 noop=10,5",
	} {
		if !strings.Contains(c, w) {
			t.Errorf("console lacks %q:\n%s", w, c)
		}
	}
}
