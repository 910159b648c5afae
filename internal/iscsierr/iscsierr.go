// Package iscsierr holds the exit codes of open-iscsi's include/iscsi_err.h
// and the one mapping (Code) from this project's errors to them, so scripts
// that test iscsistart's status keep working. It never prints.
package iscsierr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/core/kernel"
	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/plan"
)

// Exit codes, with open-iscsi's meaning (include/iscsi_err.h).
const (
	Success             = 0  // ISCSI_SUCCESS
	Generic             = 1  // ISCSI_ERR
	SessNotFound        = 2  // ISCSI_ERR_SESS_NOT_FOUND
	NoMem               = 3  // ISCSI_ERR_NOMEM
	Trans               = 4  // ISCSI_ERR_TRANS: could not connect or the connection failed
	Login               = 5  // ISCSI_ERR_LOGIN: login failed, may succeed later
	Invalid             = 7  // ISCSI_ERR_INVAL: bad flags or values
	TransTimeout        = 8  // ISCSI_ERR_TRANS_TIMEOUT
	Internal            = 9  // ISCSI_ERR_INTERNAL
	Logout              = 10 // ISCSI_ERR_LOGOUT
	PDUTimeout          = 11 // ISCSI_ERR_PDU_TIMEOUT
	TransNotFound       = 12 // ISCSI_ERR_TRANS_NOT_FOUND: iscsi_tcp (or another transport) not loaded
	Access              = 13 // ISCSI_ERR_ACCESS: not root
	SessExists          = 15 // ISCSI_ERR_SESS_EXISTS
	FatalLogin          = 19 // ISCSI_ERR_FATAL_LOGIN: the target refused for good
	NoObjsFound         = 21 // ISCSI_ERR_NO_OBJS_FOUND: no firmware table, no target
	SysfsLookup         = 22 // ISCSI_ERR_SYSFS_LOOKUP
	HostNotFound        = 23 // ISCSI_ERR_HOST_NOT_FOUND
	LoginAuthFailed     = 24 // ISCSI_ERR_LOGIN_AUTH_FAILED
	OpNotSupp           = 27 // ISCSI_ERR_OP_NOT_SUPP
	SessionNotConnected = 32 // ISCSI_ERR_SESSION_NOT_CONNECTED
)

// Kinds of failure that only the command knows of. The command marks an
// error with its kind (Mark) where it meets it; Code, the one place errors
// become exit codes, maps the kinds and every sentinel and type of the
// packages below to open-iscsi's codes.
var (
	ErrUsage       = errors.New("invalid arguments")                   // Invalid
	ErrNotFound    = errors.New("no firmware table or no target")      // NoObjsFound
	ErrNetwork     = errors.New("network configuration failed")        // Trans
	ErrLogout      = errors.New("logout failed")                       // Logout
	ErrUnsupported = errors.New("not supported on this system")        // OpNotSupp
	ErrSystem      = errors.New("a file of the system cannot be read") // Generic
)

// kindError is an error marked with its kind; its message is the error's.
type kindError struct{ kind, err error }

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.err, e.kind} }

// Mark marks err with kind, keeping its message.
func Mark(kind, err error) error { return &kindError{kind: kind, err: err} }

// Markf is Mark of a formatted error.
func Markf(kind error, format string, args ...any) error {
	return Mark(kind, fmt.Errorf(format, args...))
}

// Marked reports whether err already carries a kind.
func Marked(err error) bool {
	var k *kindError
	return errors.As(err, &k)
}

// Code returns the exit code for err: its kind's, else the open-iscsi code
// for what it wraps. A run of logins that failed (boot.PathError, joined
// when several did) exits with the code of the first path's failure.
func Code(err error) int {
	var ne net.Error
	var pe *boot.PathError
	switch {
	case err == nil:
		return Success
	case errors.As(err, &pe):
		return Code(pe.Err)
	case errors.Is(err, ErrUsage), errors.As(err, new(*ibft.FormatError)), errors.As(err, new(*plan.CmdlineError)),
		errors.As(err, new(*plan.ConfigError)), errors.As(err, new(*plan.ParamError)):
		return Invalid
	case errors.Is(err, ErrNotFound):
		return NoObjsFound
	case errors.Is(err, ErrNetwork), errors.As(err, new(*boot.NetworkError)), errors.As(err, new(*boot.MissingLinkError)):
		return Trans
	case errors.Is(err, ErrLogout):
		return Logout
	case errors.Is(err, ErrUnsupported):
		return OpNotSupp
	case errors.Is(err, ErrSystem):
		return Generic
	case errors.Is(err, kernel.ErrNoTransport):
		return TransNotFound
	case errors.Is(err, kernel.ErrNoHBASession):
		// An HBA that logs in by itself shows no session to the target.
		return SessNotFound
	case errors.Is(err, core.ErrAuth):
		return LoginAuthFailed
	case errors.Is(err, core.ErrTargetNotFound):
		return FatalLogin
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return TransTimeout
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return Trans
	case errors.Is(err, core.ErrRetryable), errors.Is(err, core.ErrProtocol):
		return Login
	case errors.Is(err, core.ErrBadName), errors.Is(err, core.ErrBadValue):
		// A name or value of ours the login refused to send; a target's
		// bad name wraps ErrProtocol too and is caught above.
		return Invalid
	}
	var le *core.LoginError
	if errors.As(err, &le) {
		if le.Class == core.StatusInitiatorError {
			return FatalLogin
		}
		return Login
	}
	return Generic
}
