package qemutests

import (
	"context"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
	"github.com/iscsiboot/iscsiboot/internal/tgtd"
)

// raidTarget2 is the RAID scenario's second target, with the array's second member as LUN 1.
const raidTarget2 = "iqn.2025-01.test:disk2"

// dracutRAIDRootInit is the RAID scenario's root init: it names the disks and their iSCSI sessions, and the
// block device the root is mounted from, with the array's level and members when that is an md array.
const dracutRAIDRootInit = `#!/bin/busybox sh
export PATH=/bin:/sbin
read up _ < /proc/uptime
echo "ISCSIBOOT[$up] root init"
echo "DISKS: $(cd /sys/block && ls -d sd* | tr '\n' ' ')"
for s in /sys/class/iscsi_session/session*; do echo "SESSION: $(cat $s/targetname)"; done
rootdev=$(awk '$5 == "/" {print $3}' /proc/self/mountinfo | tail -1)
for b in /sys/block/*; do
	[ "$(cat $b/dev)" = "$rootdev" ] || continue
	if [ -d $b/md ]; then
		members=""
		for m in $(ls $b/slaves); do
			members="$members $m@$(cat /sys/block/$m/device/../../iscsi_session/*/targetname)"
		done
		echo "ROOT: ${b##*/} $(cat $b/md/level) array_state=$(cat $b/md/array_state) members:$members"
	else
		echo "ROOT: ${b##*/}"
	fi
done
. /etc/os-release
echo "` + RootMarker + `$PRETTY_NAME"
poweroff -f
`

// raidRootLine matches dracutRAIDRootInit's line for a root on a running md RAID 0 of LUN 1 of both targets,
// in either order: the two logins run in parallel, so either target's disk may be sda.
var raidRootLine = func() *regexp.Regexp {
	a, b := `sd[a-z]+@`+regexp.QuoteMeta(TargetIQN), `sd[a-z]+@`+regexp.QuoteMeta(raidTarget2)
	return regexp.MustCompile(`(?m)^ROOT: md\d+ raid0 array_state=(clean|active|read-auto) members: (` +
		a + ` ` + b + `|` + b + ` ` + a + `)$`)
}()

