package pid1

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/iscsiboot/iscsiboot/plan"
)

// DefaultRootWait bounds the wait for the root device when the command line
// sets none. The kernel's bare rootwait waits forever; an init must not.
const DefaultRootWait = 30 * time.Second

// Config is what the kernel command line tells init.
type Config struct {
	Root     Source        // root=
	FSType   string        // rootfstype=; empty: detect from the superblock
	Flags    string        // rootflags=, file-system-specific mount options
	ReadOnly bool          // ro (the kernel's default) or rw
	Init     string        // init=; empty: /sbin/init, /etc/init, /bin/init, /bin/sh
	RootWait time.Duration // rd.retry=, rootwait= or rootdelay=, in seconds
	Break    string        // rd.break[=pre-mount|pre-pivot]: shell before that step
	Shell    bool          // rd.shell: shell on failure before rebooting
	// Panic is the panic= value in seconds: above 0, reboot after that long;
	// below 0, reboot at once; 0 (or unset), power off, because a console
	// with the error on it is worth more than a loop of failing boots.
	Panic int
}

// Break points.
const (
	BreakPreMount = "pre-mount" // after the root device appears, before mounting it
	BreakPrePivot = "pre-pivot" // after mounting it, before switch_root
)

// Source is the root device as root= names it. At most one field is set.
type Source struct {
	Path  string // /dev/sda1
	UUID  string // UUID=, lower case
	Label string // LABEL=
}

// IsZero reports whether no root= was given.
func (s Source) IsZero() bool { return s == Source{} }

func (s Source) String() string {
	switch {
	case s.UUID != "":
		return "UUID=" + s.UUID
	case s.Label != "":
		return "LABEL=" + s.Label
	}
	return s.Path
}

// MaxCmdline bounds the kernel command line ReadCmdline takes. The kernel's
// own limit (COMMAND_LINE_SIZE) is 2 to 4 KiB on most architectures; with
// bootconfig's additions the line stays far below 64 KiB.
const MaxCmdline = 64 << 10

// ReadCmdline reads the kernel command line from path (/proc/cmdline),
// without the newline around it. A file longer than MaxCmdline is an error,
// not read to its end.
func ReadCmdline(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read kernel command line: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxCmdline+1))
	if err != nil {
		return "", fmt.Errorf("read kernel command line: %w", err)
	}
	if len(b) > MaxCmdline {
		return "", fmt.Errorf("read kernel command line: %s: %w", path, errCmdlineTooLong)
	}
	return strings.TrimSpace(string(b)), nil
}

// ParseCmdline reads the parameters init acts on from a kernel command line.
// Later parameters override earlier ones, as with the kernel. A parameter with
// a bad value keeps its default and adds a *ParamError to the returned error,
// so that a typo costs a warning, not the boot.
func ParseCmdline(cmdline string) (Config, error) {
	c := Config{ReadOnly: true, RootWait: DefaultRootWait}
	var errs []error
	bad := func(k, v string, err error) { errs = append(errs, &ParamError{Param: k, Value: v, Err: err}) }
	seconds := func(k, v string) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 24*3600 {
			bad(k, v, errBadValue)
			return
		}
		c.RootWait = time.Duration(n) * time.Second
	}
	for _, arg := range plan.SplitCmdline(cmdline) {
		k, v, hasValue := strings.Cut(arg, "=")
		switch k {
		case "root":
			if strings.HasPrefix(v, "iscsi:") {
				// dracut's root=iscsi:...: the boot step logs in and
				// reports the disk.
				c.Root = Source{}
				continue
			}
			src, err := ParseSource(v)
			if err != nil {
				bad(k, v, err)
				continue
			}
			c.Root = src
		case "rootfstype":
			c.FSType = v
		case "rootflags":
			c.Flags = v
		case "ro":
			c.ReadOnly = true
		case "rw":
			c.ReadOnly = false
		case "init":
			if !strings.HasPrefix(v, "/") {
				bad(k, v, errBadValue)
				continue
			}
			c.Init = v
		case "rd.retry", "rootdelay":
			seconds(k, v)
		case "rootwait":
			// Bare rootwait means "forever" to the kernel; here it keeps
			// the bounded default.
			if hasValue {
				seconds(k, v)
			}
		case "rd.break":
			switch v {
			case "", BreakPrePivot, "cleanup":
				c.Break = BreakPrePivot
			case BreakPreMount, "mount":
				c.Break = BreakPreMount
			default:
				bad(k, v, errBadValue)
			}
		case "rd.shell":
			c.Shell = v == "" || v == "1"
		case "panic":
			n, err := strconv.Atoi(v)
			if err != nil {
				bad(k, v, errBadValue)
				continue
			}
			c.Panic = n
		}
	}
	return c, errors.Join(errs...)
}

// ParseSource parses the value of root=. PARTUUID= and PARTLABEL= need the
// partition table, which the kernel resolves only for itself; they are
// refused with an error rather than waited for in vain.
func ParseSource(v string) (Source, error) {
	switch {
	case strings.HasPrefix(v, "UUID="):
		u := strings.ToLower(strings.TrimPrefix(v, "UUID="))
		if u == "" {
			return Source{}, errBadValue
		}
		return Source{UUID: u}, nil
	case strings.HasPrefix(v, "LABEL="):
		l := strings.TrimPrefix(v, "LABEL=")
		if l == "" {
			return Source{}, errBadValue
		}
		return Source{Label: l}, nil
	case strings.HasPrefix(v, "/dev/") && len(v) > len("/dev/") && !strings.Contains(v, ".."):
		return Source{Path: v}, nil
	}
	return Source{}, errUnsupported
}
