package plan

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Option configures FromCmdline.
type Option func(*options)

type options struct {
	env map[string]string
}

// WithEnv adds initramfs-tools variables (ISCSI_TARGET_NAME=..., as read by
// ParseInitramfsTools from /etc/iscsi.initramfs, or from the environment).
// They count as written before the command line, so the command line wins,
// as in Debian's local-top/iscsi script. Only ISCSI_* names are looked at.
func WithEnv(vars map[string]string) Option {
	return func(o *options) { o.env = vars }
}

// FromCmdline builds the plan that a kernel command line asks for, in
// dracut's syntax (netroot=, root=, rd.iscsi.*, ip=, vlan=, ifname=, ...),
// dracut's deprecated and Debian's initramfs-tools syntax (iscsi_*=,
// iscsi_auto, ISCSI_*=). Words are split like the kernel does: double quotes
// group, and "--" ends the kernel's part. Words that are not about the
// network or iSCSI are ignored; unknown rd.iscsi.* words become warnings.
// The first bad value is an error (*CmdlineError) naming the key and the
// part at fault, with passwords redacted.
//
// The plan holds what the sources say and nothing more: Merge adds the
// defaults and the other sources.
func FromCmdline(cmdline string, opts ...Option) (*Plan, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	p := newCmdlineParser()
	for _, k := range slices.Sorted(maps.Keys(o.env)) {
		if strings.HasPrefix(k, "ISCSI_") {
			p.word(word{key: k, value: o.env[k], hasValue: true}, SourceConfig)
		}
	}
	for _, w := range tokenize(cmdline) {
		p.word(w, SourceCmdline)
	}
	return p.finish()
}

// word is one kernel parameter: key=value, or a bare key.
type word struct {
	key      string
	value    string
	hasValue bool
}

// SplitCmdline splits a kernel command line into its parameters,
// "key=value" or "key", as the kernel does (tokenize): the one tokenizer
// of the plan's command-line source and the guest /init. Empty parameters
// (a bare "") are dropped.
func SplitCmdline(s string) []string {
	var out []string
	for _, w := range tokenize(s) {
		switch {
		case w.hasValue:
			out = append(out, w.key+"="+w.value)
		case w.key != "":
			out = append(out, w.key)
		}
	}
	return out
}

// tokenize splits a command line as the kernel's next_arg does
// (lib/cmdline.c): words end at unquoted white space; a double quote
// toggles quoting anywhere; one quote at the start of the word or of the
// value, and one at its end, are dropped. "--" alone ends the list: what
// follows is for init. The line ends at a NUL byte, as the kernel's C
// string does.
func tokenize(s string) []word {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	var out []word
	for {
		s = strings.TrimLeft(s, " \t\n\v\f\r")
		if s == "" {
			return out
		}
		quoted := s[0] == '"'
		if quoted {
			s = s[1:]
		}
		inQuote, eq, i := quoted, -1, 0
		for ; i < len(s); i++ {
			c := s[i]
			if isSpace(c) && !inQuote {
				break
			}
			if eq < 0 && c == '=' {
				eq = i
			}
			if c == '"' {
				inQuote = !inQuote
			}
		}
		arg := s[:i]
		s = s[i:]
		var w word
		if eq < 0 {
			if quoted {
				arg = strings.TrimSuffix(arg, `"`)
			}
			w.key = arg
		} else {
			w.key, w.value, w.hasValue = arg[:eq], arg[eq+1:], true
			if strings.HasPrefix(w.value, `"`) {
				w.value = strings.TrimSuffix(w.value[1:], `"`)
			} else if quoted {
				w.value = strings.TrimSuffix(w.value, `"`)
			}
		}
		if w.key == "--" && !w.hasValue {
			return out
		}
		out = append(out, w)
	}
}

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// secretKeys are the words whose value never appears in an error.
var secretKeys = map[string]bool{
	"rd.iscsi.password": true, "rd.iscsi.in.password": true,
	"iscsi_password": true, "iscsi_in_password": true,
	"ISCSI_PASSWORD": true, "ISCSI_IN_PASSWORD": true,
}

// parseBool reads a dracut boolean (getargbool): a bare key or an empty
// value is true; 0, no, off are false. Unlike dracut, which takes any other
// value for true, a typo is refused.
func parseBool(w word) (bool, bool) {
	switch strings.ToLower(w.value) {
	case "", "1", "yes", "on", "true", "y":
		return true, true
	case "0", "no", "off", "false", "n":
		return false, true
	}
	return false, false
}

// parseUint reads a decimal number in [lo, hi].
func parseUint(s string, lo, hi uint64) (uint64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// validName checks an iSCSI name (initiator or target) in the loose way the
// boot scripts do: one word of at most 223 bytes (RFC 7143, Section 4.2.7.1).
func validName(s string) bool {
	return s != "" && len(s) <= 223 && !strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f
	})
}

// hasNamePrefix tells whether s has one of the three iSCSI name types
// (RFC 7143, Section 4.2.7.2) with something after it.
func hasNamePrefix(s string) bool {
	for _, t := range []string{"iqn.", "eui.", "naa."} {
		if len(s) > len(t) && strings.EqualFold(s[:len(t)], t) {
			return true
		}
	}
	return false
}

// validIfname checks a Linux interface name: 1-15 bytes, no '/', ':' or
// white space (net/core/dev.c, dev_valid_name).
func validIfname(s string) bool {
	return s != "" && len(s) < 16 && s != "." && s != ".." &&
		!strings.ContainsFunc(s, func(r rune) bool {
			return r <= ' ' || r == '/' || r == ':' || r >= 0x7f
		})
}

// transports are the kernel iSCSI transports open-iscsi knows by name.
var transports = []string{"tcp", "iser", "bnx2i", "cxgb3i", "cxgb4i", "be2iscsi", "qla4xxx", "qedi", "ocs"}
