package core

import (
	"bytes"
	"fmt"
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
		d.err = fmt.Errorf("text: %q: %w", clip(string(d.b)), errUnterminated)
		return false
	}
	pair := d.b[:end]
	d.b = d.b[end+1:]
	eq := bytes.IndexByte(pair, '=')
	if eq < 0 {
		d.err = fmt.Errorf("text: %q: %w", clip(string(pair)), errNoEquals)
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
		return fmt.Errorf("text: key %q: %w", clip(key), errKeyTooLong)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == '+' || c == '@' || c == '_') {
			return fmt.Errorf("text: key %q: %w", clip(key), errBadKeyName)
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
// followed by a NUL (RFC 7143, Section 6.1).
func EncodeText(kvs []KV) []byte {
	var b []byte
	for _, kv := range kvs {
		b = append(b, kv.Key...)
		b = append(b, '=')
		b = append(b, kv.Value...)
		b = append(b, 0)
	}
	return b
}

// clip shortens untrusted text for an error line.
func clip(s string) string {
	const n = 64
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
