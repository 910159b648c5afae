// Package iscsierr holds the exit codes of open-iscsi's include/iscsi_err.h
// and the mapping from this project's errors to them, so scripts that test
// iscsistart's status keep working. It never prints.
package iscsierr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/iscsiboot/iscsiboot/core"
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

// Error carries an exit code chosen where the failure is understood best.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code int, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// Code returns the exit code for err: an explicit *Error's code, else the
// open-iscsi code for what the error wraps.
func Code(err error) int {
	var e *Error
	var ne net.Error
	switch {
	case err == nil:
		return Success
	case errors.As(err, &e):
		return e.Code
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
