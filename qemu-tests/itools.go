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
)

// ItoolsImage describes an initramfs built by Debian's own mkinitramfs (initramfs-tools) with the hooks
// this machine's packages installed, open-iscsi's among them, through scripts/initramfs-tools-image.sh.
type ItoolsImage struct {
	// Iscsistart is our binary, put in place of open-iscsi's by contrib/initramfs-tools' hook (with its
	// init-bottom step); empty keeps open-iscsi's iscsistart.
	Iscsistart string
	// Static is the image's /etc/iscsi.initramfs (open-iscsi's ISCSI_TARGET_NAME=... file); empty for none.
	Static string
	// Modules are MODULES=list's modules; empty for the script's default (virtio, iSCSI over TCP, sd, ext4).
	Modules []string
}

// InitramfsTools builds img for the harness's kernel and returns its path. mkinitramfs reads the kernel's
// modules from /lib/modules/KVER and its configuration from /boot and /etc: the script gives it the cached
// kernel there in a private mount namespace of its own, so nothing on the host changes.
func (h *Harness) InitramfsTools(ctx context.Context, img ItoolsImage) string {
	h.t.Helper()
	start := time.Now()
	h.images++
	out := filepath.Join(h.Dir, fmt.Sprintf("itools%d.img", h.images))
	root, err := moduleRoot()
	if err != nil {
		h.t.Fatal(err)
	}
	args := []string{"-k", h.Kernel.Dir, "-o", out}
	if img.Iscsistart != "" {
		args = append(args, "-b", img.Iscsistart)
	}
	if img.Static != "" {
		p := filepath.Join(h.Dir, fmt.Sprintf("iscsi.initramfs.%d", h.images))
		if err := os.WriteFile(p, []byte(img.Static), 0o600); err != nil {
			h.t.Fatal(err)
		}
		args = append(args, "-s", p)
	}
	if len(img.Modules) > 0 {
		args = append(args, "-m", strings.Join(img.Modules, ","))
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "initramfs-tools-image.sh"), args...)
	cmd.Stderr = &stderr
	if b, err := cmd.Output(); err != nil {
		h.t.Fatalf("initramfs-tools-image.sh: %v\n%s%s", err, b, stderr.Bytes())
	}
	if fi, err := os.Stat(out); err == nil {
		h.t.Logf("mkinitramfs image %s: %d bytes, built in %v", filepath.Base(out), fi.Size(), time.Since(start).Round(time.Millisecond))
	}
	return out
}
