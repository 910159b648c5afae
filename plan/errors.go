package plan

import (
	"errors"
	"fmt"
	"strconv"
)

// Why a value was refused. The message is the end of an operator's one-line
// error, after the key and the offending part.
var (
	errSyntax          = errors.New("malformed")
	errEmpty           = errors.New("empty")
	errNumber          = errors.New("not a number in range")
	errBool            = errors.New("not a boolean (1/0, yes/no, on/off, true/false)")
	errAddress         = errors.New("not an IP address or host name")
	errUnbracketedIPv6 = errors.New("IPv6 address must be in brackets, e.g. [2001:db8::1]")
	errMAC             = errors.New("not a MAC address")
	errPort            = errors.New("not a port number 1-65535")
	errNetmask         = errors.New("not a netmask or prefix length")
	errMethod          = errors.New("unknown method")
	errIfname          = errors.New("not an interface name")
	errFields          = errors.New("wrong number of fields")
	errTooMany         = errors.New("too many")
	errAuth            = errors.New("CHAP needs user:password or user:password:reverse_user:reverse_password")
	errTargetName      = errors.New("not an iSCSI name")
	errAmbiguousName   = errors.New("ambiguous target name: two iqn./eui./naa. names")
	errMissing         = errors.New("required value missing")
	errFamily          = errors.New("address family does not match")
	errTransport       = errors.New("unknown transport")
	errNoMachineID     = errors.New("no identity to derive an initiator name from")
	errNone            = errors.New("none")
	errBadUUID         = errors.New("not a UUID")
	errPlaceholderUUID = errors.New("a placeholder, not an identity")
	errBadMachineID    = errors.New("not 32 lower-case hex digits")
	errShellExpansion  = errors.New("shell expansion is not supported (the file is read, never run)")
	errQuote           = errors.New("unterminated quote")
	errParamValue      = errors.New("invalid session parameter")
)

// CmdlineError is a refused kernel command-line word. Value is the value as
// given, with secrets replaced by "<redacted>"; Part is the piece of it that
// is wrong, when narrower than the value.
type CmdlineError struct {
	Source string // "cmdline" when empty; "config" for ISCSI_* variables, "dhcp" for a root-path
	Key    string
	Value  string
	Part   string
	Reason string // detail, such as the range expected
	Err    error  // one of the sentinels above
}

func (e *CmdlineError) Error() string {
	src := e.Source
	if src == "" {
		src = SourceCmdline
	}
	s := src + ": " + e.Key
	if e.Value != "" {
		s += "=" + strconv.Quote(e.Value)
	}
	if e.Part != "" && e.Part != e.Value {
		s += ": " + strconv.Quote(e.Part)
	}
	s += ": " + e.Err.Error()
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	return s
}

func (e *CmdlineError) Unwrap() error { return e.Err }

// ConfigError is a refused line of an initramfs-tools configuration
// (/etc/iscsi.initramfs). It never holds the value, which may be a password:
// a syntax error is told by line and variable name. A well-formed value that
// is wrong (a bad port) is a *CmdlineError with Source "config".
type ConfigError struct {
	Line int // 1-based
	Key  string
	Err  error
}

func (e *ConfigError) Error() string {
	s := "iscsi.initramfs: "
	s += fmt.Sprintf("line %d: ", e.Line)
	if e.Key != "" {
		s += e.Key + ": "
	}
	return s + e.Err.Error()
}

func (e *ConfigError) Unwrap() error { return e.Err }
