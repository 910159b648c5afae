package qemutests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// URootImage is a u-root image as its users build one: UImage comes from u-root's own tool
// (scripts/uroot-image.sh: mkuimage, busybox mode, no shell; our cmd/iscsistart as /init, or with -u u-root's
// own init and our cmd/iscsiboot-uinit); Initrd is UImage with the modules and the initiator name added by
// iscsiboot-initramfs -append (no -binary: the image has the command; the README's module list, to which the
// tool adds virtio_pci itself). Names are the entries of UImage.
type URootImage struct {
	UImage, Initrd string
	Names          []string
}

// URoot builds the u-root image called name in the harness's directory, with uroot-image.sh's flags; tb is
// the test or subtest that fails if it cannot.
func (h *Harness) URoot(ctx context.Context, tb testing.TB, name string, flags ...string) URootImage {
	tb.Helper()
	root, err := moduleRoot()
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	img := URootImage{UImage: filepath.Join(h.Dir, name+".cpio"), Initrd: filepath.Join(h.Dir, name+".img")}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "uroot-image.sh"), append(flags, "-o", img.UImage)...)
	cmd.Stderr = &stderr
	if b, err := cmd.Output(); err != nil {
		tb.Fatalf("uroot-image.sh %s: %v\n%s%s", strings.Join(flags, " "), err, b, stderr.Bytes())
	}
	fi, err := os.Stat(img.UImage)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("u-root image built in %v: %.2f MB", time.Since(start).Round(time.Millisecond), float64(fi.Size())/1e6)
	entries, err := exec.CommandContext(ctx, "cpio", "-it", "--quiet", "-F", img.UImage).Output()
	if err != nil {
		tb.Fatal(err)
	}
	img.Names = strings.Fields(string(entries))
	tool := h.GoBinary(ctx, "./cmd/iscsiboot-initramfs")
	iname := filepath.Join(h.Dir, name+"-initiatorname.iscsi")
	if err := os.WriteFile(iname, []byte("InitiatorName="+InitiatorIQN+"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	if b, err := exec.CommandContext(ctx, tool, "-append", img.UImage, "-o", img.Initrd, "-modules", "virtio_net,iscsi_tcp,sd_mod,ext4",
		"-kernel-dir", h.Kernel.Dir, "-kver", h.Kernel.Version, "-file", iname+":/etc/iscsi/initiatorname.iscsi").CombinedOutput(); err != nil {
		tb.Fatalf("iscsiboot-initramfs -append: %v\n%s", err, b)
	}
	return img
}
