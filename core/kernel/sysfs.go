package kernel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/iscsiboot/iscsiboot/internal/trace"
	"github.com/iscsiboot/iscsiboot/internal/wait"
)

// Sysfs reads and writes the iSCSI and SCSI classes under Root ("/" on a
// real system, a directory tree in tests).
type Sysfs struct{ Root string }

func (s Sysfs) path(p ...string) string {
	return filepath.Join(append([]string{s.Root, "sys"}, p...)...)
}

// maxAttrLen bounds one attribute read: the kernel prints each sysfs
// attribute into one page (4 KiB); a longer file is no attribute of its.
const maxAttrLen = 4 << 10

func (s Sysfs) read(p ...string) (string, error) {
	f, err := os.Open(s.path(p...))
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxAttrLen+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxAttrLen {
		return "", fmt.Errorf("%s: %w", filepath.Join(p...), errAttrSize)
	}
	return strings.TrimSpace(string(b)), nil
}

// TransportHandle returns the handle of the transport name ("tcp") from
// /sys/class/iscsi_transport/<name>/handle.
func (s Sysfs) TransportHandle(name string) (uint64, error) {
	v, err := s.read("class", "iscsi_transport", name, "handle")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			mod := "iscsi_" + name
			return 0, fmt.Errorf("iSCSI transport %q not registered (load %s): %w", name, mod, err)
		}
		return 0, fmt.Errorf("iSCSI transport %q: %w", name, err)
	}
	h, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("iSCSI transport %q: handle %q: %w", name, v, err)
	}
	return h, nil
}

// SessionInfo is what sysfs shows of a kernel session: the values
// iscsid's session sync reads back to adopt it.
type SessionInfo struct {
	SID        int
	Host       int
	TargetName string
	TPGT       int
	Address    string // persistent_address of connection 0
	Port       int    // persistent_port
	State      string // "LOGGED_IN", "FAILED", ...
}

