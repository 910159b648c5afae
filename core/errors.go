package core

import "errors"

// Sentinels callers branch on.
var (
	// ErrAuth is wrapped by every authentication failure, ours or the
	// target's (login status 0x0201, 0x0202, a CHAP check that failed).
	ErrAuth = errors.New("authentication failed")
	// ErrTargetNotFound is wrapped when the target says the name is unknown
	// or removed (login status 0x0203, 0x0204).
	ErrTargetNotFound = errors.New("target not found")
	// ErrRetryable is wrapped by failures that may succeed later: target
	// errors of class 0x03 and a redirect loop cut by the hop limit.
	ErrRetryable = errors.New("try again later")
	// ErrProtocol is wrapped when the target breaks RFC 7143.
	ErrProtocol = errors.New("protocol violation")
	// ErrBadName is wrapped when an iSCSI name breaks RFC 3722 or RFC
	// 7143, Section 4.2.7.
	ErrBadName = errors.New("invalid iSCSI name")
	// ErrBadValue is wrapped when a key or value we were asked to send
	// would break the text format of RFC 7143, Section 6.1 (a NUL, a
	// control character, invalid UTF-8): the fault is in what we were
	// given, not in the target.
	ErrBadValue = errors.New("invalid iSCSI text value")
)

var (
	errShort             = errors.New("short PDU")
	errBadAHS            = errors.New("AHS length not a multiple of 4 or over 1020 bytes")
	errTooLong           = errors.New("data segment too long")
	errUnsupportedOpcode = errors.New("unsupported opcode")
	errUnexpectedOpcode  = errors.New("unexpected opcode")
	errHeaderDigest      = errors.New("header digest mismatch")
	errDataDigest        = errors.New("data digest mismatch")
	errNoEquals          = errors.New("no '=' in key=value")
	errKeyTooLong        = errors.New("key longer than 63 bytes")
	errValueTooLong      = errors.New("value too long")
	errBadKeyName        = errors.New("key name has a character outside a-z A-Z 0-9 . - + @ _")
	errUnterminated      = errors.New("last key=value not NUL-terminated")
	errTextTooLong       = errors.New("text exchange over 64 KiB")
)
