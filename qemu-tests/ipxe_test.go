package qemutests

import (
	"context"
	"testing"
	"time"
)

// TestReferenceIPXE boots through iPXE's sanhook, then Debian's iscsistart logs in from the iBFT iPXE left:
// the yardstick for firmware boots.
func TestReferenceIPXE(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	h := New(t)
	disk := h.RootDisk(ctx)
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	g := ReferenceFirmwareGuest()
	g.Gzip = true // TFTP is slow: 6 MB instead of 15
	start := time.Now()
	vm := h.Boot(ctx, h.IPXEBoot(IPXEOptions{Port: srv.Port, Initrd: h.Initramfs(ctx, g)}))
	// iPXE clears the screen as it jumps to the kernel and sometimes
	// swallows the last character of this line: match what always survives.
	vm.Expect(ctx, "ISCSIBOOT-IPXE: booting kerne")
	vm.Expect(ctx, disk.Marker)
	if err := vm.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if rc, err := vm.LoginExitCode(); err != nil || rc != 0 {
		t.Errorf("iscsistart -N && iscsistart -b exit = %d, %v; want 0", rc, err)
	}
	t.Logf("iPXE boot, Debian iscsistart -b, qemu wall %.2f s:\n%s", time.Since(start).Seconds(), FormatMarks(vm.Marks()))
}
