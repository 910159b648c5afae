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

// DracutImage builds an initramfs with Debian's dracut 059 (unpacked in scripts/deps.sh's cache, never
// installed) for the harness's kernel, through scripts/dracut-image.sh: with contrib/dracut's iscsiboot
// module and the iscsistart at bin, or, when bin is empty, dracut's own iscsi and network-legacy modules
// with this machine's open-iscsi, the yardstick. Both hold the same drivers and, with modules, the same
// more dracut modules (such as mdraid). It returns the image's path.
func (h *Harness) DracutImage(ctx context.Context, bin string, modules ...string) string {
	h.t.Helper()
	n := h.nextImage()
	opt := []string{"-r"}
	if bin != "" {
		opt = []string{"-b", bin}
	}
	if len(modules) > 0 {
		opt = append(opt, "-a", strings.Join(modules, ","))
	}
	return h.imageScript(ctx, "dracut-image.sh", fmt.Sprintf("dracut%d.img", n), "dracut", opt...)
}

// nextImage numbers the harness's next built image.
func (h *Harness) nextImage() int {
	h.images++
	return h.images
}

// imageScript runs scripts/SCRIPT -k KERNEL -o OUT with args, OUT being name in the harness's directory,
// logs the image's size and build time as what's, and returns OUT.
func (h *Harness) imageScript(ctx context.Context, script, name, what string, args ...string) string {
	h.t.Helper()
	start := time.Now()
	out := filepath.Join(h.Dir, name)
	root, err := moduleRoot()
	if err != nil {
		h.t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", script), append([]string{"-k", h.Kernel.Dir, "-o", out}, args...)...)
	cmd.Stderr = &stderr
	if b, err := cmd.Output(); err != nil {
		h.t.Fatalf("%s: %v\n%s%s", script, err, b, stderr.Bytes())
	}
	if fi, err := os.Stat(out); err == nil {
		h.t.Logf("%s image %s: %d bytes, built in %v", what, name, fi.Size(), time.Since(start).Round(time.Millisecond))
	}
	return out
}
