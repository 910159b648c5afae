package qemutests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/internal/tgtd"
)

// iscsidInit is the root disk's init for TestIscsidAdoption: after
// switch_root it starts Debian's iscsid, which must adopt the session our
// /init left, shows it with iscsiadm, asks the host to drop the
// connection, waits (bounded) for iscsid to log back in, and reads back
// data written before the drop.
const iscsidInit = `#!/bin/busybox sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
/bin/busybox --install -s /bin
echo "root:x:0:0:root:/root:/bin/sh" > /etc/passwd; echo "root:x:0:" > /etc/group
mkdir -p /run/lock /var/lib/iscsi /etc/iscsi/nodes /etc/iscsi/send_targets /etc/iscsi/ifaces
[ -s /etc/iscsi/initiatorname.iscsi ] || cp /run/initiatorname.iscsi /etc/iscsi/initiatorname.iscsi
ts() { read up _ < /proc/uptime; echo "ISCSIBOOT[$up] $*"; }
echo "written before the drop $$" > /data.txt; sync
ts "root init"
iscsid -f -d 6 2>&1 | sed "s/^/ISCSID: /" &
s=/sys/class/iscsi_session/session1/state
# iscsid takes the session over by logging in again on it (sync_session,
# then a reopen): wait until that is done.
sleep 1
i=0; while [ "$(cat $s)" != LOGGED_IN ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
ts "adopted: state $(cat $s)"
iscsiadm -m session -P 3 2>&1 | sed 's/^/IADM: /'
ts "HANDOFF-DROP-NOW"
i=0; while [ "$(cat $s)" = LOGGED_IN ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
ts "state $(cat $s)"
i=0; while [ "$(cat $s)" != LOGGED_IN ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
ts "state $(cat $s)"
echo 3 > /proc/sys/vm/drop_caches
echo "READBACK: $(cat /data.txt)"
[ "$(cat $s)" = LOGGED_IN ] && ts "RECOVERED"
poweroff -f
`

// TestIscsidAdoption is the hand-off: our /init logs in and switches to
// the iSCSI root; open-iscsi's iscsid, started there, adopts the session
// (iscsiadm shows it with our root-disk timers), and when the target
// drops the connection iscsid logs back in and no data is lost.
func TestIscsidAdoption(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	h := New(t)
	disk, err := buildRootDiskWith(ctx, h.Dir, "iscsid-root.ext4", iscsidInit,
		[]string{"/usr/sbin/iscsid", "/usr/sbin/iscsiadm", "/etc/iscsi/iscsid.conf"}, "64M")
	if err != nil {
		t.Fatal(err)
	}
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	vm := h.Boot(ctx, BootOptions{Initrd: ourInitramfs(ctx, t, h),
		Append: fmt.Sprintf("ip=dhcp netroot=iscsi:%s::%d::%s rw", HostAddr, srv.Port, TargetIQN)})
	if _, err := vm.WaitFor(ctx, "HANDOFF-DROP-NOW"); err != nil {
		t.Fatal(err)
	}
	var conns []tgtd.Conn
	for i := 0; i < 50 && len(conns) == 0; i++ {
		if conns, err = srv.Connections(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if len(conns) == 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if len(conns) != 1 {
		t.Fatalf("connections %v", conns)
	}
	dropped := time.Now()
	if err := srv.DropConnection(ctx, 1, conns[0]); err != nil {
		t.Fatal(err)
	}
	l, err := vm.WaitFor(ctx, "RECOVERED")
	if err != nil {
		t.Fatal(err)
	}
	vm.Wait(ctx)
	c := consoleText(vm)
	for _, want := range []string{
		"IADM: Target: " + TargetIQN,
		fmt.Sprintf("IADM: \tCurrent Portal: %s:%d,1", HostAddr, srv.Port),
		"IADM: \t\tiSCSI Session State: LOGGED_IN",
		// iscsid re-logs in on our session with our ISID (OUI 00:02:3d,
		// qualifier = session id 1), so the target sees the same nexus.
		"isid 0x00023d000001",
		"READBACK: written before the drop",
	} {
		if !strings.Contains(c, want) {
			t.Errorf("console lacks %q", want)
		}
	}
	t.Logf("iscsid recovered the session %v after the drop (guest line %q)", time.Since(dropped).Round(time.Millisecond), l.Text)
}
