package netcfg

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// The strings of a DHCP reply come from any machine on the segment. Each one netcfg keeps is checked against
// the syntax of its option where the lease is read, and a value that fails is dropped, never repaired: a host
// name with a newline would reach /run/net-DEV.conf and resolv.conf as two lines, an initiator name with a NUL
// our login request as a second key.

// maxHostName is the longest host or domain name in text form, without a trailing dot (RFC 1035,
// Section 2.3.4: 255 octets on the wire).
const maxHostName = 253

// optionStrings checks the string options of one reply and collects one line per value it dropped.
type optionStrings struct {
	proto   string   // "DHCPv4" or "DHCPv6", for the lines
	dropped []string // "DHCPv4 option 12 (host name) dropped: ..."
}

// keep returns v when check accepts it, else "" and a line that names the option (what: "option 12 (host
// name)") and the escaped value.
// NUL bytes at the end are removed first: RFC 2132, Section 2 says servers should not send them, and some
// do; a NUL anywhere else stays and fails the check.
func (o *optionStrings) keep(what, v string, check func(string) error) string {
	v = strings.TrimRight(v, "\x00")
	if v == "" {
		return ""
	}
	if err := check(v); err != nil {
		o.dropped = append(o.dropped, fmt.Sprintf("%s %s dropped: %v", o.proto, what, err))
		return ""
	}
	return v
}

// keepAll is keep for each value of a list option, dropping the bad ones alone.
func (o *optionStrings) keepAll(what string, vs []string, check func(string) error) []string {
	var out []string
	for _, v := range vs {
		if v = o.keep(what, v, check); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// checkHostName checks the syntax of a host or domain name (RFC 1123, Section 2.1, over RFC 952): labels
// of ASCII letters, digits and '-', 1 to 63 bytes each, neither beginning nor ending with '-', joined by
// dots, at most 253 bytes in all; one trailing dot (a fully qualified name) is allowed.
func checkHostName(s string) error {
	bad := func(why string, args ...any) error {
		return fmt.Errorf("%s: %w: %s", esc.Clip(s, 80), errBadHostName, fmt.Sprintf(why, args...))
	}
	name := strings.TrimSuffix(s, ".")
	if len(name) > maxHostName {
		return bad("%d bytes, at most %d", len(name), maxHostName)
	}
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			c := name[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return bad("character %s at byte %d", strconv.Quote(name[i:i+1]), i)
			}
			continue
		}
		label := name[start:i]
		switch {
		case label == "":
			return bad("empty label at byte %d", start)
		case len(label) > 63:
			return bad("label at byte %d is %d bytes, at most 63", start, len(label))
		case label[0] == '-' || label[len(label)-1] == '-':
			return bad("label %s begins or ends with '-'", label)
		}
		start = i + 1
	}
	return nil
}

// checkPrintable accepts a free-form string (root path, boot file name) that holds no control byte and is
// valid UTF-8; its own parser checks the rest.
func checkPrintable(s string) error {
	if !esc.Printable(s) {
		return fmt.Errorf("%s: %w", esc.Clip(s, 255), errNotPrintable)
	}
	return nil
}

// checkInitiator accepts an iSCSI initiator name (RFC 3720/7143 syntax, as on the command line).
func checkInitiator(s string) error { return core.CheckName(s) }
