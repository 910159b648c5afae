package qemutests

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/handoff"

	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/iscsiboot/iscsiboot/internal/nstest"
	"github.com/iscsiboot/iscsiboot/internal/tgtd"
)

// Console markers of handoffInit.
const (
	handoffDropNow   = "HANDOFF-DROP-NOW"
	handoffRecovered = "HANDOFF-RECOVERED"
	handoffFail      = "HANDOFF-FAIL: "
)

// rootInitPrelude starts the root disk's /sbin/init of the hand-off
// scenarios: it copies busybox and itself to tmpfs and runs from there (while
// the target is away, anything that touches the iSCSI root, an exec or an
// atime update behind a journal commit, waits for the re-login, and the
// polling would miss the outage it watches), then defines the helpers: ts
// stamps a line with the guest's uptime, fail prints handoffFail and powers
// off, state and lport read session1's state and its connection's local
// port (which changes when a login replaces the connection), timers prints
// the kernel's timers, and wait_for TENTHS CMD runs CMD every 0.1 s until
// it succeeds, at most TENTHS times (CMD is a function; its arguments are
// expanded once, at the call).
const rootInitPrelude = `#!/bin/busybox sh
r=/run/handoff
if [ "$0" != $r/init ]; then
	mkdir -p $r/bin && cp /bin/busybox /sbin/init $r/ && $r/busybox --install -s $r/bin && exec $r/busybox sh $r/init
	echo "` + handoffFail + `cannot run from $r"; /bin/busybox poweroff -f
fi
export PATH=$r/bin:/sbin:/usr/sbin:/bin:/usr/bin
ts() { read up _ < /proc/uptime; echo "ISCSIBOOT[$up] $*"; }
fail() { echo "` + handoffFail + `$*"; sync; poweroff -f; sleep 10; }
s=/sys/class/iscsi_session/session1
c=/sys/class/iscsi_connection/connection1:0
state() { cat $s/state 2>/dev/null; }
lport() { cat $c/local_port 2>/dev/null; }
timers() { echo "TIMERS $1: recovery_tmo=$(cat $s/recovery_tmo) ping_tmo=$(cat $c/ping_tmo) recv_tmo=$(cat $c/recv_tmo)"; }
wait_for() { n=$1; shift; i=0; until "$@"; do i=$((i+1)); [ $i -ge $n ] && return 1; sleep 0.1; done; }
`

