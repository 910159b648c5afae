package jsonw

import (
	"strconv"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// String appends s as a JSON string (RFC 8259, Section 7), escaped as
// encoding/json escapes it with SetEscapeHTML(false): quote, backslash and
// the control bytes, U+2028 and U+2029 (JavaScript line ends), and each
// byte of invalid UTF-8 as U+FFFD.
func String(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Int appends n as a JSON number.
func Int(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// Uint appends n as a JSON number.
func Uint(b []byte, n uint64) []byte { return strconv.AppendUint(b, n, 10) }

// Bool appends true or false.
func Bool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

// Strings appends a JSON array of strings; a nil slice is null, as
// encoding/json writes it.
func Strings(b []byte, s []string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return Array(b, len(s), func(b []byte, i int) []byte { return String(b, s[i]) })
}

// Array appends a JSON array of n elements, element i appended by elem.
func Array(b []byte, n int, elem func(b []byte, i int) []byte) []byte {
	b = append(b, '[')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, i)
	}
	return append(b, ']')
}

// Key appends a member name and its colon, after a comma unless it is the
// object's first member.
func Key(b []byte, name string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = String(b, name)
	return append(b, ':')
}

// Indent returns the compact JSON src laid out as json.Indent lays it out:
// each element and member on a line of its own, prefixed by prefix and one
// indent per level, "key": value, and empty objects and arrays kept as {}
// and []. src must be valid JSON, as the functions above write it.
func Indent(src []byte, prefix, indent string) []byte {
	var b []byte
	depth := 0
	newline := func() {
		b = append(b, '\n')
		b = append(b, prefix...)
		for range depth {
			b = append(b, indent...)
		}
	}
	inString, escaped, opened := false, false, false
	for _, c := range src {
		if inString {
			b = append(b, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if opened && c != '}' && c != ']' {
			opened = false
			depth++
			newline()
		}
		switch c {
		case '"':
			inString = true
			b = append(b, c)
		case '{', '[':
			b = append(b, c)
			opened = true
		case '}', ']':
			if opened {
				opened = false // {} and [] stay as they are
			} else {
				depth--
				newline()
			}
			b = append(b, c)
		case ',':
			b = append(b, c)
			newline()
		case ':':
			b = append(b, c, ' ')
		default:
			b = append(b, c)
		}
	}
	return b
}
