package multipath

import (
	"errors"
	"fmt"
	"syscall"
)

var (
	errShort        = errors.New("too short")
	errDesignator   = errors.New("designator runs past the page")
	errNoDesignator = errors.New("no logical unit designator multipath can use")
	errPageCode     = errors.New("not VPD page 0x83")
	errStatus       = errors.New("malformed multipath status")
	errTable        = errors.New("invalid multipath table")
	errName         = errors.New("invalid map name")
	errBindings     = errors.New("malformed bindings line")
	errOneDisk      = errors.New("paths of one WWID differ")
)

// ErrNoDM is returned when the kernel has no device-mapper or no
// multipath target: the image lacks dm_mod or dm_multipath.
var ErrNoDM = errors.New("no device-mapper multipath in the kernel (load dm_mod and dm_multipath)")

// IoctlError is a device-mapper request the kernel refused: which
// request, for which map, the errno.
type IoctlError struct {
	Op    string // "DM_DEV_CREATE", ...
	Name  string // the map, "" for none
	Errno syscall.Errno
}

func (e *IoctlError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("device-mapper %s: %v", e.Op, e.Errno)
	}
	return fmt.Sprintf("device-mapper %s %s: %v", e.Op, e.Name, e.Errno)
}

func (e *IoctlError) Unwrap() error { return e.Errno }
