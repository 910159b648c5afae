package qemutests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// envKernelDir names the cached kernel directory; TestMain sets it for the namespaced test binary.
const envKernelDir = "ISCSIBOOT_KERNEL_DIR"

// Kernel is one unpacked Debian kernel in scripts/deps.sh's cache.
type Kernel struct {
	Dir     string // the unpacked package: boot/, lib/modules/<Version>/, vmlinux
	Version string // the kernel release, such as 6.1.0-28-amd64
}

// VMLinux is the uncompressed kernel ELF, booted through PVH.
func (k Kernel) VMLinux() string { return filepath.Join(k.Dir, "vmlinux") }

// BzImage is the kernel as Debian ships it, for firmware boots (iPXE) and bzImage comparisons.
func (k Kernel) BzImage() string { return filepath.Join(k.Dir, "boot", "vmlinuz-"+k.Version) }

// kernelFromDir checks that dir holds a complete cached kernel.
func kernelFromDir(dir string) (Kernel, error) {
	k := Kernel{Dir: dir, Version: filepath.Base(dir)}
	for _, p := range []string{
		k.VMLinux(), k.BzImage(),
		filepath.Join(dir, "lib", "modules", k.Version, "modules.dep"),
	} {
		if _, err := os.Stat(p); err != nil {
			return Kernel{}, fmt.Errorf("kernel %s: %w (run scripts/deps.sh kernel)", dir, err)
		}
	}
	return k, nil
}

// resolveKernel returns the kernel named by ISCSIBOOT_KERNEL_DIR, or runs `scripts/deps.sh kernel`, which
// downloads Debian's current kernel once and prints its cache directory on the last line.
func resolveKernel() (Kernel, error) {
	if dir := os.Getenv(envKernelDir); dir != "" {
		return kernelFromDir(dir)
	}
	root, err := moduleRoot()
	if err != nil {
		return Kernel{}, err
	}
	var stderr bytes.Buffer
	cmd := exec.Command(filepath.Join(root, "scripts", "deps.sh"), "kernel")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Kernel{}, fmt.Errorf("scripts/deps.sh kernel: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return kernelFromDir(lines[len(lines)-1])
}

// moduleRoot finds the directory holding go.mod, upwards from the working directory (go test runs a test in
// its package directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("module root: no go.mod above the working directory")
		}
		dir = parent
	}
}