// handoffInit is the root disk's /sbin/init for TestHandoff: what a Debian
// root does after our /init switched to it, then the proof. It remounts the
// root read-write (a no-op after rw), as a distribution does after fsck,
// and runs what our /init's drop-in for iscsid.service asks systemd to run
// first, if /init wrote one (for a read-only root; a read-write one got the
// node records in /etc/iscsi/nodes from /init directly). Then it starts
// Debian's iscsid, which adopts the session
// (sync_session logs in again on it), shows it with iscsiadm and the
// kernel's timers, writes data, asks the host to drop the connection,
// writes more while the session is down (the write waits for the re-login;
// with replacement_timeout 86400 it does not fail), waits, bounded, for
// iscsid to log back in, and reads everything back past the page cache.
// Every wait is bounded; a failure prints handoffFail and powers off.
const handoffInit = rootInitPrelude + `ts "root init"
mount -o remount,rw / || fail "remount the root read-write"
mkdir -p /run/lock
echo "INITIATOR: /run $(cat /run/initiatorname.iscsi) /etc $(grep ^InitiatorName= /etc/iscsi/initiatorname.iscsi) sysfs $(cat $s/initiatorname)"
echo "SESSIONS: $(ls /sys/class/iscsi_session)"
echo "OPEN-ISCSI-INTERFACE: $(cat /run/initramfs/open-iscsi.interface)"
grep -E "^(DEVICE|PROTO|IPV4ADDR|IPV4GATEWAY)=" /run/net-eth0.conf | sed 's/^/NETCONF: /'
for f in $(find /run/iscsiboot -print); do echo "HANDOFF-FILE: $(stat -c %a $f) ${f#/run/iscsiboot/}"; done
for f in $(find /run/iscsiboot/nodes -type f); do grep -v password $f | sed 's/^/RECORD: /'; done
timers "before iscsid"
u=/run/systemd/system/iscsid.service.d/50-iscsiboot-nodes.conf
if [ -f $u ]; then
	sed 's/^/DROPIN: /' $u
	# systemd's ExecStartPre=-: run it, ignore its failure (and say so)
	sed -n 's/^ExecStartPre=-//p' $u > /run/prestart
	while read -r cmd; do eval "$cmd" || echo "DROPIN-FAILED: $cmd"; done < /run/prestart
fi
for f in $(find /etc/iscsi/nodes -print 2>/dev/null); do echo "ROOT-NODES: $(stat -c %a $f) ${f#/etc/iscsi/}"; done
iscsiadm -m node 2>&1 | sed 's/^/NODES: /'
p0=$(lport)
echo "LOCAL PORT of our login: $p0"
# Straight to the console, unbuffered, so its lines fall in order with ours.
iscsid -f &
# iscsid adopts the session by logging in again on it: a new connection.
adopted() { [ "$(state)" = LOGGED_IN ] && [ "$(lport)" != "$p0" ] && iscsiadm -m session -P 3 2>/dev/null | grep -q "Internal iscsid Session State: NO CHANGE"; }
wait_for 300 adopted || fail "iscsid did not adopt session1 in 30 s: state $(state), local port $(lport)"
p1=$(lport)
ts "ADOPTED: state $(state), local port $p1"
timers "after adoption"
iscsiadm -m session -P 3 2>&1 | sed 's/^/IADM: /'
dd if=/dev/urandom of=/before.bin bs=64k count=4 2>/dev/null && sha256sum /before.bin > /before.sum && sync || fail "write before the drop"
ts "` + handoffDropNow + `"
down() { [ "$(state)" != LOGGED_IN ]; }
wait_for 300 down || fail "session still LOGGED_IN 30 s after the drop request"
ts "DOWN: state $(state)"
timeout 120 dd if=/dev/urandom of=/during.bin bs=64k count=4 conv=fsync 2>/dev/null && sha256sum /during.bin > /during.sum && sync || fail "write during the outage"
ts "WRITTEN during the outage: state $(state)"
relogged() { [ "$(state)" = LOGGED_IN ] && [ "$(lport)" != "$p1" ]; }
wait_for 600 relogged || fail "no re-login in 60 s: state $(state), local port $(lport)"
ts "UP: state $(state), local port $(lport)"
timers "after recovery"
echo 3 > /proc/sys/vm/drop_caches
sha256sum -c /before.sum /during.sum 2>&1 | sed 's/^/READBACK: /'
sha256sum -c -s /before.sum /during.sum || fail "data changed"
echo "SESSIONS: $(ls /sys/class/iscsi_session)"
iscsiadm -m session -P 1 2>&1 | sed 's/^/IADM1: /'
ts "` + handoffRecovered + `"
sync
poweroff -f
`

