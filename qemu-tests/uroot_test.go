package qemutests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// urootRootInit is the root disk's /sbin/init for the u-root boots: it prints what the boot handed over in
// the root (the initiator name in the /run the boot moved there, the node records installed in its
// /etc/iscsi/nodes for iscsid), then the disk's marker, and powers off.
const urootRootInit = `#!/bin/busybox sh
echo "ISCSIBOOT-HANDOFF: $(/bin/busybox cat /run/initiatorname.iscsi)"
echo "ISCSIBOOT-NODES: $(/bin/busybox find /etc/iscsi/nodes -type f)"
. /etc/os-release
echo "` + RootMarker + `$PRETTY_NAME"
/bin/busybox poweroff -f
`

// TestURoot builds u-root images with u-root's own tool (scripts/uroot-image.sh: mkuimage, busybox mode, no
// shell), adds the kernel modules with iscsiboot-initramfs -append (no -binary: the image has the command),
// and boots the root from the kernel command line, netroot=iscsi:... ip=dhcp, to the root's own init:
//   - cmd: our cmd/iscsistart is /init;
//   - uinit: u-root's own init runs our cmd/iscsiboot-uinit, which uses our packages as a library; the root
//     (rw, with an /etc/iscsi) gets the initiator name and the node records;
//   - uinit-fail: the same image, a target that does not exist: one line, and the machine restarts.
func TestURoot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	h := New(t)
	disk, err := RootImage{Name: "root.ext4", Init: urootRootInit, HostFiles: []string{"/etc/iscsi/iscsid.conf"}, Size: "32M"}.Build(ctx, h.Dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	netroot := fmt.Sprintf("ip=dhcp netroot=iscsi:%s::%d::%s rd.retry=20", HostAddr, srv.Port, TargetIQN)

	for _, tc := range []struct {
		name   string
		flags  []string // uroot-image.sh's
		want   []string // in the image
		append string   // to netroot
		expect []string // on the console, in order
	}{
		{name: "cmd", want: []string{"init", "bbin/iscsistart"},
			expect: []string{"init started", disk.Marker}},
		{name: "uinit", flags: []string{"-u"}, want: []string{"init", "bbin/init", "bin/uinit", "bbin/iscsiboot-uinit"},
			append: "rw",
			expect: []string{"Welcome to u-root!", "iscsiboot-uinit: modules loaded", "iscsiboot-uinit: root /dev/sda (ext4) mounted on /root",
				"ISCSIBOOT-HANDOFF: InitiatorName=" + InitiatorIQN,
				"ISCSIBOOT-NODES: /etc/iscsi/nodes/" + TargetIQN + "/", disk.Marker}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := h.URoot(ctx, t, tc.name, tc.flags...)
			for _, w := range tc.want {
				if !slices.Contains(img.Names, w) {
					t.Fatalf("the u-root image has no %s: %q", w, img.Names)
				}
			}
			for _, n := range img.Names {
				if b := filepath.Base(n); b == "sh" || b == "elvish" || b == "gosh" || b == "defaultsh" {
					t.Errorf("the u-root image has a shell: %s", n)
				}
			}
			vm := h.Boot(ctx, BootOptions{Name: "uroot-" + tc.name, Initrd: img.Initrd, Timeout: 90 * time.Second,
				Append: strings.TrimSpace(netroot + " " + tc.append)})
			var l Line
			for _, s := range tc.expect {
				if l, err = vm.WaitFor(ctx, s); err != nil {
					t.Fatalf("%v; console:\n%s", err, consoleText(vm))
				}
			}
			t.Logf("QEMU start to the root's init: %.2f s", l.Host.Seconds())
			if err := vm.Wait(ctx); err != nil {
				t.Error(err)
			}
		})
	}

	// The uinit's image again, with a target that does not exist: one line says why, the uinit exits, and
	// u-root's init, with no shell to fall back to, ends; the kernel's panic=-1 restarts the machine, which
	// ends QEMU (-no-reboot). No hang, no root.
	t.Run("uinit-fail", func(t *testing.T) {
		img := filepath.Join(h.Dir, "uinit.img")
		if _, err := os.Stat(img); err != nil {
			t.Fatalf("no image from TestURoot/uinit: %v", err)
		}
		vm := h.Boot(ctx, BootOptions{Name: "uroot-uinit-fail", Initrd: img, Timeout: 90 * time.Second,
			Append: fmt.Sprintf("ip=dhcp netroot=iscsi:%s::%d::%s rd.retry=3", HostAddr, srv.Port, TargetIQN+"-none")})
		l, err := vm.WaitFor(ctx, "iscsiboot-uinit: boot: ")
		if err != nil {
			t.Fatalf("%v; console:\n%s", err, consoleText(vm))
		}
		t.Logf("%s", l.Text)
		if err := vm.Wait(ctx); err != nil {
			t.Error(err)
		}
		if c := consoleText(vm); strings.Contains(c, RootMarker) {
			t.Errorf("a failed boot reached a root:\n%s", c)
		}
	})
}
