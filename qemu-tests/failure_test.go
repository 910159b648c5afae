package qemutests

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestLoginFailureEndsBoot checks the harness's failure path: a login that cannot succeed (nothing listens
// on the port) is killed after its timeout, the guest prints why and powers off, and WaitFor reports the
// guest's reason instead of waiting for the boot timeout.
func TestLoginFailureEndsBoot(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := New(t)
	// Port 1: nothing listens there in the namespace (tgtd ports start at 3260), so slirp's connection
	// is refused and iscsistart retries until killed.
	g := ReferenceGuest(1)
	g.LoginTimeout = 3 * time.Second
	start := time.Now()
	vm := h.Boot(ctx, BootOptions{Initrd: h.Initramfs(ctx, g)})
	_, err := vm.WaitFor(ctx, RootMarker)
	if err == nil {
		t.Fatal("root marker found although no target was reachable")
	}
	if want := FailMarker + "login rc=137"; !strings.Contains(err.Error(), want) {
		t.Errorf("WaitFor error = %v, want it to carry %q", err, want)
	}
	if err := vm.Wait(ctx); err != nil {
		t.Errorf("guest did not power off cleanly: %v", err)
	}
	if d := time.Since(start); d > DefaultBootTimeout/2 {
		t.Errorf("failed boot took %v; the login timeout should end it in seconds", d)
	}
}
