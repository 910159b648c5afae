package core

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// MaxNameLen is the longest iSCSI name, in bytes of UTF-8 (RFC 7143,
// Section 4.2.7.1).
const MaxNameLen = 223

// CheckName checks an iSCSI name (initiator or target) that came from
// another machine (a target's reply, a firmware table, a DHCP option)
// before it is used or printed: at most 223 bytes; only the characters
// RFC 3722's stringprep profile lets through (ASCII letters and digits,
// '-', '.', ':', and non-ASCII letters, digits and marks; upper case is
// taken, since the profile folds it); and one of the three forms of RFC
// 7143, Section 4.2.7.2: "iqn." yyyy-mm "." naming-authority, "eui." and 16
// hex digits, or "naa." and 16 or 32 hex digits. The error names the
// value, escaped, and what is wrong with it.
func CheckName(s string) error {
	if s == "" {
		return fmt.Errorf("empty iSCSI name: %w", ErrBadName)
	}
	if len(s) > MaxNameLen {
		return fmt.Errorf("iSCSI name %s: %d bytes, at most %d: %w", esc.Clip(s, 64), len(s), MaxNameLen, ErrBadName)
	}
	for i, r := range s {
		if !nameRune(r) || r == utf8.RuneError {
			return fmt.Errorf("iSCSI name %s: character %+q at byte %d not allowed (RFC 3722): %w", esc.String(s), r, i, ErrBadName)
		}
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "iqn."):
		// iqn.yyyy-mm.reversed-domain[:anything]
		d := lower[4:]
		if len(d) < 8 || !digits(d[0:4]) || d[4] != '-' || !digits(d[5:7]) || d[5:7] < "01" || d[5:7] > "12" || d[7] != '.' || len(d) == 8 {
			return fmt.Errorf("iSCSI name %s: want iqn.yyyy-mm.naming-authority: %w", esc.String(s), ErrBadName)
		}
	case strings.HasPrefix(lower, "eui."):
		if h := lower[4:]; len(h) != 16 || !hexDigits(h) {
			return fmt.Errorf("iSCSI name %s: want eui. and 16 hex digits: %w", esc.String(s), ErrBadName)
		}
	case strings.HasPrefix(lower, "naa."):
		if h := lower[4:]; (len(h) != 16 && len(h) != 32) || !hexDigits(h) {
			return fmt.Errorf("iSCSI name %s: want naa. and 16 or 32 hex digits: %w", esc.String(s), ErrBadName)
		}
	default:
		return fmt.Errorf("iSCSI name %s: not an iqn., eui. or naa. name: %w", esc.String(s), ErrBadName)
	}
	return nil
}

// nameRune tells whether r may stand in an iSCSI name (RFC 3722, Section
// 6: of ASCII only letters, digits, '-', '.' and ':').
func nameRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.', r == ':':
		return true
	case r < utf8.RuneSelf:
		return false
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

func digits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func hexDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdef") == ""
}

// checkWireName is the least an iSCSI name must be to go into a login
// request as one key's value: at most 223 bytes of printable UTF-8 with no
// space. The user's own names (flags, command line) are held to this, not
// to CheckName, since open-iscsi sends whatever it is given and targets
// configured with a loose name must keep working.
func checkWireName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("empty iSCSI name: %w", ErrBadName)
	case len(s) > MaxNameLen:
		return fmt.Errorf("iSCSI name %s: %d bytes, at most %d: %w", esc.Clip(s, 64), len(s), MaxNameLen, ErrBadName)
	case !esc.Printable(s) || strings.ContainsAny(s, " "):
		return fmt.Errorf("iSCSI name %s: a space, control character or invalid UTF-8 in it: %w", esc.String(s), ErrBadName)
	}
	return nil
}
