package qemutests

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestURoot builds a u-root image with u-root's own tool and our command as /init (h.URoot), checks that it
// has no shell, and boots the root from the kernel command line.
func TestURoot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	h := New(t)
	img := h.URoot(ctx)
	entries, err := exec.CommandContext(ctx, "cpio", "-it", "--quiet", "-F", img.UImage).Output()
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
	vm := h.Boot(ctx, BootOptions{Initrd: img.Initrd, Timeout: 90 * time.Second,
		Append: fmt.Sprintf("ip=dhcp netroot=iscsi:%s::%d::%s rd.retry=20", HostAddr, srv.Port, TargetIQN)})
	vm.Expect(ctx, "init started")
	vm.Expect(ctx, disk.Marker)
	if err := vm.Wait(ctx); err != nil {
		t.Error(err)
	}
}
