package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds this command into a temporary directory, as `make
// build` does, and returns its path.
func buildBinary(t *testing.T) string { return buildGo(t) }

// TestVersionAsPID1 runs the built binary as PID 1 of a new PID namespace,
// as `unshare -p -f -r` does: with --version it prints its version and
// exits 0 at once, as a command. It must not act as the initramfs's /init,
// which would mount /proc, /sys and /dev, read the kernel command line and
// call reboot(2): that is only for the init the kernel started. The last
// case is what the kernel does, argv[0] "/init", but with our own option
// (in a mount namespace of its own, so that a regression mounts nothing
// the other tests see).
func TestVersionAsPID1(t *testing.T) {
	bin := buildBinary(t)
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatalf("unshare (util-linux): %v", err)
	}
	tests := []struct {
		name string
		cmd  func(ctx context.Context) *exec.Cmd
	}{
		{"unshare -p -f -r iscsistart --version", func(ctx context.Context) *exec.Cmd {
			return exec.CommandContext(ctx, unshare, "-p", "-f", "-r", bin, "--version")
		}},
		{"unshare -p -f -r --mount-proc iscsistart --version", func(ctx context.Context) *exec.Cmd {
			return exec.CommandContext(ctx, unshare, "-p", "-f", "-r", "--mount-proc", bin, "--version")
		}},
		{"argv[0] /init with -v", func(ctx context.Context) *exec.Cmd {
			cmd := exec.CommandContext(ctx, bin, "-v")
			cmd.Args[0] = "/init"
			// No user namespace here: the parent's /proc is not of its PID
			// namespace, so Go could not write the child's uid_map.
			cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS}
			return cmd
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			cmd := tt.cmd(ctx)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			if err != nil || !strings.HasPrefix(stdout.String(), "iscsistart version ") || strings.Count(stdout.String(), "\n") != 1 ||
				stderr.Len() != 0 {
				t.Errorf("%v after %v\nstdout: %q\nstderr: %q\nwant exit 0 and only the version line", err, took, stdout.String(), stderr.String())
			}
			if took > 10*time.Second {
				t.Errorf("took %v, want a prompt exit", took)
			}
		})
	}
}
