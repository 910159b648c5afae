package ibft

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse feeds arbitrary bytes to Parse, as they are and with the
// checksum made right (else the fuzzer rarely gets past it). Whatever parses
// must marshal, parse back to the same table and marshal to the same bytes;
// and the views built on a table must not panic. Seeds are in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b)
		if len(b) < HeaderLen {
			return
		}
		c := bytes.Clone(b)
		n := min(len(c), int(binary.LittleEndian.Uint32(c[offLength:])))
		c[offChecksum] -= checksum(c[:n])
		roundTrip(t, c)
	})
}

func roundTrip(t *testing.T, b []byte) {
	t.Helper()
	tab, err := Parse(b)
	if err != nil {
		return
	}
	out, err := tab.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary of a parsed table: %v", err)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(MarshalBinary()) = %v", err)
	}
	if d := cmp.Diff(tab, again, cmpOpts...); d != "" {
		t.Fatalf("round trip (-first +second):\n%s", d)
	}
	out2, err := again.MarshalBinary()
	if err != nil || !bytes.Equal(out, out2) {
		t.Fatalf("second marshal differs (err %v)", err)
	}
	tab.BootTargets()
	if err := WriteRecords(io.Discard, tab.Records(nil), false); err != nil {
		t.Fatal(err)
	}
}

// FuzzSysfsLUN checks that a LUN string is decoded only when it is exactly
// what the kernel would print for the decoded bytes.
func FuzzSysfsLUN(f *testing.F) {
	for _, s := range []string{"01000000", "0100000000", "4012000000000", "ffffffffffffffff", "0", "0g000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, ok := parseSysfsLUN(s)
		if !ok {
			return
		}
		if got := l.sysfsString(); got != s {
			t.Fatalf("parseSysfsLUN(%q) = % x, which prints as %q", s, l[:], got)
		}
	})
}

// FuzzLUNBytes checks that a decoded sysfs LUN is never a different LUN.
func FuzzLUNBytes(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x40, 0x12, 0, 0x10, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 8 {
			return
		}
		l := LUN(b[:8])
		if got, ok := parseSysfsLUN(l.sysfsString()); ok && got != l {
			t.Fatalf("% x prints as %q, read back as % x", l[:], l.sysfsString(), got[:])
		}
		if LUNFromInt(l.Int()) != l {
			t.Fatalf("LUNFromInt(Int(% x)) differs", l[:])
		}
	})
}