// TestDracut boots images built by Debian's dracut 059 with contrib/dracut's iscsiboot module in place of
// dracut's iscsi module, from the command lines of dracut's own test/TEST-70-ISCSI (the NIC named eth0, the
// target at the lab's addresses): a static ip= with one netroot=; ip=dhcp with two netroot= and rd.auto,
// the root on an md RAID 0 across one LUN of each target, assembled by dracut's own mdraid module; DHCP
// root-path (root=/dev/root netroot=dhcp ip=eth0:dhcp, option 17 from our own DHCP server on a tap);
// rd.iscsi.firmware=1 with an iBFT. dracut's own root handling mounts root=LABEL=... or /dev/root. The image
// is smaller than dracut's own iSCSI image with the same drivers.
func TestDracut(t *testing.T) {
	const initiator = "rd.iscsi.initiator=" + InitiatorIQN
	cases := []struct {
		name    string
		cmdline string // %d is the target's port
		// raid puts the root on an md RAID 0 of two members, LUN 1 of TargetIQN and of raidTarget2
		raid, ibft, dhcp bool
		want             []string
	}{
		{name: "netroot=iscsi target0",
			cmdline: "root=LABEL=iscsiroot netroot=iscsi:10.0.2.2::%d::" + TargetIQN +
				" ip=10.0.2.15::10.0.2.2:255.255.255.0:iscsi-1:eth0:off " + initiator,
			want: []string{"DISKS: sda ", "TIMERS: recovery_tmo=86400"}},
		{name: "netroot=iscsi target1 target2", raid: true,
			cmdline: "root=LABEL=iscsiroot ip=dhcp netroot=iscsi:10.0.2.2::%d::" + TargetIQN +
				" netroot=iscsi:10.0.2.2::%d::" + raidTarget2 + " " + initiator + " rd.auto",
			want: []string{"DISKS: sda sdb ", "SESSION: " + TargetIQN, "SESSION: " + raidTarget2}},
		{name: "root=dhcp", dhcp: true,
			cmdline: "root=/dev/root netroot=dhcp ip=eth0:dhcp " + initiator,
			want:    []string{"DISKS: sda ", "root-path " + TargetIQN + " from DHCP server 10.0.3.1"}},
		{name: "root=ibft", ibft: true,
			cmdline: "root=LABEL=iscsiroot rd.iscsi.ibft=1 rd.iscsi.firmware=1",
			want:    []string{"DISKS: sda ", "firmware table from"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.dhcp { // the tap and its addresses are the test namespace's: one at a time
				t.Parallel()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			opts := BootOptions{Timeout: 90 * time.Second}
			var srv *tgtd.Server
			if tc.dhcp {
				addTap(ctx, t)
				opts.NetdevSpec = tapNetdev
			}
			h := New(t)
			bin := h.GoBinary(ctx, "./cmd/iscsistart")
			init := itoolsRootInit
			if tc.raid {
				init = dracutRAIDRootInit
			}
			disk, err := RootImage{Name: "root.ext4", Init: init, Size: "32M"}.Build(ctx, h.Dir)
			if err != nil {
				t.Fatal(err)
			}
			if tc.dhcp {
				srv = tgtd.Start(ctx, t, tgtd.WithAddress(tapHost))
				if err := srv.NewDiskTarget(ctx, 1, TargetIQN, disk.Path); err != nil {
					t.Fatal(err)
				}
				rootPath := fmt.Sprintf("iscsi:%s::%d:1:%s", tapHost, srv.Port, TargetIQN)
				d, err := server4.NewServer(tapName, &net.UDPAddr{IP: net.IPv4zero, Port: dhcpv4.ServerPort}, rootPathHandler(t, rootPath))
				if err != nil {
					t.Fatalf("DHCP server: %v", err)
				}
				go d.Serve()
				t.Cleanup(func() { d.Close() })
			} else if tc.raid {
				// two 20 MiB members: room for the 32 MiB root beside mdadm's metadata (the preparation guest checks)
				m := h.RAID0Members(ctx, disk.Path, 20<<20)
				srv = h.Target(ctx, 1, TargetIQN, m[0])
				if err := srv.NewDiskTarget(ctx, 2, raidTarget2, m[1]); err != nil {
					t.Fatal(err)
				}
			} else {
				srv = h.Target(ctx, 1, TargetIQN, disk.Path)
			}
			if tc.ibft {
				opts.ExtraArgs = []string{"-acpitable", "sig=iBFT,file=" + itoolsIBFT(t, h.Dir, srv.Port, false)}
			}
			if tc.raid {
				opts.Initrd = h.DracutImage(ctx, bin, "mdraid")
			} else {
				opts.Initrd = h.DracutImage(ctx, bin)
			}
			opts.Append = "net.ifnames=0 rd.shell=0 " + strings.ReplaceAll(tc.cmdline, "%d", fmt.Sprint(srv.Port))
			vm := h.Boot(ctx, opts)
			if _, err := vm.WaitFor(ctx, disk.Marker); err != nil {
				t.Fatalf("%v; console:\n%s", err, consoleText(vm))
			}
			if err := vm.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			c := consoleText(vm)
			for _, w := range append(tc.want, "Logging into "+TargetIQN) {
				if !strings.Contains(c, w) {
					t.Errorf("console lacks %q", w)
				}
			}
			// a tool the module's scripts run and the image lacks
			if strings.Contains(c, ": not found") {
				t.Errorf("console has a command not found")
			}
			if tc.raid {
				if m := raidRootLine.FindString(c); m != "" {
					t.Log(m)
				} else {
					t.Errorf("console lacks the root on the array of both iSCSI disks (%s)", raidRootLine)
				}
			}
			if m, ok := vm.Mark(StepRootInit); ok {
				t.Logf("root's init at guest uptime %v, %v after QEMU's start", m.Uptime, m.Host.Round(time.Millisecond))
			}
			if t.Failed() {
				t.Logf("console:\n%s", c)
			}
		})
	}
	t.Run("smaller than dracut's own iSCSI image", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		h := New(t)
		ours, err := os.Stat(h.DracutImage(ctx, h.GoBinary(ctx, "./cmd/iscsistart")))
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := os.Stat(h.DracutImage(ctx, ""))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("dracut 059 image, zstd: iscsiboot module %d bytes, dracut's iscsi module %d bytes (%.2f)",
			ours.Size(), theirs.Size(), float64(ours.Size())/float64(theirs.Size()))
		if ours.Size() >= theirs.Size() {
			t.Errorf("our image is %d bytes, dracut's own %d", ours.Size(), theirs.Size())
		}
	})
}
