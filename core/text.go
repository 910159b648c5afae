package core

import (
	"bytes"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// Limits of the text format (RFC 7143, Section 6.1).
const (
	maxKeyLen = 63
	// maxValueLen allows a large-binary-value such as a CHAP challenge of
	// 1024 bytes in hex ("0x" + 2048 digits) with room to spare, while
	// still bounding what a hostile target can make us hold per key.
	maxValueLen = 8192
	// maxTextLen bounds one whole negotiation sequence (all PDUs joined by
	// the C bit) so a target cannot keep us reading forever.
	maxTextLen = 64 << 10
)

// KV is one text key=value pair (RFC 7143, Section 6.1).
type KV struct {
	Key, Value string
}

// TextDecoder walks key=value pairs in a text data segment with a sticky
// error, like netlink's AttributeDecoder:
//
//	d := NewTextDecoder(b)
//	for d.Next() { use(d.Key(), d.Value()) }
//	return d.Err()
type TextDecoder struct {
	b          []byte
	key, value string
	err        error
}

// NewTextDecoder returns a decoder over b, the concatenated data segments of
// one negotiation sequence.
func NewTextDecoder(b []byte) *TextDecoder {
	d := &TextDecoder{b: b}
	if len(b) > maxTextLen {
		d.err = fmt.Errorf("text: %d bytes: %w", len(b), errTextTooLong)
	}
	return d
}

// Next advances to the next pair and reports whether there is one. Runs of
// NUL bytes between pairs (padding some targets leave) are skipped.
func (d *TextDecoder) Next() bool {
	if d.err != nil {
		return false
	}
	for len(d.b) > 0 && d.b[0] == 0 {
		d.b = d.b[1:]
	}
	if len(d.b) == 0 {
		return false
	}
	end := bytes.IndexByte(d.b, 0)
	if end < 0 {
		d.err = fmt.Errorf("text: %s: %w", clip(string(d.b)), errUnterminated)
		return false
	}
	pair := d.b[:end]
	d.b = d.b[end+1:]
	eq := bytes.IndexByte(pair, '=')
	if eq < 0 {
		d.err = fmt.Errorf("text: %s: %w", clip(string(pair)), errNoEquals)
		return false
	}
	key, value := string(pair[:eq]), string(pair[eq+1:])
	if err := checkKey(key); err != nil {
		d.err = err
		return false
	}
	if len(value) > maxValueLen {
		d.err = fmt.Errorf("text: key %s: %d bytes: %w", key, len(value), errValueTooLong)
		return false
	}
	d.key, d.value = key, value
	return true
}

// Key returns the key of the current pair.
func (d *TextDecoder) Key() string { return d.key }

// Value returns the value of the current pair.
func (d *TextDecoder) Value() string { return d.value }

// Err returns the first error met, if any.
func (d *TextDecoder) Err() error { return d.err }

func checkKey(key string) error {
	if len(key) == 0 || len(key) > maxKeyLen {
		return fmt.Errorf("text: key %s: %w", clip(key), errKeyTooLong)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == '+' || c == '@' || c == '_') {
			return fmt.Errorf("text: key %s: %w", clip(key), errBadKeyName)
		}
	}
	return nil
}

// ParseText decodes all pairs of b.
func ParseText(b []byte) ([]KV, error) {
	var kvs []KV
	d := NewTextDecoder(b)
	for d.Next() {
		kvs = append(kvs, KV{d.Key(), d.Value()})
	}
	return kvs, d.Err()
}

// EncodeText returns the pairs as a text data segment: each key=value
// followed by a NUL (RFC 7143, Section 6.1). It refuses, wrapping
// ErrBadValue, a key outside the key syntax and a value that is not UTF-8
// text without control characters: a NUL in a value would end its pair
// early and let what follows stand as a key of its own (an initiator name
// holding "\x00AuthMethod=None"), and none of the value types of Section
// 6.1 has room for a control character.
func EncodeText(kvs []KV) ([]byte, error) {
	var b []byte
	for _, kv := range kvs {
		if err := checkKey(kv.Key); err != nil {
			return nil, fmt.Errorf("%w: %w", err, ErrBadValue)
		}
		if err := checkSendValue(kv.Key, kv.Value); err != nil {
			return nil, err
		}
		b = append(b, kv.Key...)
		b = append(b, '=')
		b = append(b, kv.Value...)
		b = append(b, 0)
	}
	return b, nil
}

// checkSendValue checks a value we are about to send: at most maxValueLen
// bytes, so that we send nothing we would refuse to read, and valid UTF-8
// without NUL or any other control character.
func checkSendValue(key, v string) error {
	if len(v) > maxValueLen {
		return fmt.Errorf("text: key %s: value of %d bytes, at most %d: %w", key, len(v), maxValueLen, ErrBadValue)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("text: %s=%s: not UTF-8: %w", key, clip(v), ErrBadValue)
	}
	for i, r := range v {
		if unicode.IsControl(r) {
			return fmt.Errorf("text: %s=%s: control character %+q at byte %d, want text without NUL or control characters: %w",
				key, clip(v), r, i, ErrBadValue)
		}
	}
	return nil
}

// clip shortens untrusted text for an error line and escapes it, so that
// what a target sent cannot end the line or drive the console.
func clip(s string) string { return esc.Clip(s, 64) }
