package qemutests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// DracutImage builds an initramfs with Debian's dracut 059 (unpacked in scripts/deps.sh's cache, never
// installed) for the harness's kernel, through scripts/dracut-image.sh: with contrib/dracut's iscsiboot
// module and the iscsistart at bin, or, when bin is empty, dracut's own iscsi and network-legacy modules
// with this machine's open-iscsi, the yardstick. Both hold the same drivers. It returns the image's path.
func (h *Harness) DracutImage(ctx context.Context, bin string) string {
	h.t.Helper()
	start := time.Now()
	h.images++
	out := filepath.Join(h.Dir, fmt.Sprintf("dracut%d.img", h.images))
	root, err := moduleRoot()
	if err != nil {
		h.t.Fatal(err)
	}
	args := []string{"-k", h.Kernel.Dir, "-o", out}
	if bin != "" {
		args = append(args, "-b", bin)
	} else {
		args = append(args, "-r")
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "dracut-image.sh"), args...)
	cmd.Stderr = &stderr
	if b, err := cmd.Output(); err != nil {
		h.t.Fatalf("dracut-image.sh: %v\n%s%s", err, b, stderr.Bytes())
	}
	if fi, err := os.Stat(out); err == nil {
		h.t.Logf("dracut image %s: %d bytes, built in %v", filepath.Base(out), fi.Size(), time.Since(start).Round(time.Millisecond))
	}
	return out
}
