package pid1

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// kernelFS are the file systems init mounts first, and moves into the new
// root before switching to it.
var kernelFS = []struct {
	dir, fstype string
	flags       uintptr
	data        string
}{
	{"/proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"/sys", "sysfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755"},
	// Hand-off files for the real root (initiator name, interface state)
	// go to /run, which systemd and sysvinit keep.
	{"/run", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=0755"},
}

func mountKernelFS() error {
	for _, m := range kernelFS {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return fmt.Errorf("mount %s: %w", m.dir, err)
		}
		err := unix.Mount(m.fstype, m.dir, m.fstype, m.flags, m.data)
		// EBUSY: already mounted, by a kernel with CONFIG_DEVTMPFS_MOUNT or
		// by whoever ran us first. Either way it is there.
		if err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount %s on %s: %w", m.fstype, m.dir, err)
		}
	}
	return nil
}

// MountRoot mounts dev on dir, made if missing, with the command line's
// type, flags and ro/rw (cfg's FSType, Flags, ReadOnly). Without
// rootfstype= it takes the type from the superblock, and failing that
// tries each block file system the kernel knows, as the kernel does for
// its own root mount. It returns the type that mounted.
func MountRoot(dev string, cfg Config, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("mount root: %w", err)
	}
	var flags uintptr
	if cfg.ReadOnly {
		flags |= unix.MS_RDONLY
	}
	types := strings.Split(cfg.FSType, ",")
	if cfg.FSType == "" {
		types = nil
		if sb, ok := readSuperblock(dev); ok {
			types = append(types, sb.Type)
		}
		for _, t := range blockFilesystems() {
			if len(types) == 0 || t != types[0] {
				types = append(types, t)
			}
		}
	}
	var tried []string
	var last error
	for _, t := range types {
		last = unix.Mount(dev, dir, t, flags, cfg.Flags)
		if last == nil {
			return t, nil
		}
		tried = append(tried, t)
	}
	if last == nil {
		return "", fmt.Errorf("mount root %s: no file system types to try", dev)
	}
	// The kernel logs why in dmesg; the last errno is the one worth a line.
	return "", fmt.Errorf("mount root %s on %s (tried %s; rootflags=%q): %w", dev, dir, strings.Join(tried, ","), cfg.Flags, last)
}

// blockFilesystems returns the file systems in /proc/filesystems that need
// a device.
func blockFilesystems() []string {
	b, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return nil
	}
	var fs []string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 1 {
			fs = append(fs, f[0])
		}
	}
	return fs
}

// SwitchRoot makes root the new "/" and executes init there (a path in
// root, FindInit's), after u-root's pkg/mount SwitchRoot: move the kernel
// file systems (/proc, /sys, /dev, /run) into it, move it onto "/", chroot,
// free the initramfs, exec. It returns only on failure. It is written out
// here because that one logs every step on the console and starts init
// with an empty environment, dropping what the kernel passed. The process
// that calls it becomes init; PID 1 only if it was PID 1.
func SwitchRoot(root, init string) error {
	// Every mount point first, so that a root without one (read-only, no
	// /run) fails before anything has moved.
	for _, m := range kernelFS {
		if err := os.MkdirAll(filepath.Join(root, m.dir), 0o755); err != nil {
			return fmt.Errorf("switch root: %w", err)
		}
	}
	for _, m := range kernelFS {
		dst := filepath.Join(root, m.dir)
		if err := unix.Mount(m.dir, dst, "", unix.MS_MOVE, ""); err != nil {
			return fmt.Errorf("switch root: move %s to %s: %w", m.dir, dst, err)
		}
	}
	if err := unix.Chdir(root); err != nil {
		return fmt.Errorf("switch root: %w", err)
	}
	old, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("switch root: open old root: %w", err)
	}
	if err := unix.Mount(root, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("switch root: move %s to /: %w", root, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("switch root: chroot: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("switch root: %w", err)
	}
	// The initramfs stays in RAM until its files are gone; nothing can
	// reach them by name any more, so delete them through the old fd.
	deleteTree(old)
	unix.Close(old)
	if err := unix.Exec(init, []string{init}, os.Environ()); err != nil {
		return fmt.Errorf("switch root: exec %s: %w", init, err)
	}
	return nil
}

// deleteTree removes what it can below the directory fd, staying on its
// file system, which the new root and the moved mounts are not on. Failures
// only leave some memory in use, so they are not reported.
func deleteTree(fd int) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return
	}
	dup, err := unix.Dup(fd)
	if err != nil {
		return
	}
	dir := os.NewFile(uintptr(dup), "")
	names, _ := dir.Readdirnames(-1)
	dir.Close()
	for _, name := range names {
		child, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			_ = unix.Unlinkat(fd, name, 0)
			continue
		}
		var cst unix.Stat_t
		if unix.Fstat(child, &cst) == nil && cst.Dev == st.Dev {
			deleteTree(child)
			_ = unix.Unlinkat(fd, name, unix.AT_REMOVEDIR)
		}
		unix.Close(child)
	}
}
