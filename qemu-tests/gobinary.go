package qemutests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"time"
)

// GoBinary builds the main package pkg of this module ("./cmd/iscsistart") as a static binary for the guest,
// stripped and with trimmed paths as `make build` does, and returns its path. The build cache makes repeated
// builds cheap; the module cache must already hold the dependencies, since the namespaces have no network.
func (h *Harness) GoBinary(ctx context.Context, pkg string) string {
	h.t.Helper()
	start := time.Now()
	p, err := buildGo(ctx, pkg, filepath.Join(h.Dir, "bin"))
	if err != nil {
		h.t.Fatalf("go build %s: %v", pkg, err)
	}
	h.t.Logf("built %s in %v", pkg, time.Since(start).Round(time.Millisecond))
	return p
}

func buildGo(ctx context.Context, pkg, outDir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(outDir, path.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
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
