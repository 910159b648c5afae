package multipath

import (
	"errors"
	"strings"
	"testing"
)

// bindingsFile is what multipath-tools writes (libmultipath/alias.c,
// BINDINGS_FILE_HEADER) with two bindings.
const bindingsFile = `# Multipath bindings, Version : 1.0
# NOTE: this file is automatically maintained by the multipath program.
# You should not need to edit this file in normal circumstances.
#
# Format:
# alias wwid
#
mpatha 360000000000000000e00000000010001
mpathc 1IET_VIRTUAL-DISK_beaf11   # a comment
`

func TestBindings(t *testing.T) {
	bs, err := ParseBindings(strings.NewReader(bindingsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 || bs.Alias("1IET_VIRTUAL-DISK_beaf11") != "mpathc" || bs.Alias("3x") != "" {
		t.Errorf("%+v", bs)
	}
	if n := MapName("360000000000000000e00000000010001", bs); n != "mpatha" {
		t.Errorf("MapName %q", n)
	}
	if n := MapName("3600a0b80", bs); n != "3600a0b80" {
		t.Errorf("MapName without a binding %q, want the WWID", n)
	}
	if a := bs.NextAlias(AliasPrefix); a != "mpathb" {
		t.Errorf("NextAlias %q, want mpathb", a)
	}
	for id, want := range map[int]string{1: "a", 26: "z", 27: "aa", 52: "az", 53: "ba", 702: "zz", 703: "aaa"} {
		if got := letters(id); got != want {
			t.Errorf("letters(%d) %q, want %q", id, got, want)
		}
	}
	if got := (Binding{"mpathb", "3600a0b80"}).Line(); got != "mpathb 3600a0b80\n" {
		t.Errorf("line %q", got)
	}
}

func TestBindingsRefused(t *testing.T) {
	for _, bad := range []string{"mpatha\n", "mpatha 3x extra\n", "mpath/a 3x\n", "mpatha 3x\x1b[2J\n", ".. 3x\n",
		strings.Repeat("a", 128) + " 3x\n"} {
		_, err := ParseBindings(strings.NewReader(bad))
		if !errors.Is(err, errBindings) {
			t.Errorf("%q: %v", bad, err)
		}
		if err != nil && strings.ContainsRune(err.Error(), 0x1b) {
			t.Errorf("%q: a control byte in the error", bad)
		}
	}
}
