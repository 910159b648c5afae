package initramfs

import (
	"errors"
	"fmt"
)

var (
	// ErrModuleNotFound is returned by AddModules when a module name resolves
	// to nothing in modules.dep, modules.alias or modules.builtin.
	ErrModuleNotFound = errors.New("module not found")

	// ErrUnreadableSegment is returned by Append when the existing image holds
	// a segment compressed in a format this package cannot decode.
	ErrUnreadableSegment = errors.New("cannot decode initramfs segment")

	errClosed       = errors.New("builder already closed")
	errConflict     = errors.New("path already added with different content")
	errBadPath      = errors.New("path must name a file below /")
	errNotRegular   = errors.New("not a regular file, directory or symlink")
	errDepCycle     = errors.New("dependency cycle")
	errBadDepLine   = errors.New("malformed modules.dep line")
	errNoDecompress = errors.New("kernel cannot decompress this module")
	errBadCpio      = errors.New("malformed cpio archive")
	errNotInitramfs = errors.New("not an initramfs")
)

// ModuleError says which module could not be added and why.
type ModuleError struct {
	Name   string // the name as asked for, or the dependency being resolved
	Needed string // the module that needs Name, empty when asked for directly
	Err    error
}

func (e *ModuleError) Error() string {
	if e.Needed != "" {
		return fmt.Sprintf("module %s (needed by %s): %v", e.Name, e.Needed, e.Err)
	}
	return fmt.Sprintf("module %s: %v", e.Name, e.Err)
}

func (e *ModuleError) Unwrap() error { return e.Err }

// SegmentError says where in an existing image reading stopped and why.
type SegmentError struct {
	Offset int64  // byte offset of the segment in the image
	Format string // "cpio", "gzip", "xz", "zstd", ...
	Err    error
}

func (e *SegmentError) Error() string {
	return fmt.Sprintf("initramfs segment at offset %d (%s): %v", e.Offset, e.Format, e.Err)
}

func (e *SegmentError) Unwrap() error { return e.Err }
