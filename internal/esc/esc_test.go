package esc

import "testing"

func TestString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"iqn.2025-01.test:disk1", "iqn.2025-01.test:disk1"},
		{"with space", "with space"},
		{"", ""},
		{"Grüße", "Grüße"},
		{"a\nLUN 0", `"a\nLUN 0"`},
		{"\x1b[2J", `"\x1b[2J"`},
		{"nul\x00x", `"nul\x00x"`},
		{"del\x7f", `"del\x7f"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
		{"line\u2028sep", `"line\u2028sep"`},
		{"c1\u009b", `"c1\u009b"`},
		{"bidi\u202e", `"bidi\u202e"`},
	} {
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestClip(t *testing.T) {
	if got := Clip("abcdef", 3); got != "abc..." {
		t.Errorf("Clip = %q", got)
	}
	if got := Clip("ab\ncdef", 3); got != `"ab\n"...` {
		t.Errorf("Clip = %q", got)
	}
	if got := Clip("abc", 3); got != "abc" {
		t.Errorf("Clip = %q", got)
	}
	if got := Clip("aé", 2); got != "a..." {
		t.Errorf("Clip on a rune = %q", got)
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"iqn.x", "a\nb", "\x1b[2J", "\xff", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		for i := 0; i < len(out); i++ {
			if c := out[i]; c < ' ' || c == 0x7f {
				t.Fatalf("String(%q) = %q holds control byte %#x", s, out, c)
			}
		}
		if !Printable(out) {
			t.Fatalf("String(%q) = %q is not printable", s, out)
		}
	})
}
