package qemutests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestURoot builds a u-root image with u-root's own tool (scripts/uroot-image.sh: mkuimage, busybox mode, our
// cmd/iscsistart as /init, no shell), adds the kernel modules with iscsiboot-initramfs -append (no -binary:
// the image has the command), and boots the root from the kernel command line.
func TestURoot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	h := New(t)
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	uimage := filepath.Join(h.Dir, "uroot.cpio")
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "uroot-image.sh"), "-o", uimage)
	cmd.Stderr = &stderr
	if b, err := cmd.Output(); err != nil {
		t.Fatalf("uroot-image.sh: %v\n%s%s", err, b, stderr.Bytes())
	}
	t.Logf("u-root image built in %v", time.Since(start).Round(time.Millisecond))
	entries, err := exec.CommandContext(ctx, "cpio", "-it", "--quiet", "-F", uimage).Output()
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Fields(string(entries))
	if !slices.Contains(names, "init") || !slices.Contains(names, "bbin/iscsistart") {
		t.Fatalf("the u-root image has no init or bbin/iscsistart: %q", names)
	}
	for _, n := range names {
		if b := filepath.Base(n); b == "sh" || b == "elvish" || b == "gosh" {
			t.Errorf("the u-root image has a shell: %s", n)
		}
	}

	disk := h.RootDisk(ctx)
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	tool := h.GoBinary(ctx, "./cmd/iscsiboot-initramfs")
	name := filepath.Join(h.Dir, "initiatorname.iscsi")
	if err := os.WriteFile(name, []byte("InitiatorName="+InitiatorIQN+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(h.Dir, "initrd.img")
	if b, err := exec.CommandContext(ctx, tool, "-append", uimage, "-o", out, "-modules", "virtio_net,iscsi_tcp,sd_mod,ext4",
		"-kernel-dir", h.Kernel.Dir, "-kver", h.Kernel.Version, "-file", name+":/etc/iscsi/initiatorname.iscsi").CombinedOutput(); err != nil {
		t.Fatalf("iscsiboot-initramfs -append: %v\n%s", err, b)
	}
	vm := h.Boot(ctx, BootOptions{Initrd: out, Timeout: 90 * time.Second,
		Append: fmt.Sprintf("ip=dhcp netroot=iscsi:%s::%d::%s rd.retry=20", HostAddr, srv.Port, TargetIQN)})
	vm.Expect(ctx, "init started")
	vm.Expect(ctx, disk.Marker)
	if err := vm.Wait(ctx); err != nil {
		t.Error(err)
	}
}
