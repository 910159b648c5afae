package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
)

// buildGo builds this command into a temporary directory with the go build
// flags given and returns its path.
func buildGo(t *testing.T, flags ...string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go toolchain for building the binary: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "iscsistart")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, append(append([]string{"build"}, flags...), "-o", bin, ".")...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", strings.Join(flags, " "), err, out)
	}
	return bin
}

// dropinMaxGzip is the budget for what the drop-in adds to a gzip'd
// initramfs: 1.5 MB, gzip -9 as initramfs-tools compresses.
const dropinMaxGzip = 1_500_000

// TestDropinBuild builds the drop-in as `make build` does (the Makefile's
// GCFLAGS and LDFLAGS, -tags dropin) and runs it: -v names the build; our
// /init's --boot and --multipath are refused with one line and exit 7
// before anything happens; it links no DHCP library; and it stays within
// the size budget gzip -9.
func TestDropinBuild(t *testing.T) {
	bin := buildGo(t, "-trimpath", "-gcflags=all=-l", "-ldflags=-s -w", "-tags=dropin")

	runBin := func(args ...string) (string, int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s %v: %v", bin, args, err)
		}
		return string(out), code
	}
	if out, code := runBin("-v"); code != 0 || !strings.Contains(out, "drop-in build") {
		t.Errorf("-v: exit %d, %q; want 0 and the build named", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--boot", "--cmdline", "ip=dhcp netroot=iscsi:192.0.2.1::::iqn.2025-01.test:disk"}, "--boot: not in the drop-in build"},
		{[]string{"--multipath", "-i", fakeInit, "-t", fakeDisk, "-g", "1", "-a", "192.0.2.1"}, "--multipath: not in the drop-in build"},
	} {
		out, code := runBin(tc.args...)
		if code != iscsierr.Invalid || strings.Count(out, "\n") != 1 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit %d and one line with %q", tc.args, code, out, iscsierr.Invalid, tc.want)
		}
	}

	deps, err := exec.Command("go", "list", "-deps", "-tags=dropin", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, deps)
	}
	if bytes.Contains(deps, []byte("insomniacslk/dhcp")) {
		t.Errorf("the drop-in links insomniacslk/dhcp")
	}

	gz, err := exec.Command("sh", "-c", `gzip -9 -c "$0" | wc -c`, bin).Output()
	if err != nil {
		t.Fatalf("gzip -9: %v", err)
	}
	var n int
	if _, err := fmt.Sscan(string(gz), &n); err != nil {
		t.Fatalf("gzip -9 | wc -c: %q", gz)
	}
	t.Logf("drop-in: %d bytes gzip -9 (budget %d)", n, dropinMaxGzip)
	if n > dropinMaxGzip {
		t.Errorf("the drop-in is %d bytes gzip -9, over its budget of %d (scripts/sizes.sh shows what each package adds)", n, dropinMaxGzip)
	}
}
