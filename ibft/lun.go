package ibft

import (
	"strconv"
	"strings"
)

// LUN is the 8-byte SCSI LUN structure (SAM-5, Section 4.7) as the target
// structure stores it, iBFT 1.03, Section 3.7.
type LUN [8]byte

// Int is the integer LUN Linux uses for this structure (scsilun_to_int in
// drivers/scsi/scsi_scan.c): each 16-bit level, first level in the low bits.
// For the common single-level LUN 00 01 00 00 00 00 00 00 it is 1.
func (l LUN) Int() uint64 {
	var n uint64
	for i := 0; i < len(l); i += 2 {
		n |= uint64(l[i])<<((i+1)*8) | uint64(l[i+1])<<(i*8)
	}
	return n
}

// LUNFromInt is the inverse of Int (Linux's int_to_scsilun).
func LUNFromInt(n uint64) LUN {
	var l LUN
	for i := 0; i < len(l); i += 2 {
		l[i] = byte(n >> 8)
		l[i+1] = byte(n)
		n >>= 16
	}
	return l
}

func (l LUN) String() string { return strconv.FormatUint(l.Int(), 10) }

// sysfsString is what Linux prints in target*/lun: each byte with "%x", no
// padding, so 00 01 00 ... prints as "01000000".
func (l LUN) sysfsString() string {
	var b strings.Builder
	for _, c := range l {
		b.WriteString(strconv.FormatUint(uint64(c), 16))
	}
	return b.String()
}

// parseSysfsLUN undoes sysfsString where only one byte sequence prints as s.
// A byte below 0x10 prints as one digit and any other as two digits with no
// leading zero, so the split is often unique; when it is not, the LUN is
// unknowable from sysfs and the caller must say so rather than guess a disk.
func parseSysfsLUN(s string) (LUN, bool) {
	var found []LUN
	var cur LUN
	var walk func(rest string, i int)
	walk = func(rest string, i int) {
		if len(found) > 1 {
			return
		}
		if i == len(cur) {
			if rest == "" {
				found = append(found, cur)
			}
			return
		}
		if len(rest) >= 1 {
			if v, ok := hexDigit(rest[0]); ok {
				cur[i] = v
				walk(rest[1:], i+1)
			}
		}
		if len(rest) >= 2 && rest[0] != '0' {
			hi, ok1 := hexDigit(rest[0])
			lo, ok2 := hexDigit(rest[1])
			if ok1 && ok2 {
				cur[i] = hi<<4 | lo
				walk(rest[2:], i+1)
			}
		}
	}
	if len(s) < len(cur) || len(s) > 2*len(cur) {
		return LUN{}, false
	}
	walk(s, 0)
	if len(found) != 1 {
		return LUN{}, false
	}
	return found[0], true
}

// hexDigit takes lowercase only: the kernel prints with %x.
func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