// TestHandoff is the hand-off to open-iscsi, end to end with the whole
// product: our iscsistart as /init logs in from ip=dhcp netroot=iscsi:...
// and switches to a root disk holding Debian's iscsid and iscsiadm (this
// machine's open-iscsi 2.1.8) with its stock iscsid.conf (replacement
// timeout 120 s, NOP-outs every 5 s). There iscsid adopts the session; the
// root-disk timers (86400, NOP-outs off) survive its re-login because of the
// node records /init installed in the root's /etc/iscsi/nodes (directly
// on a read-write root, through a drop-in for iscsid.service on a
// read-only systemd root); the target drops the connection (or restarts),
// iscsid logs back in, and data written before and during the outage reads
// back intact. The control, a read-only root without systemd that /init
// cannot give the records to, shows iscsid.conf's timers win, which is
// why the records exist.
func TestHandoff(t *testing.T) {
	cases := []struct {
		name string
		// ro mounts the root read-only (the kernel's default); systemd
		// makes it look like a systemd root to our /init.
		ro, systemd bool
		chap        bool
		// restart, when set, deletes the target instead of dropping the
		// connection, and creates it again that much later, as a target
		// reboot does.
		restart time.Duration
		// want are console lines that must appear.
		want []string
	}{
		{"node records", false, false, false, 0, []string{
			"node records: 1 installed in /etc/iscsi/nodes\n",
			"TIMERS after adoption: recovery_tmo=86400 ping_tmo=0 recv_tmo=0",
			"TIMERS after recovery: recovery_tmo=86400 ping_tmo=0 recv_tmo=0",
			"IADM: \t\tRecovery Timeout: 86400",
			"RECORD: node.startup = onboot",
			"RECORD: node.session.auth.authmethod = None",
			// the root's iscsid.conf (Debian's: 15 s), under the boot's timers
			"RECORD: node.conn[0].timeo.login_timeout = 15\n",
		}},
		{"mutual CHAP", false, false, true, 0, []string{
			"TIMERS after recovery: recovery_tmo=86400 ping_tmo=0 recv_tmo=0",
			"RECORD: node.session.auth.authmethod = CHAP",
			"RECORD: node.session.auth.username = alice",
			"RECORD: node.session.auth.username_in = disk1",
			"IADM: \t\tusername: alice",
			"IADM: \t\tusername_in: disk1",
		}},
		// iscsid's first re-login, 2 s after the drop, finds no target and
		// is given up after the record's login_timeout (15 s, the root's
		// iscsid.conf); the next one gets in: about 19 s of outage, which
		// the I/O waits out.
		{"target restarts", false, false, false, 8 * time.Second, []string{
			"TIMERS after recovery: recovery_tmo=86400 ping_tmo=0 recv_tmo=0",
		}},
		// A read-only root: the records wait in /run for systemd's
		// remount, and a drop-in puts them in place before iscsid.
		{"read-only root with systemd", true, true, false, 0, []string{
			"node records: the root is read-only: 1 in /run/iscsiboot/nodes, installed in /etc/iscsi/nodes when iscsid starts (/run/systemd/system/iscsid.service.d/50-iscsiboot-nodes.conf)",
			"TIMERS after adoption: recovery_tmo=86400 ping_tmo=0 recv_tmo=0",
		}},
		// The control: a read-only root /init cannot hand the records to,
		// so iscsid finds none.
		{"without the records iscsid.conf wins", true, false, false, 0, []string{
			"node records: the root is read-only and has no systemd: 1 left in /run/iscsiboot/nodes; copy them to /etc/iscsi/nodes before iscsid starts",
			"TIMERS after adoption: recovery_tmo=120 ping_tmo=5 recv_tmo=5",
			"iscsid: Could not read data from db. Using default and currently negotiated values",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			h := New(t)
			img := handoffRootImage(handoffInit)
			if tc.systemd {
				img.Files["/usr/lib/systemd/systemd"] = ImageFile{"#!/bin/sh\necho not really systemd\n", 0o755}
			}
			disk, err := img.Build(ctx, h.Dir)
			if err != nil {
				t.Fatal(err)
			}
			srv := h.Target(ctx, 1, TargetIQN, disk.Path)
			auth := ""
			if tc.chap {
				chapAccounts(t, ctx, h, true)
				auth = "alice:alice-secret-1:disk1:target-secret-2@"
			}
			mode := "rw"
			if tc.ro {
				mode = "ro"
			}
			vm := h.Boot(ctx, BootOptions{Initrd: ourInitramfs(ctx, t, h),
				Append: fmt.Sprintf("ip=dhcp netroot=iscsi:%s%s::%d::%s %s", auth, HostAddr, srv.Port, TargetIQN, mode)})
			if _, err := vm.WaitFor(ctx, handoffDropNow); err != nil {
				t.Fatalf("%v; console:\n%s", err, consoleText(vm))
			}
			fault := func(c tgtd.Conn) error { return srv.DropConnection(ctx, 1, c) }
			if tc.restart > 0 {
				fault = func(tgtd.Conn) error {
					if err := srv.DeleteTarget(ctx, 1, true); err != nil {
						return err
					}
					select {
					case <-time.After(tc.restart):
					case <-ctx.Done():
						return ctx.Err()
					}
					return srv.NewDiskTarget(ctx, 1, TargetIQN, disk.Path)
				}
			}
			dropped, took := faultAndWaitRelogin(ctx, t, srv, fault)
			l, err := vm.WaitFor(ctx, handoffRecovered)
			if err != nil {
				t.Fatalf("%v; console:\n%s", err, consoleText(vm))
			}
			if err := vm.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			c := consoleText(vm)
			node := fmt.Sprintf("nodes/%s/%s,%d,1/default", TargetIQN, HostAddr, srv.Port)
			want := append([]string{
				// Debian's interface hand-off files came along in /run
				"OPEN-ISCSI-INTERFACE: eth0\n",
				"NETCONF: DEVICE='eth0'\nNETCONF: PROTO='dhcp'\nNETCONF: IPV4ADDR='10.0.2.15'\nNETCONF: IPV4GATEWAY='10.0.2.2'\n",
				// the initiator name reaches the root, and the root's own
				// file (Debian's, which mkinitramfs copied) agrees
				"INITIATOR: /run InitiatorName=" + InitiatorIQN + " /etc InitiatorName=" + InitiatorIQN + " sysfs " + InitiatorIQN,
				"HANDOFF-FILE: 700 nodes\n",
				"HANDOFF-FILE: 700 nodes/" + TargetIQN + "\n",
				"HANDOFF-FILE: 600 " + node + "\n",
				"TIMERS before iscsid: recovery_tmo=86400 ping_tmo=0 recv_tmo=0",
				// iscsid adopted session1 rather than making its own
				"SESSIONS: session1\n",
				"IADM: Target: " + TargetIQN + " (non-flash)",
				fmt.Sprintf("IADM: \tCurrent Portal: %s:%d,1", HostAddr, srv.Port),
				fmt.Sprintf("IADM: \tPersistent Portal: %s:%d,1", HostAddr, srv.Port),
				"IADM: \t\tIface Initiatorname: " + InitiatorIQN,
				"IADM: \t\tiSCSI Session State: LOGGED_IN",
				"IADM: \t\tInternal iscsid Session State: NO CHANGE",
				"IADM: \t\t\tAttached scsi disk sda",
				"iscsid: Kernel reported iSCSI connection 1:0 error (1020 - ISCSI_ERR_TCP_CONN_CLOSE",
				"iscsid: connection1:0 is operational after recovery",
				"READBACK: /before.bin: OK",
				"READBACK: /during.bin: OK",
				"IADM1: \t\tiSCSI Session State: LOGGED_IN",
			}, tc.want...)
			if records := !tc.ro || tc.systemd; records {
				want = append(want, fmt.Sprintf("NODES: %s:%d,1 %s", HostAddr, srv.Port, TargetIQN),
					"ROOT-NODES: 700 nodes\n", "ROOT-NODES: 600 "+node+"\n")
			} else if strings.Contains(c, "ROOT-NODES: ") {
				t.Errorf("records reached the root's /etc/iscsi/nodes: %s", lineWith(c, "ROOT-NODES: "))
			}
			if tc.systemd {
				want = append(want, fmt.Sprintf("DROPIN: ExecStartPre=-/bin/cp -p -n \"/run/iscsiboot/%s\" \"/etc/iscsi/%[1]s\"\n", node))
			}
			if strings.Contains(c, "DROPIN-FAILED") {
				t.Errorf("%s", lineWith(c, "DROPIN-FAILED"))
			}
			for _, w := range want {
				if !strings.Contains(c, w) {
					t.Errorf("console lacks %q", w)
				}
			}
			if strings.Contains(c, handoffFail) {
				t.Errorf("guest failed: %s", lineWith(c, handoffFail))
			}
			if strings.Contains(c, "secret-") {
				t.Errorf("a CHAP secret reached the console")
			}
			down, up := guestSecs(c, "DOWN: "), guestSecs(c, "UP: ")
			t.Logf("fault at the target; tgtd saw iscsid's new login %v later; the guest saw the session down at %.2f s and up at %.2f s uptime (%.2f s); %q at %.2f s host time after %v",
				took.Round(time.Millisecond), down, up, up-down, l.Text, l.Host.Seconds(), time.Since(dropped).Round(time.Millisecond))
		})
	}
}

