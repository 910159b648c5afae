package pid1

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/iscsiboot/iscsiboot/internal/wait"
	"golang.org/x/sys/unix"
)

// pollInterval is how often init looks for the root device. Devices appear
// within a few hundred milliseconds of the login; 100 ms costs nothing.
const pollInterval = 100 * time.Millisecond

// WaitRoot waits, at most cfg.RootWait, for the root device: the one
// root= names (cfg.Root: a path, UUID= or LABEL=, found by reading
// superblocks since an initramfs without udev has no /dev/disk/by-*), or
// found, the boot step's device (Booted.Device), when there was no root=.
// It returns the device node's path; its error names the wait and lists
// the block devices there are.
func WaitRoot(ctx context.Context, cfg Config, found string) (string, error) {
	src, rootWait := cfg.Root, cfg.RootWait
	if src.IsZero() {
		if found == "" {
			return "", errNoRoot
		}
		src = Source{Path: found}
	}
	ctx, cancel := context.WithTimeout(ctx, rootWait)
	defer cancel()
	dev := ""
	if wait.Until(ctx, pollInterval, func() bool { dev = lookupRoot(src); return dev != "" }) != nil {
		return "", fmt.Errorf("root=%s after %v: %w (%s)", src, rootWait, errRootTimeout, blockDevices())
	}
	return dev, nil
}

// lookupRoot returns the device node src names, if it exists now.
func lookupRoot(src Source) string {
	if src.Path != "" {
		var st unix.Stat_t
		if unix.Stat(src.Path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK {
			return src.Path
		}
		return ""
	}
	// Without udev there is no /dev/disk/by-uuid: read every block
	// device's superblock, as blkid would.
	names, _ := filepath.Glob("/sys/class/block/*")
	for _, n := range names {
		dev := "/dev/" + filepath.Base(n)
		if sb, ok := readSuperblock(dev); ok && sb.Matches(src) {
			return dev
		}
	}
	return ""
}

func readSuperblock(dev string) (Superblock, bool) {
	f, err := os.Open(dev)
	if err != nil {
		return Superblock{}, false
	}
	defer f.Close()
	b := make([]byte, SuperblockReadLen)
	n, _ := io.ReadFull(f, b)
	return ParseSuperblock(b[:n])
}

// blockDevices lists the block devices there are, for the error line: the
// operator sees at once whether the disk is missing or the name is wrong.
func blockDevices() string {
	names, _ := filepath.Glob("/sys/class/block/*")
	if len(names) == 0 {
		return "no block devices"
	}
	s := "block devices:"
	for _, n := range names {
		s += " " + filepath.Base(n)
	}
	return s
}
