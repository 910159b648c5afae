package kernel

import (
	"errors"
	"fmt"
	"syscall"
)

var (
	errShortPath     = errors.New("shorter than struct iscsi_path")
	errPathFamily    = errors.New("not one IPv4 or IPv6 address family")
	errTransportName = errors.New("not a transport name")
	errNoEndpoint    = errors.New("kernel answered EP_CONNECT with no endpoint")
	errPortal        = errors.New("the kernel connects to an IP address and port only")
	errHostName      = errors.New("not a SCSI host name (hostN)")
	errAttrSize      = errors.New("longer than the page the kernel prints a sysfs attribute into")
)

// ErrFatal is wrapped by failures no retry of the login can mend: a
// missing transport, a kernel that refuses a session, a disk that does not
// appear although the login succeeded.
var ErrFatal = errors.New("fatal")

// Fatal wraps err with ErrFatal.
func Fatal(err error) error { return fmt.Errorf("%w: %w", err, ErrFatal) }

// ErrClosed is returned by a Conn after Close or after its socket failed.
var ErrClosed = errors.New("iscsi netlink connection closed")

// OpError is a request the kernel refused. Its message says which request,
// for which session and connection, the errno, and, for the failures a
// boot image commonly has, what to load.
type OpError struct {
	Op       EventType
	SID, CID int // -1 when not applicable
	Errno    syscall.Errno
}

func (e *OpError) Error() string {
	where := ""
	if e.SID >= 0 {
		where = fmt.Sprintf(" for session %d", e.SID)
		if e.CID >= 0 {
			where = fmt.Sprintf(" for connection %d:%d", e.SID, e.CID)
		}
	}
	msg := fmt.Sprintf("kernel iSCSI %s%s: %v", e.Op, where, e.Errno)
	if h := e.hint(); h != "" {
		msg += " (" + h + ")"
	}
	return msg
}

func (e *OpError) Unwrap() error { return e.Errno }

// hint names the module a boot image most likely lacks for this failure
// (LAB.md: iscsi_tcp fails CREATE_CONN with ENOMEM when crc32c is absent).
func (e *OpError) hint() string {
	switch {
	case e.Op == UeventCreateConn && e.Errno == syscall.ENOMEM:
		return "load crc32c (crc32c_generic) before the first connection: iscsi_tcp needs it"
	case e.Op == UeventCreateSession && e.Errno == syscall.EINVAL:
		// scsi_transport_iscsi answers an unknown transport handle so.
		return "is the transport's module (iscsi_tcp) loaded?"
	case e.Errno == syscall.EPERM:
		return "needs root (CAP_SYS_ADMIN)"
	}
	return ""
}

// ErrHBALogin is returned for a connection over a transport whose HBA
// logs in by itself (CAP_LOGIN_OFFLOAD): its sessions are found in sysfs,
// not made.
var ErrHBALogin = errors.New("the HBA logs in by itself (CAP_LOGIN_OFFLOAD): find its boot sessions instead")

// ErrNoHBASession is wrapped when an HBA that logs in by itself
// (CAP_LOGIN_OFFLOAD) shows no logged-in session to the boot target in
// time: its flash names another target, or its login failed.
var ErrNoHBASession = errors.New("no session of the HBA")

// errEPFailed is a kernel connect that failed without an errno (iSER's
// EP_POLL answers -1). It is a transport failure like a refused TCP
// connect, and classifies as one.
type errEPFailed struct{}

func (errEPFailed) Error() string {
	return "the kernel transport could not connect (no route or RDMA device to the portal, refused, or unreachable)"
}
func (errEPFailed) Unwrap() error { return syscall.ECONNREFUSED }

// ConnError is a connection failure the kernel reported with
// ISCSI_KEVENT_CONN_ERROR.
type ConnError struct {
	SID, CID uint32
	Code     ErrCode
}

func (e *ConnError) Error() string {
	return fmt.Sprintf("kernel reports connection %d:%d failed: %s", e.SID, e.CID, e.Code)
}

// ErrNoTransport is wrapped when the kernel's iSCSI transport cannot be
// opened: its module is not loaded, or NETLINK_ISCSI is missing.
var ErrNoTransport = errors.New("no iSCSI transport")

// noTransport marks an error as ErrNoTransport, keeping its message.
type noTransport struct{ err error }

func (e noTransport) Error() string        { return e.err.Error() }
func (e noTransport) Unwrap() error        { return e.err }
func (e noTransport) Is(target error) bool { return target == ErrNoTransport }
