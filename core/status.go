package core

import (
	"errors"
	"fmt"

	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// Login status classes (RFC 7143, Section 11.13.5).
const (
	StatusSuccess        = 0x00
	StatusRedirect       = 0x01
	StatusInitiatorError = 0x02
	StatusTargetError    = 0x03
)

var statusText = table[uint16, string]{
	{0x0000, "success"},
	{0x0101, "target moved temporarily"},
	{0x0102, "target moved permanently"},
	{0x0200, "initiator error"},
	{0x0201, "authentication failure"},
	{0x0202, "authorization failure (initiator not allowed)"},
	{0x0203, "target not found"},
	{0x0204, "target removed"},
	{0x0205, "unsupported version"},
	{0x0206, "too many connections"},
	{0x0207, "missing parameter"},
	{0x0208, "can't include in session"},
	{0x0209, "session type not supported"},
	{0x020a, "session does not exist"},
	{0x020b, "invalid request during login"},
	{0x0300, "target error"},
	{0x0301, "service unavailable"},
	{0x0302, "out of resources"},
}

// StatusText decodes a login status class and detail (RFC 7143, Section
// 11.13.5).
func StatusText(class, detail uint8) string {
	if s, ok := statusText.get(uint16(class)<<8 | uint16(detail)); ok {
		return s
	}
	switch class {
	case StatusRedirect:
		return fmt.Sprintf("redirect, unknown detail 0x%02x", detail)
	case StatusInitiatorError:
		return fmt.Sprintf("initiator error, unknown detail 0x%02x", detail)
	case StatusTargetError:
		return fmt.Sprintf("target error, unknown detail 0x%02x", detail)
	}
	return fmt.Sprintf("unknown status class 0x%02x detail 0x%02x", class, detail)
}

// LoginError is a failed login: which target, through which portal, at
// which stage, and why. Its message is one line for a serial console.
type LoginError struct {
	Target string // TargetName, or "" for a discovery session
	Portal string // host:port as dialled
	Stage  Stage  // the stage the login was in
	Class  uint8  // login status class, when the target answered with one
	Detail uint8  // login status detail
	Err    error  // the cause; wraps ErrAuth, ErrTargetNotFound, ErrRetryable or ErrProtocol where they apply
}

func (e *LoginError) Error() string {
	// The names are escaped: a caller may hand us a bad one, which the
	// login refuses, and the refusal must not print it raw.
	who := esc.String(e.Target)
	if e.Target == "" {
		who = "discovery"
	}
	if e.Class != 0 || e.Detail != 0 {
		return fmt.Sprintf("login to %s at %s failed in %s: target said %02x%02x %s",
			who, esc.String(e.Portal), e.Stage, e.Class, e.Detail, StatusText(e.Class, e.Detail))
	}
	return fmt.Sprintf("login to %s at %s failed in %s: %v", who, esc.String(e.Portal), e.Stage, e.Err)
}

func (e *LoginError) Unwrap() error { return e.Err }

// statusError turns a non-success login status into the sentinel callers
// branch on.
func statusError(class, detail uint8) error {
	s := errors.New(StatusText(class, detail))
	switch {
	case class == StatusInitiatorError && (detail == 0x01 || detail == 0x02):
		return fmt.Errorf("%w: %w", s, ErrAuth)
	case class == StatusInitiatorError && (detail == 0x03 || detail == 0x04):
		return fmt.Errorf("%w: %w", s, ErrTargetNotFound)
	case class == StatusTargetError:
		return fmt.Errorf("%w: %w", s, ErrRetryable)
	}
	return s
}

// RedirectError is a login answered with status class 0x01: the target
// is at Address now (RFC 7143, Section 11.13.5 and 13.8).
type RedirectError struct {
	Target    string
	Portal    string // where we asked
	Address   string // host:port to ask next
	TPGT      int    // -1 when the target did not give one
	Permanent bool   // 0x0102: the new address replaces the old one
}

func (e *RedirectError) Error() string {
	kind := "temporarily"
	if e.Permanent {
		kind = "permanently"
	}
	return fmt.Sprintf("login to %s at %s: target moved %s to %s", esc.String(e.Target), esc.String(e.Portal), kind,
		esc.String(e.Address))
}
