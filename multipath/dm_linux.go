package multipath

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ControlPath is the device-mapper's control node (dm-ioctl.h: DM_DIR
// "mapper", DM_CONTROL_NODE "control"); devtmpfs makes it when dm_mod
// loads, as the misc device 10:236 (MAPPER_CTRL_MINOR).
const ControlPath = "/dev/mapper/control"

const controlMinor = 236

// Control is an open device-mapper control node.
type Control struct{ f *os.File }

// OpenControl opens the control node at path, making it first (mknod
// 10:236) when the kernel has device-mapper but devtmpfs did not make it.
func OpenControl(path string) (*Control, error) {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_CLOEXEC, 0)
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat("/sys/class/misc/device-mapper"); serr != nil {
			return nil, fmt.Errorf("%s: %w", path, ErrNoDM)
		}
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := unix.Mknod(path, unix.S_IFCHR|0o600, int(unix.Mkdev(10, controlMinor))); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("make %s: %w", path, err)
		}
		f, err = os.OpenFile(path, os.O_RDWR|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("device-mapper control: %w", err)
	}
	c := &Control{f: f}
	if _, err := c.do(unix.DM_VERSION, "DM_VERSION", Header{}, nil, 0); err != nil {
		f.Close()
		return nil, err
	}
	return c, nil
}

// Close closes the control node; maps stay.
func (c *Control) Close() error { return c.f.Close() }

// do runs one ioctl with h and data, room for a reply of size bytes, and
// returns the reply buffer. A reply that did not fit is asked for again
// with twice the room, up to 1 MiB.
func (c *Control) do(req uint, op string, h Header, data []byte, size int) ([]byte, error) {
	for {
		buf, err := request(h, data, size)
		if err != nil {
			return nil, err
		}
		// The kernel reads and writes the whole buffer: its address is the
		// ioctl's argument.
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, c.f.Fd(), uintptr(req), uintptr(unsafe.Pointer(&buf[0])))
		if errno != 0 {
			return nil, &IoctlError{Op: op, Name: h.Name, Errno: errno}
		}
		var out Header
		if err := out.UnmarshalBinary(buf); err != nil {
			return nil, err
		}
		if out.Flags&FlagBufferFull == 0 || len(buf) >= 1<<20 {
			return buf, nil
		}
		size = 2 * len(buf)
	}
}

// Info is what the kernel says of one map.
type Info struct {
	Name, UUID  string
	Major       uint32
	Minor       uint32
	OpenCount   int32
	TargetCount uint32
	Suspended   bool
	Active      bool // it has a live table
}

func info(buf []byte) Info {
	var h Header
	h.UnmarshalBinary(buf)
	return Info{Name: h.Name, UUID: h.UUID, Major: unix.Major(h.Dev), Minor: unix.Minor(h.Dev),
		OpenCount: h.OpenCount, TargetCount: h.TargetCount, Suspended: h.Flags&FlagSuspend != 0,
		Active: h.Flags&FlagActivePresent != 0}
}

// Create makes an empty, suspended map named name with uuid
// (DM_DEV_CREATE).
func (c *Control) Create(name, uuid string) (Info, error) {
	if err := validName(name); err != nil {
		return Info{}, err
	}
	buf, err := c.do(unix.DM_DEV_CREATE, "DM_DEV_CREATE", Header{Name: name, UUID: uuid}, nil, 0)
	if err != nil {
		return Info{}, err
	}
	return info(buf), nil
}

// Load loads targets into the map's inactive table (DM_TABLE_LOAD).
func (c *Control) Load(name string, targets []Target) error {
	data, err := marshalTargets(targets)
	if err != nil {
		return err
	}
	_, err = c.do(unix.DM_TABLE_LOAD, "DM_TABLE_LOAD", Header{Name: name, TargetCount: uint32(len(targets))}, data, 0)
	return err
}

// Resume makes the loaded table live and lets I/O through (DM_DEV_SUSPEND
// without DM_SUSPEND_FLAG).
func (c *Control) Resume(name string) (Info, error) {
	buf, err := c.do(unix.DM_DEV_SUSPEND, "DM_DEV_SUSPEND (resume)", Header{Name: name}, nil, 0)
	if err != nil {
		return Info{}, err
	}
	return info(buf), nil
}

// Remove removes the map (DM_DEV_REMOVE).
func (c *Control) Remove(name string) error {
	_, err := c.do(unix.DM_DEV_REMOVE, "DM_DEV_REMOVE", Header{Name: name}, nil, 0)
	return err
}

// Lookup returns the map with uuid, if there is one (DM_DEV_STATUS by
// uuid).
func (c *Control) Lookup(uuid string) (Info, bool, error) {
	buf, err := c.do(unix.DM_DEV_STATUS, "DM_DEV_STATUS", Header{UUID: uuid}, nil, 0)
	if errors.Is(err, unix.ENXIO) {
		return Info{}, false, nil
	}
	if err != nil {
		return Info{}, false, err
	}
	return info(buf), true, nil
}

// Status returns the live table's targets with their status lines
// (DM_TABLE_STATUS), or with their table lines when table is set.
func (c *Control) Status(name string, table bool) ([]TargetSpec, error) {
	h := Header{Name: name}
	if table {
		h.Flags = FlagStatusTable
	}
	buf, err := c.do(unix.DM_TABLE_STATUS, "DM_TABLE_STATUS", h, nil, 16<<10)
	if err != nil {
		return nil, err
	}
	var out Header
	out.UnmarshalBinary(buf)
	if out.DataStart < HeaderLen || int(out.DataStart) > len(buf) || int(out.DataSize) > len(buf) || out.DataSize < out.DataStart {
		return nil, fmt.Errorf("DM_TABLE_STATUS %s: data at %d..%d of %d: %w", name, out.DataStart, out.DataSize, len(buf), errShort)
	}
	return parseTargets(buf[out.DataStart:out.DataSize], out.TargetCount)
}

// Message sends msg to the map's target at sector (DM_TARGET_MSG).
func (c *Control) Message(name string, sector uint64, msg string) error {
	_, err := c.do(unix.DM_TARGET_MSG, "DM_TARGET_MSG", Header{Name: name}, messageData(sector, msg), 0)
	return err
}
