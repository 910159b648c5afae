package qemutests

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/plan"
)

// derivedRootInit is a root disk's /sbin/init that prints the initiator name the boot handed over to iscsid
// (/run/initiatorname.iscsi, in the /run the boot moved into the root), and keeps the session up a moment for
// the target to be asked who is logged in.
const derivedRootInit = `#!/bin/busybox sh
echo "ISCSIBOOT-HANDOFF: $(/bin/busybox cat /run/initiatorname.iscsi)"
/bin/busybox sleep 3
/bin/busybox poweroff -f
`

// TestDerivedInitiatorName boots our own image with the README's boot line, ip=dhcp netroot=iscsi:..., and no
// initiator name anywhere (no rd.iscsi.initiator=, no /etc/iscsi/initiatorname.iscsi in the image; tgtd admits
// ALL): the boot derives the name from the DMI product UUID QEMU's -uuid sets, prints it, logs in with it and
// hands it over.
func TestDerivedInitiatorName(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := New(t)
	disk, err := RootImage{Name: "root.ext4", Init: derivedRootInit, Size: "32M"}.Build(ctx, h.Dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	tool := h.GoBinary(ctx, "./cmd/iscsiboot-initramfs")
	bin := h.GoBinary(ctx, "./cmd/iscsistart")
	out := filepath.Join(h.Dir, "initrd.img")
	if b, err := exec.CommandContext(ctx, tool, "-o", out, "-binary", bin, "-init", "-modules", "virtio_net,iscsi_tcp,sd_mod,ext4",
		"-kernel-dir", h.Kernel.Dir, "-kver", h.Kernel.Version).CombinedOutput(); err != nil {
		t.Fatalf("iscsiboot-initramfs: %v\n%s", err, b)
	}
	const uuid = "6b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8"
	want, from, err := plan.DeriveInitiator(uuid, "")
	if err != nil || from != plan.FromProductUUID {
		t.Fatal(err, from)
	}
	vm := h.Boot(ctx, BootOptions{Initrd: out, Timeout: 90 * time.Second, ExtraArgs: []string{"-uuid", uuid},
		Append: fmt.Sprintf("ip=dhcp netroot=iscsi:%s::%d::%s rd.retry=20", HostAddr, srv.Port, TargetIQN)})
	line := vm.Expect(ctx, "iscsiboot: initiator name ")
	if wantLine := "iscsiboot: initiator name " + want + ", derived from the DMI product UUID (none given)"; line.Text != wantLine {
		t.Errorf("the boot printed\n%s\nwant\n%s", line.Text, wantLine)
	}
	handoff := vm.Expect(ctx, "ISCSIBOOT-HANDOFF: ")
	if got := strings.TrimPrefix(handoff.Text, "ISCSIBOOT-HANDOFF: "); got != "InitiatorName="+want {
		t.Errorf("/run/initiatorname.iscsi in the root holds %q, want InitiatorName=%s", got, want)
	}
	conns, err := srv.Connections(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(conns) != 1 || conns[0].Initiator != want {
		t.Errorf("the target sees %+v, want one connection from %s", conns, want)
	}
	if err := vm.Wait(ctx); err != nil {
		t.Error(err)
	}
}
