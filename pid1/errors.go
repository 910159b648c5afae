package pid1

import (
	"errors"
	"fmt"
)

var (
	errBadValue       = errors.New("invalid value")
	errUnsupported    = errors.New("unsupported root= form")
	errNoRoot         = errors.New("no root= on the command line and the boot step found no root device")
	errRootTimeout    = errors.New("root device did not appear")
	errNoInit         = errors.New("no init found in the root file system")
	errNotSupported   = errors.New("not supported on this operating system")
	errCmdlineTooLong = errors.New("longer than 64 KiB")
)

// ParamError names a kernel command line parameter with a bad value.
type ParamError struct {
	Param string
	Value string
	Err   error
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("kernel command line: %s=%q: %v", e.Param, e.Value, e.Err)
}

func (e *ParamError) Unwrap() error { return e.Err }
