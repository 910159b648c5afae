package qemutests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// URootImage is a u-root image as its users build one: UImage comes from u-root's own tool
// (scripts/uroot-image.sh: mkuimage, busybox mode, our cmd/iscsistart as /init, no shell); Initrd is UImage
// with the modules and the initiator name added by iscsiboot-initramfs -append (no -binary: the image has
// the command; the README's module list, to which the tool adds virtio_pci itself).
type URootImage struct {
	UImage, Initrd string
}

// URoot builds the u-root image in the harness's directory.
func (h *Harness) URoot(ctx context.Context) URootImage {
	h.t.Helper()
	root, err := moduleRoot()
	if err != nil {
		h.t.Fatal(err)
	}
	start := time.Now()
	img := URootImage{UImage: filepath.Join(h.Dir, "uroot.cpio"), Initrd: filepath.Join(h.Dir, "uroot-initrd.img")}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "uroot-image.sh"), "-o", img.UImage)
	cmd.Stderr = &stderr
	if b, err := cmd.Output(); err != nil {
		h.t.Fatalf("uroot-image.sh: %v\n%s%s", err, b, stderr.Bytes())
	}
	h.t.Logf("u-root image built in %v", time.Since(start).Round(time.Millisecond))
	tool := h.GoBinary(ctx, "./cmd/iscsiboot-initramfs")
	name := filepath.Join(h.Dir, "uroot-initiatorname.iscsi")
	if err := os.WriteFile(name, []byte("InitiatorName="+InitiatorIQN+"\n"), 0o644); err != nil {
		h.t.Fatal(err)
	}
	if b, err := exec.CommandContext(ctx, tool, "-append", img.UImage, "-o", img.Initrd, "-modules", "virtio_net,iscsi_tcp,sd_mod,ext4",
		"-kernel-dir", h.Kernel.Dir, "-kver", h.Kernel.Version, "-file", name+":/etc/iscsi/initiatorname.iscsi").CombinedOutput(); err != nil {
		h.t.Fatalf("iscsiboot-initramfs -append: %v\n%s", err, b)
	}
	return img
}
