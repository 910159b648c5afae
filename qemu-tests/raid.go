package qemutests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/iscsiboot/iscsiboot/initramfs"
)

// raidPrepDone is the line the preparation guest prints once the array holds the root and is stopped.
const raidPrepDone = "RAIDPREP-DONE"

// raidPrepFail starts the line the preparation guest prints when a step fails.
const raidPrepFail = "RAIDPREP-FAIL: "

// raidPrepInit is the preparation guest's /init: Debian's mdadm makes an md RAID 0 of the member disks
// (vda, vdb), as dracut's TEST-70-ISCSI does with its raid0-1 and raid0-2, and the root file system (vdc,
// read-only) is copied onto the array, which is stopped cleanly before power-off.
var raidPrepInit = `#!/bin/sh
export PATH=/bin:/sbin
` + guestMounts + guestFail(raidPrepFail, 20) + guestModules + `i=0; while [ ! -b /dev/vdc ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
[ -b /dev/vdc ] || fail "no /dev/vdc"
mdadm --create /dev/md0 --run --level=0 --raid-devices=2 --metadata=1.2 --name=iscsiroot /dev/vda /dev/vdb ||
	fail "mdadm --create"
have=$(blockdev --getsize64 /dev/md0) need=$(blockdev --getsize64 /dev/vdc)
[ "$have" -ge "$need" ] || fail "the array holds $have bytes, the root $need"
dd if=/dev/vdc of=/dev/md0 bs=1M conv=fsync 2>/dev/null || fail "copy the root onto the array"
mdadm --stop /dev/md0 || fail "mdadm --stop"
echo "` + raidPrepDone + `"
poweroff -f
`

// RAID0Members writes the two members of an md RAID 0 (mdadm metadata 1.2, its default chunk) that holds the
// file system image root, each size bytes, in the harness's directory, and returns their paths. A
// preparation guest does the work with Debian's mdadm (scripts/deps.sh mdadm), so the host needs neither
// loop devices nor md.
func (h *Harness) RAID0Members(ctx context.Context, root string, size int64) []string {
	h.t.Helper()
	mdadm, err := mdadmDir(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	n := h.nextImage()
	initrd := filepath.Join(h.Dir, fmt.Sprintf("raidprep%d.cpio", n))
	if err := buildRAIDPrep(ctx, h.Kernel, filepath.Join(mdadm, "sbin", "mdadm"), initrd); err != nil {
		h.t.Fatalf("RAID preparation image: %v", err)
	}
	var members []string
	args := []string{}
	for i := 1; i <= 2; i++ {
		p := filepath.Join(h.Dir, fmt.Sprintf("raid0-%d.img", i))
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			h.t.Fatal(err)
		}
		if err := os.Truncate(p, size); err != nil {
			h.t.Fatal(err)
		}
		members = append(members, p)
		args = append(args, "-drive", "file="+p+",format=raw,if=virtio")
	}
	args = append(args, "-drive", "file="+root+",format=raw,if=virtio,readonly=on")
	vm := h.Boot(ctx, BootOptions{Name: fmt.Sprintf("raidprep%d", n), Initrd: initrd, ExtraArgs: args,
		Timeout: 60 * time.Second})
	if _, err := vm.WaitFor(ctx, raidPrepDone); err != nil {
		h.t.Fatalf("RAID preparation: %v; console:\n%s", err, vm.tail(30))
	}
	if err := vm.Wait(ctx); err != nil {
		h.t.Fatalf("RAID preparation: %v", err)
	}
	h.t.Logf("RAID 0 members written by the preparation guest in %v", time.Since(vm.Started()).Round(time.Millisecond))
	return members
}

// mdadmDir returns Debian's mdadm unpacked in scripts/deps.sh's cache.
func mdadmDir(ctx context.Context) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "deps.sh"), "mdadm")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("scripts/deps.sh mdadm: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

// buildRAIDPrep writes the preparation guest's image: busybox, mdadm with its libraries, the virtio disk
// and RAID 0 drivers, and raidPrepInit.
func buildRAIDPrep(ctx context.Context, k Kernel, mdadm, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	b := initramfs.New(f, initramfs.Uncompressed())
	if err := addBusybox(ctx, b); err != nil {
		return err
	}
	for _, d := range []string{"/proc", "/sys", "/dev", "/run", "/tmp", "/etc"} {
		if err := b.AddDir(d, 0o755); err != nil {
			return fmt.Errorf("dir %s: %w", d, err)
		}
	}
	if err := b.AddCharDev("/dev/console", 0o600, 5, 1); err != nil {
		return fmt.Errorf("/dev/console: %w", err)
	}
	if err := b.AddBytes("/init", []byte(raidPrepInit), 0o755); err != nil {
		return fmt.Errorf("/init: %w", err)
	}
	if err := addBinary(ctx, b, "/sbin/mdadm", mdadm); err != nil {
		return err
	}
	if _, err := b.AddModules(k.Dir, k.Version, "virtio_pci", "virtio_blk", "raid0"); err != nil {
		return fmt.Errorf("modules: %w", err)
	}
	if err := b.Close(); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return f.Close()
}
