package qemutests

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestReferenceIscsistart boots with Debian's own iscsistart: the yardstick every iscsiboot boot is compared
// with, and the proof that the rig itself works. The second case boots as distributions do (bzImage, gzip'd
// initramfs) at the same time as the first, which also exercises two VMs at once.
func TestReferenceIscsistart(t *testing.T) {
	tests := []struct {
		name  string
		boot  BootOptions
		guest func(port int) Guest
	}{
		{"pvh", BootOptions{}, ReferenceGuest},
		{"bzimage gzip", BootOptions{BzImage: true}, func(port int) Guest {
			g := ReferenceGuest(port)
			g.Gzip = true
			return g
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			h := New(t)
			disk := h.RootDisk(ctx)
			srv := h.Target(ctx, 1, TargetIQN, disk.Path)
			opts := tt.boot
			opts.Initrd = h.Initramfs(ctx, tt.guest(srv.Port))
			start := time.Now()
			vm := h.Boot(ctx, opts)
			vm.Expect(ctx, disk.Marker)
			if err := vm.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			wall := time.Since(start)
			if rc, err := vm.LoginExitCode(); err != nil || rc != 0 {
				t.Errorf("iscsistart exit = %d, %v; want 0", rc, err)
			}
			ms := vm.Marks()
			want := []string{StepInit, StepModules, StepNet, StepLoginExec, StepLoginExit, StepBlockDev, StepRoot, StepRootInit}
			for i, w := range want {
				if i >= len(ms) || !strings.HasPrefix(ms[i].Text, w) {
					t.Fatalf("steps out of order: want %q at %d in\n%s", w, i, FormatMarks(ms))
				}
			}
			t.Logf("reference boot (%s), Debian iscsistart, qemu wall %.2f s:\n%s", tt.name, wall.Seconds(), FormatMarks(ms))
		})
	}
}
