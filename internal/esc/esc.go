// Package esc makes strings that other machines control safe to print: a
// target's name or alias, a redirect address, an INQUIRY vendor, a table or
// DHCP string. A string of printable characters prints as it is, so that
// ordinary output keeps its form; anything else (a control byte, an escape
// sequence, a line break, invalid UTF-8) prints Go-quoted, so that no
// control byte reaches a console, a log or a record file. It never imports
// anything of this project.
package esc

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Printable reports whether s holds only printable characters: valid UTF-8
// with no control, format or line-separating code point. The space counts
// as printable.
func Printable(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < ' ' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return false
		}
		if !unicode.IsPrint(r) && r != ' ' {
			return false
		}
		i += n
	}
	return true
}

// String returns s as it is when it is Printable, else Go-quoted (with
// \n, \x1b, \u2028 and the like spelled out), so that one value stays on
// its line and cannot move the cursor.
func String(s string) string {
	if Printable(s) {
		return s
	}
	return strconv.Quote(s)
}

// Clip is String of at most n bytes of s, with "..." after a cut: for
// error lines that quote a long untrusted value.
func Clip(s string, n int) string {
	if len(s) <= n {
		return String(s)
	}
	cut := s[:n]
	// Cut on a rune boundary so that a valid string stays valid.
	for i := 0; i < utf8.UTFMax && len(cut) > 0 && !utf8.RuneStart(s[len(cut)]); i++ {
		cut = cut[:len(cut)-1]
	}
	return String(cut) + "..."
}