// handoffRootImage is a root disk with Debian's iscsid and iscsiadm and
// what they need from the root: iscsid.conf, the initiator name (0600, as
// Debian's open-iscsi makes it), and a passwd with root, since iscsid
// serves iscsiadm only when the peer's uid has a name.
func handoffRootImage(init string) RootImage {
	return RootImage{
		Name:      "handoff-root.ext4",
		Init:      init,
		Programs:  []string{"/sbin/iscsid", "/sbin/iscsiadm"},
		HostFiles: []string{"/etc/iscsi/iscsid.conf"},
		Files: map[string]ImageFile{
			"/etc/iscsi/initiatorname.iscsi": {"InitiatorName=" + InitiatorIQN + "\n", 0o600},
			"/etc/passwd":                    {"root:x:0:0:root:/root:/bin/sh\n", 0o644},
			"/etc/group":                     {"root:x:0:\n", 0o644},
		},
		Size: "64M",
	}
}

// faultAndWaitRelogin takes the target's one connection (iscsid's, after
// the adoption) away with fault and waits, bounded, for a new one: iscsid's
// re-login. It returns when the fault began and how long the new login
// took to show.
func faultAndWaitRelogin(ctx context.Context, t *testing.T, srv *tgtd.Server, fault func(tgtd.Conn) error) (time.Time, time.Duration) {
	t.Helper()
	conns := waitConns(ctx, t, srv, func(cs []tgtd.Conn) bool { return len(cs) == 1 })
	old := conns[0]
	if old.Initiator != InitiatorIQN {
		t.Errorf("connection from %q, want %q", old.Initiator, InitiatorIQN)
	}
	dropped := time.Now()
	if err := fault(old); err != nil {
		t.Fatal(err)
	}
	waitConns(ctx, t, srv, func(cs []tgtd.Conn) bool {
		return len(cs) == 1 && (cs[0].SID != old.SID || cs[0].CID != old.CID)
	})
	return dropped, time.Since(dropped)
}