// Sessions lists the iSCSI sessions the kernel has.
func (s Sysfs) Sessions() ([]SessionInfo, error) {
	ents, err := os.ReadDir(s.path("class", "iscsi_session"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []SessionInfo
	for _, e := range ents {
		n, ok := strings.CutPrefix(e.Name(), "session")
		sid, err := strconv.Atoi(n)
		if !ok || err != nil {
			continue
		}
		si := SessionInfo{SID: sid, Host: -1, TPGT: -1}
		si.TargetName, _ = s.read("class", "iscsi_session", e.Name(), "targetname")
		si.State, _ = s.read("class", "iscsi_session", e.Name(), "state")
		if v, err := s.read("class", "iscsi_session", e.Name(), "tpgt"); err == nil {
			si.TPGT, _ = strconv.Atoi(v)
		}
		conn := fmt.Sprintf("connection%d:0", sid)
		si.Address, _ = s.read("class", "iscsi_connection", conn, "persistent_address")
		if v, err := s.read("class", "iscsi_connection", conn, "persistent_port"); err == nil {
			si.Port, _ = strconv.Atoi(v)
		}
		si.Host, _ = s.HostOf(sid)
		out = append(out, si)
	}
	return out, nil
}

// HostOf returns the SCSI host number of session sid: its sysfs device
// sits under hostN (/sys/class/iscsi_session/sessionS/device ->
// .../hostN/sessionS).
func (s Sysfs) HostOf(sid int) (int, error) {
	dev, err := filepath.EvalSymlinks(s.path("class", "iscsi_session", fmt.Sprintf("session%d", sid), "device"))
	if err != nil {
		return -1, fmt.Errorf("session %d: %w", sid, err)
	}
	for d := filepath.Dir(dev); d != "/" && d != "."; d = filepath.Dir(d) {
		if n, ok := strings.CutPrefix(filepath.Base(d), "host"); ok {
			if h, err := strconv.Atoi(n); err == nil {
				return h, nil
			}
		}
	}
	return -1, fmt.Errorf("session %d: no SCSI host above %s", sid, dev)
}

// ScanLUN asks the SCSI midlayer to probe one LUN of host: channel 0 and
// target id 0, which is where iscsi_tcp puts a session's target, so only
// the boot LUN is probed rather than every LUN the target exports.
func (s Sysfs) ScanLUN(host int, lun uint64) error {
	p := s.path("class", "scsi_host", fmt.Sprintf("host%d", host), "scan")
	if err := os.WriteFile(p, []byte(fmt.Sprintf("0 0 %d", lun)), 0o200); err != nil {
		return fmt.Errorf("scan LUN %d of host%d: %w", lun, host, err)
	}
	return nil
}

// ScanAll asks the SCSI midlayer to probe every LUN of host's target (a
// REPORT LUNS scan), for logins that do not name their boot LUN.
func (s Sysfs) ScanAll(host int) error {
	p := s.path("class", "scsi_host", fmt.Sprintf("host%d", host), "scan")
	if err := os.WriteFile(p, []byte("0 0 -"), 0o200); err != nil {
		return fmt.Errorf("scan host%d: %w", host, err)
	}
	return nil
}

// ScanBoot scans host for the boot disk and waits, bounded by ctx, until
// its device node opens; then it scans every other LUN the target reports
// (REPORT LUNS), as open-iscsi does, so a second LUN (swap, /home) appears
// too without the root disk waiting for it. A named LUN is probed alone
// first: the midlayer's whole-target scan probes LUN 0 and reads REPORT
// LUNS before the root's LUN, and holds the host's scan lock meanwhile.
// With any, no LUN is named: the whole target is scanned and its first
// disk taken. A failed scan of the other LUNs costs the root nothing and
// is not an error: those LUNs stay for a later rescan.
func (s Sysfs) ScanBoot(ctx context.Context, host int, lun uint64, any bool) (string, error) {
	scan := func() error { return s.ScanLUN(host, lun) }
	if any {
		scan = func() error { return s.ScanAll(host) }
	}
	trace.Mark("scan request")
	if err := scan(); err != nil {
		return "", err
	}
	dev, err := s.WaitBlockDevice(ctx, host, lun, any)
	if err == nil {
		err = s.waitOpenable(ctx, dev)
	}
	if err != nil {
		return dev, err
	}
	trace.Mark("disk node present")
	if !any {
		s.ScanAll(host) // see above: not the root's concern
		trace.Mark("other LUNs scanned")
	}
	return dev, nil
}

// waitOpenable waits, bounded by ctx, until the disk's device node opens:
// its sysfs entry shows up while the kernel is still adding the disk,
// and a mount at that moment fails with ENXIO (seen in QEMU).
func (s Sysfs) waitOpenable(ctx context.Context, dev string) error {
	path := filepath.Join(s.Root, "dev", dev)
	var err error
	if perr := wait.Until(ctx, diskPoll, func() bool {
		var f *os.File
		if f, err = os.Open(path); err == nil {
			f.Close()
			return true
		}
		return !errors.Is(err, syscall.ENXIO) && !errors.Is(err, os.ErrNotExist)
	}); perr != nil {
		return fmt.Errorf("%s does not open: %w (%w)", path, err, perr)
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	return nil
}

// diskPoll is how often the waits for a disk look at sysfs and /dev again.
const diskPoll = 10 * time.Millisecond

// AnyBlockDevice returns the block device of the lowest LUN of host that
// has one, or "".
func (s Sysfs) AnyBlockDevice(host int) (uint64, string) {
	ents, err := os.ReadDir(s.path("class", "scsi_device"))
	if err != nil {
		return 0, ""
	}
	best, dev := uint64(0), ""
	for _, e := range ents {
		var h, c, t int
		var l uint64
		if n, _ := fmt.Sscanf(e.Name(), "%d:%d:%d:%d", &h, &c, &t, &l); n != 4 || h != host {
			continue
		}
		if d := s.BlockDevice(host, l); d != "" && (dev == "" || l < best) {
			best, dev = l, d
		}
	}
	return best, dev
}

// BlockDevice returns the block device ("sda") of host:0:0:lun, or "" if
// it has none yet.
func (s Sysfs) BlockDevice(host int, lun uint64) string {
	ents, err := os.ReadDir(s.path("class", "scsi_device", fmt.Sprintf("%d:0:0:%d", host, lun), "device", "block"))
	if err != nil || len(ents) == 0 {
		return ""
	}
	return ents[0].Name()
}

// DiskReady reports whether block device dev has its capacity read (a
// non-zero /sys/class/block/<dev>/size): the sysfs directory appears while
// sd is still probing, and opening or mounting the disk then fails with
// ENXIO.
func (s Sysfs) DiskReady(dev string) bool {
	v, err := s.read("class", "block", dev, "size")
	return err == nil && v != "" && v != "0"
}

// WaitBlockDevice polls, bounded by ctx, until the LUN's block device
// exists, and returns its name. With any, the first disk of any LUN of
// the host will do.
func (s Sysfs) WaitBlockDevice(ctx context.Context, host int, lun uint64, any bool) (string, error) {
	d := ""
	err := wait.Until(ctx, diskPoll, func() bool {
		if any {
			_, d = s.AnyBlockDevice(host)
		} else {
			d = s.BlockDevice(host, lun)
		}
		return d != "" && s.DiskReady(d)
	})
	switch {
	case err == nil:
		return d, nil
	case any:
		return "", fmt.Errorf("no disk on any LUN of host%d: %w", host, err)
	}
	return "", fmt.Errorf("no block device for LUN %d on host%d (%d:0:0:%d): %w", lun, host, host, lun, err)
}
