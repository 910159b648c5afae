package qemutests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// RootImage describes an ext4 root disk richer than RootDisk's: host
// programs with their libraries, files of its own, and an init.
type RootImage struct {
	// Name is the image's file name in the harness directory.
	Name string
	// Init is /sbin/init, a busybox script.
	Init string
	// Programs are host executables copied to the same paths, each with
	// the shared libraries ldd names for it.
	Programs []string
	// HostFiles are host files copied to the same paths, modes kept.
	HostFiles []string
	// Files maps image paths to contents and modes.
	Files map[string]ImageFile
	// Size is mkfs.ext4's size argument, such as "64M".
	Size string
}

// ImageFile is one file of a RootImage.
type ImageFile struct {
	Data string
	Mode os.FileMode
}

// Build writes the image into dir with mkfs.ext4 -d, without debootstrap:
// static busybox as /bin/busybox with its applets linked in /bin, the
// host's os-release, then the image's own programs and files.
func (r RootImage) Build(ctx context.Context, dir string) (RootDisk, error) {
	tree := filepath.Join(dir, strings.TrimSuffix(r.Name, ".ext4")+"-tree")
	for _, d := range []string{"bin", "sbin", "etc", "dev", "proc", "sys", "run", "tmp", "root"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			return RootDisk{}, err
		}
	}
	osr, err := readOSRelease()
	if err != nil {
		return RootDisk{}, err
	}
	pretty, err := prettyName(osr)
	if err != nil {
		return RootDisk{}, err
	}
	copies := append([]string{"/bin/busybox"}, r.HostFiles...)
	for _, p := range r.Programs {
		libs, err := sharedLibs(ctx, p)
		if err != nil {
			return RootDisk{}, err
		}
		copies = append(append(copies, p), libs...)
	}
	for _, src := range copies {
		if err := copyHostFile(tree, src); err != nil {
			if src == "/bin/busybox" {
				err = fmt.Errorf("static busybox (scripts/deps.sh installs busybox-static): %w", err)
			}
			return RootDisk{}, err
		}
	}
	out, err := exec.CommandContext(ctx, "/bin/busybox", "--list").Output()
	if err != nil {
		return RootDisk{}, fmt.Errorf("busybox --list: %w", err)
	}
	for _, a := range strings.Fields(string(out)) {
		if _, err := os.Lstat(filepath.Join(tree, "bin", a)); err == nil || a == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(tree, "bin", a)); err != nil {
			return RootDisk{}, err
		}
	}
	files := map[string]ImageFile{
		"/sbin/init":      {r.Init, 0o755},
		"/etc/os-release": {string(osr), 0o644},
	}
	for p, f := range r.Files {
		files[p] = f
	}
	for p, f := range files {
		dst := filepath.Join(tree, p)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return RootDisk{}, err
		}
		if err := os.WriteFile(dst, []byte(f.Data), f.Mode); err != nil {
			return RootDisk{}, err
		}
		// WriteFile leaves the mode of a file copied from the host.
		if err := os.Chmod(dst, f.Mode); err != nil {
			return RootDisk{}, err
		}
	}
	img := filepath.Join(dir, r.Name)
	b, err := exec.CommandContext(ctx, "mkfs.ext4", "-q", "-F", "-L", "iscsiroot", "-E", "root_owner=0:0",
		"-d", tree, img, r.Size).CombinedOutput()
	if err != nil {
		return RootDisk{}, fmt.Errorf("mkfs.ext4: %w: %s", err, bytes.TrimSpace(b))
	}
	return RootDisk{Path: img, Marker: RootMarker + pretty}, nil
}

// copyHostFile copies the host file src to the same path under tree,
// following symbolic links and keeping the permission bits.
func copyHostFile(tree, src string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("root image: %w", err)
	}
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("root image: %w", err)
	}
	dst := filepath.Join(tree, src)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, st.Mode().Perm())
}