// waitConns polls target 1's connections every 50 ms, for up to 60 s,
// until ok accepts them.
func waitConns(ctx context.Context, t *testing.T, srv *tgtd.Server, ok func([]tgtd.Conn) bool) []tgtd.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var cs []tgtd.Conn
	var err error
	for {
		if cs, err = srv.Connections(ctx, 1); err == nil && ok(cs) {
			return cs
		}
		select {
		case <-ctx.Done():
			t.Fatalf("tgtd connections %v (%v): %v", cs, err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

var guestStamp = regexp.MustCompile(`ISCSIBOOT\[([0-9.]+)\] `)

// guestSecs returns the guest uptime stamped on the first line with s, or -1.
func guestSecs(console, s string) float64 {
	m := guestStamp.FindStringSubmatch(lineWith(console, s))
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// lineWith returns the first console line containing s, or "".
func lineWith(console, s string) string {
	for _, l := range strings.Split(console, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// TestHandoffRecordIscsiadm has Debian's iscsiadm read the node record
// our boot writes (boot.WriteHandoff), from a private mount of /etc/iscsi (and the namespace's own /run),
// and checks that it finds the record by the portal iscsid looks up and
// parses the values iscsid will log in again with, CHAP secrets included.
func TestHandoffRecordIscsiadm(t *testing.T) {
	nstest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	root := t.TempDir()
	p := &plan.Plan{Initiator: InitiatorIQN, Params: plan.DefaultParams(), Targets: []plan.Target{{
		Name: TargetIQN, TPGT: 1, Portals: []plan.Portal{{Address: HostAddr, Port: 3260}},
		Auth: plan.Auth{Method: plan.AuthCHAP, Username: "alice", Password: "alice-secret-1",
			UsernameIn: "disk1", PasswordIn: "target-secret-2"},
	}}}
	p.Params["node.session.err_timeo.abort_timeout"] = "7"
	rec := handoff.NewNodeRecord(p, &p.Targets[0], p.Targets[0].Portals[0], 1)
	if err := handoff.WriteHandoff(root, p, []handoff.NodeRecord{rec}); err != nil {
		t.Fatal(err)
	}
	script := `mount --bind "$1/etc/iscsi" /etc/iscsi && mkdir -p /run/lock &&
iscsiadm -m node && iscsiadm -m node -T "$2" -p "$3" -I default -o show --show`
	out, err := exec.CommandContext(ctx, "unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
		root, TargetIQN, fmt.Sprintf("%s:3260,1", HostAddr)).CombinedOutput()
	redacted := strings.NewReplacer("alice-secret-1", "<redacted>", "target-secret-2", "<redacted>").Replace(string(out))
	if err != nil {
		t.Fatalf("iscsiadm: %v\n%s", err, redacted)
	}
	for _, w := range []string{
		fmt.Sprintf("%s:3260,1 %s\n", HostAddr, TargetIQN),
		"node.startup = onboot\n",
		"iface.iscsi_ifacename = default\n",
		"iface.transport_name = tcp\n",
		"node.session.auth.authmethod = CHAP\n",
		"node.session.auth.username = alice\n",
		"node.session.auth.password = alice-secret-1\n",
		"node.session.auth.username_in = disk1\n",
		"node.session.auth.password_in = target-secret-2\n",
		"node.session.timeo.replacement_timeout = 86400\n",
		"node.session.err_timeo.abort_timeout = 7\n",
		"node.conn[0].timeo.noop_out_interval = 0\n",
		"node.conn[0].timeo.noop_out_timeout = 0\n",
	} {
		if !strings.Contains(string(out), w) {
			t.Errorf("iscsiadm lacks %q:\n%s", strings.NewReplacer("alice-secret-1", "<redacted>", "target-secret-2", "<redacted>").Replace(w), redacted)
		}
	}
}
