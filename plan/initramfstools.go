package plan

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// InitramfsToolsFile is where Debian's open-iscsi hook puts the boot
// settings in the image, and where its local-top/iscsi script sources them.
const InitramfsToolsFile = "/etc/iscsi.initramfs"

// ParseInitramfsTools reads a shell-variable file in the format of
// /etc/iscsi.initramfs: KEY=value lines, values bare, 'single' or "double"
// quoted, with an optional "export", blank lines and # comments. The file is
// read, never run: a line that is not an assignment, or a value that needs
// the shell ($VAR, `cmd`, $(cmd)), is an error naming its line. A later
// assignment to the same name wins, as when the shell sources it. The result
// goes to FromCmdline through WithEnv.
func ParseInitramfsTools(r io.Reader) (map[string]string, error) {
	vars := map[string]string{}
	d := newVarDecoder(r)
	for d.Next() {
		vars[d.Key()] = d.Value()
	}
	return vars, d.Err()
}

// varDecoder reads assignments one at a time; its error is sticky.
type varDecoder struct {
	s          *bufio.Scanner
	line       int
	key, value string
	err        error
}

func newVarDecoder(r io.Reader) *varDecoder {
	s := bufio.NewScanner(r)
	s.Buffer(nil, 1<<20)
	return &varDecoder{s: s}
}

// Next advances to the next assignment and reports whether there is one.
func (d *varDecoder) Next() bool {
	for d.err == nil && d.s.Scan() {
		d.line++
		line := strings.TrimSpace(d.s.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		d.err = d.assignment(line)
		return d.err == nil
	}
	if d.err == nil {
		if err := d.s.Err(); err != nil {
			d.err = fmt.Errorf("iscsi.initramfs: line %d: %w", d.line+1, err)
		}
	}
	return false
}

// Key is the variable name of the current assignment.
func (d *varDecoder) Key() string { return d.key }

// Value is the value of the current assignment, unquoted.
func (d *varDecoder) Value() string { return d.value }

// Err is the first error met, or nil.
func (d *varDecoder) Err() error { return d.err }

func (d *varDecoder) assignment(line string) error {
	if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		line = strings.TrimLeft(rest, " \t")
	}
	key, raw, ok := strings.Cut(line, "=")
	if !ok || !isShellName(key) {
		return &ConfigError{Line: d.line, Err: errSyntax, Key: shellWord(key, ok)}
	}
	v, err := unquoteShell(raw)
	if err != nil {
		return &ConfigError{Line: d.line, Key: key, Err: err}
	}
	d.key, d.value = key, v
	return nil
}

// shellWord names the start of a line that is not an assignment, for the
// error, without a value that could be a password.
func shellWord(key string, hadEquals bool) string {
	if hadEquals {
		return key
	}
	w, _, _ := strings.Cut(key, " ")
	return w
}

func isShellName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == ""
}

// unquoteShell reads one shell word as sh(1) would without expansions, and
// allows only a comment after it.
func unquoteShell(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return "", errQuote
			}
			b.WriteString(s[i+1 : i+1+end])
			i += end + 1
		case '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				switch s[i] {
				case '$', '`':
					return "", errShellExpansion
				case '\\':
					// Inside double quotes a backslash escapes only
					// these; elsewhere it stands for itself.
					if i+1 < len(s) && strings.IndexByte("$`\"\\", s[i+1]) >= 0 {
						i++
					}
				}
				b.WriteByte(s[i])
			}
			if i == len(s) {
				return "", errQuote
			}
		case '\\':
			if i+1 == len(s) {
				return "", errSyntax // a line continuation
			}
			i++
			b.WriteByte(s[i])
		case '$', '`':
			return "", errShellExpansion
		case ' ', '\t':
			rest := strings.TrimLeft(s[i:], " \t")
			if rest != "" && rest[0] != '#' {
				return "", errSyntax
			}
			return b.String(), nil
		case ';', '&', '|', '<', '>', '(', ')':
			return "", errSyntax
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
