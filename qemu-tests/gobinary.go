package qemutests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// GoBinary builds the main package pkg of this module ("./cmd/iscsistart") as a static binary for the guest,
// stripped, with trimmed paths and the inlining `make build` chooses for each build, with the build tags given ("dropin"
// for the drop-in build), and returns its path. The build cache makes repeated builds cheap; the module cache
// must already hold the dependencies, since the namespaces have no network.
func (h *Harness) GoBinary(ctx context.Context, pkg string, tags ...string) string {
	h.t.Helper()
	start := time.Now()
	outDir := filepath.Join(h.Dir, "bin")
	if len(tags) > 0 {
		outDir = filepath.Join(outDir, strings.Join(tags, "-"))
	}
	p, err := buildGo(ctx, pkg, outDir, tags...)
	if err != nil {
		h.t.Fatalf("go build %s: %v", pkg, err)
	}
	h.t.Logf("built %s %v in %v", pkg, tags, time.Since(start).Round(time.Millisecond))
	return p
}

func buildGo(ctx context.Context, pkg, outDir string, tags ...string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(outDir, path.Base(pkg))
	// The Makefile's GCFLAGS (DROPIN_GCFLAGS for the drop-in) and LDFLAGS (without the version).
	gcflags := "-gcflags=github.com/iscsiboot/...=-l"
	if slices.Contains(tags, "dropin") {
		gcflags = "-gcflags=all=-l"
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", gcflags, "-ldflags=-s -w",
		"-tags="+strings.Join(tags, ","), "-o", out, pkg)
	cmd.Dir = root
	// The namespaces have no network: a missing module fails at once instead of after a DNS timeout.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOPROXY=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}
