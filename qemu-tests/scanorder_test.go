package qemutests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/ibft"
)

// lunsInit is the root disk's /sbin/init for TestSecondLUN: it prints the
// disks the kernel has, and the order in which the SCSI midlayer attached
// the target's LUNs (the kernel's "scsi H:C:T:L: <type>" lines), then
// the root's marker.
const lunsInit = `#!/bin/busybox sh
echo "DISKS: $(ls /sys/block | grep '^sd' | tr '\n' ' ')"
echo "SCSI-ORDER: $(dmesg | grep -oE 'scsi [0-9]+:0:0:[0-9]+: ' | sed -E 's/.*:([0-9]+): /\1/' | tr '\n' ' ')"
. /etc/os-release
echo "` + RootMarker + `$PRETTY_NAME"
/bin/busybox poweroff -f
`

// traceSteps are the trace lines of a login, in the order they must come.
var traceSteps = []string{"main entered", "netlink open", "connecting", "connected", "session created", "connection created",
	"connection bound", "identity params set", "login PDU answered 1", "negotiated params set", "connection started",
	"scan request", "disk node present", "other LUNs scanned"}

var traceLine = regexp.MustCompile(`iscsiboot-trace\[([0-9]+\.[0-9]{6})\] (.*)$`)

// traceOf returns the trace lines on the console: step -> its guest time,
// and the steps in the order they came.
func traceOf(console string) (map[string]time.Duration, []string) {
	at := map[string]time.Duration{}
	var order []string
	for _, l := range strings.Split(console, "\n") {
		m := traceLine.FindStringSubmatch(strings.TrimRight(l, "\r"))
		if m == nil {
			continue
		}
		var sec, us int64
		fmt.Sscanf(m[1], "%d.%d", &sec, &us)
		if _, ok := at[m[2]]; !ok {
			order = append(order, m[2])
		}
		at[m[2]] = time.Duration(sec)*time.Second + time.Duration(us)*time.Microsecond
	}
	return at, order
}

// TestSecondLUN boots from a target of two disks, the root on LUN 1 and a
// second disk on LUN 2 (tgt's LUN 0 is its controller): our /init from a
// netroot= naming LUN 1, and the drop-in's -b from an iBFT naming LUN 1.
// The root's LUN is probed first, before the controller and before the
// target's REPORT LUNS, and the second disk appears too, as with
// open-iscsi. Both run with ISCSIBOOT_TRACE=1: the trace's steps come in
// the login's order, the other LUNs scanned after the root's disk.
func TestSecondLUN(t *testing.T) {
	for _, mode := range []string{"init netroot", "drop-in -b"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			h := New(t)
			root, err := RootImage{Name: "root.ext4", Init: lunsInit, Size: "32M"}.Build(ctx, h.Dir)
			if err != nil {
				t.Fatal(err)
			}
			second := filepath.Join(h.Dir, "second.img")
			if err := os.WriteFile(second, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(second, 8<<20); err != nil {
				t.Fatal(err)
			}
			srv := h.Target(ctx, 1, TargetIQN, root.Path)
			if err := srv.AddLUN(ctx, 1, 2, second); err != nil {
				t.Fatal(err)
			}
			var opts BootOptions
			if mode == "init netroot" {
				opts = BootOptions{Initrd: ourInitramfs(ctx, t, h),
					Append: fmt.Sprintf("ip=dhcp netroot=iscsi:%s::%d:1:%s ISCSIBOOT_TRACE=1", HostAddr, srv.Port, TargetIQN)}
			} else {
				bin := h.GoBinary(ctx, "./cmd/iscsistart")
				table := writeIBFT(t, h.Dir, ibft.Target{Port: uint16(srv.Port), Name: TargetIQN}) // LUN 1
				g := Guest{
					Login:    `iscsistart -N && ISCSIBOOT_TRACE=1 iscsistart -b`,
					Binaries: map[string]string{"/sbin/iscsistart": bin},
					Modules:  []string{"iscsi_boot_sysfs", "iscsi_ibft"},
					NoNet:    true,
				}
				opts = BootOptions{Initrd: h.Initramfs(ctx, g), ExtraArgs: []string{"-acpitable", "sig=iBFT,file=" + table}}
			}
			vm := h.Boot(ctx, opts)
			vm.Expect(ctx, root.Marker)
			vm.Wait(ctx)
			c := consoleText(vm)
			if !strings.Contains(c, "DISKS: sda sdb ") {
				t.Errorf("want the root and the second disk, sda and sdb; console:\n%s", c)
			}
			if !strings.Contains(c, "SCSI-ORDER: 1 0 2 ") {
				t.Errorf("want LUN 1 attached first, then the controller (0) and LUN 2; console:\n%s", c)
			}
			at, order := traceOf(c)
			var got []string // process start, a later PDU, the exit: not in every run
			for _, s := range order {
				if slices.Contains(traceSteps, s) {
					got = append(got, s)
				}
			}
			if strings.Join(got, ", ") != strings.Join(traceSteps, ", ") {
				t.Errorf("trace steps:\n %s\nwant:\n %s", strings.Join(got, ", "), strings.Join(traceSteps, ", "))
			}
			for i := 1; i < len(traceSteps); i++ {
				if at[traceSteps[i]] < at[traceSteps[i-1]] {
					t.Errorf("trace: %q at %v, before %q at %v", traceSteps[i], at[traceSteps[i]], traceSteps[i-1], at[traceSteps[i-1]])
				}
			}
		})
	}
}
