package multipath

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// FuzzVPD83: a target's page never panics the parser, and a WWID it gives
// can name a map.
func FuzzVPD83(f *testing.F) {
	f.Add(vpd83(t10, naa6))
	f.Add(vpd83(append([]byte{0x08}, "naa.600A0B80"...)))
	f.Add([]byte{0, 0x83, 0, 4, 1, 8, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := ParseVPD83(b)
		if err == nil && validName(w) != nil {
			t.Errorf("WWID %q cannot name a map", w)
		}
	})
}

// FuzzStatus: a status line never panics the parser.
func FuzzStatus(f *testing.F) {
	f.Add("2 1 0 0 1 1 A 0 2 2 8:0 A 0 0 1 8:16 F 1 0 1 ")
	f.Add("2 0 0 0 2 1 A 0 1 0 8:0 A 0 E 0 1 0 8:16 A 3 ")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseStatus(s)
		if err == nil && len(st.Paths) > len(strings.Fields(s)) {
			t.Errorf("%d paths from %d words", len(st.Paths), len(strings.Fields(s)))
		}
	})
}

// FuzzBindings: a bindings file never panics the parser, every binding it
// keeps names a map, and an error line prints no control byte.
func FuzzBindings(f *testing.F) {
	f.Add([]byte(bindingsFile))
	f.Add([]byte("mpatha\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		bs, err := ParseBindings(bytes.NewReader(b))
		if err != nil {
			if !esc.Printable(err.Error()) {
				t.Errorf("error %q", err)
			}
			return
		}
		for _, x := range bs {
			if validName(x.Alias) != nil || validName(x.WWID) != nil {
				t.Errorf("binding %q", x)
			}
		}
	})
}

// FuzzWWIDs: a wwids file never panics HasWWID or AddWWIDs, the file keeps
// what it had, and a WWID added is found afterwards and added only once.
func FuzzWWIDs(f *testing.F) {
	f.Add([]byte(wwidsHeader+"/"+wwid1+"/\n"), wwid1)
	f.Add([]byte("/a/b/\n#/c/"), "c")
	f.Fuzz(func(t *testing.T, b []byte, w string) {
		out, n := AddWWIDs(b, []string{w})
		if len(bytes.TrimSpace(b)) > 0 && !bytes.HasPrefix(out, b) {
			t.Errorf("AddWWIDs dropped the file's lines: %q -> %q", b, out)
		}
		if validName(w) == nil && !HasWWID(out, w) {
			t.Errorf("%q not found after AddWWIDs: %q", w, out)
		}
		if again, m := AddWWIDs(out, []string{w}); m != 0 || !bytes.Equal(again, out) {
			t.Errorf("AddWWIDs added %q twice (%d)", w, n+m)
		}
	})
}
