package qemutests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	n := h.nextImage()
	var args []string
	if img.Iscsistart != "" {
		args = append(args, "-b", img.Iscsistart)
	}
	if img.Static != "" {
		p := filepath.Join(h.Dir, fmt.Sprintf("iscsi.initramfs.%d", n))
		if err := os.WriteFile(p, []byte(img.Static), 0o600); err != nil {
			h.t.Fatal(err)
		}
		args = append(args, "-s", p)
	}
	if len(img.Modules) > 0 {
		args = append(args, "-m", strings.Join(img.Modules, ","))
	}
	return h.imageScript(ctx, "initramfs-tools-image.sh", fmt.Sprintf("itools%d.img", n), "mkinitramfs", args...)
}
