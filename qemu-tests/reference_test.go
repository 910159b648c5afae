package qemutests

import (
	"context"
	"testing"
	"time"
)

// TestReferenceIscsistart boots with Debian's own iscsistart: the yardstick every iscsiboot boot is compared
// with, and the proof that the rig itself works.
func TestReferenceIscsistart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := New(t)
	disk := h.RootDisk(ctx)
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	vm := h.Boot(ctx, BootOptions{Initrd: h.Initramfs(ctx, ReferenceGuest(srv.Port))})
	vm.Expect(ctx, disk.Marker)
	if err := vm.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	rc, err := vm.LoginExitCode()
	if err != nil || rc != 0 {
		t.Errorf("iscsistart exit = %d, %v; want 0", rc, err)
	}
	want := []string{StepInit, StepModules, StepNet, StepLoginExec, StepLoginExit, StepBlockDev, StepRoot, StepRootInit}
	ms := vm.Marks()
	for i, w := range want {
		if i >= len(ms) || ms[i].Text[:min(len(w), len(ms[i].Text))] != w {
			t.Fatalf("steps out of order: want %q at %d in\n%s", w, i, FormatMarks(ms))
		}
	}
	t.Logf("reference boot, Debian iscsistart:\n%s", FormatMarks(ms))
}
