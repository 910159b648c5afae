package main

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/iscsiboot/iscsiboot/handoff"
)

// TestRunOutsideInitramfs runs the uinit on the test host, whose root is no
// initramfs: it must refuse before it mounts, loads or configures anything.
func TestRunOutsideInitramfs(t *testing.T) {
	if handoff.InInitramfs() {
		t.Fatal("the test host's root file system is a ramfs or tmpfs: this test needs a host whose root is not")
	}
	var log bytes.Buffer
	if err := run(context.Background(), &log); !errors.Is(err, errNotInitramfs) {
		t.Errorf("run: %v, want %v", err, errNotInitramfs)
	}
	if log.Len() != 0 {
		t.Errorf("run printed before refusing:\n%s", log.String())
	}
}
