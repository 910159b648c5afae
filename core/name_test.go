package core

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	good := []string{
		"iqn.2025-01.test:disk1",
		"iqn.2009-06.dracut:target0",
		"iqn.2010-04.org.ipxe:00000000-0000-0000-0000-000000000000",
		"iqn.2005-03.org.open-iscsi:4f1a2b3c4d5e",
		"IQN.2001-04.com.Example:Storage.Disk2",
		"eui.02004567A425678D",
		"naa.52004567BA64678D",
		"naa.62004567BA64678D0123456789ABCDEF",
		"iqn.2001-04.com.example:stöckli",
		"iqn.2001-04.com.example",
		"iqn.2001-04.x:" + strings.Repeat("a", MaxNameLen-len("iqn.2001-04.x:")),
	}
	for _, s := range good {
		if err := CheckName(s); err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", s, err)
		}
	}
	bad := []struct{ in, says string }{
		{"", "empty"},
		{"iqn.2001-04.x:" + strings.Repeat("a", MaxNameLen), "237 bytes"},
		{"iqn.2025-01.test:disk1\nportal 1.2.3.4", `'\n' at byte 22`},
		{"iqn.2025-01.test:disk\x00AuthMethod=None", `'\x00'`},
		{"iqn.2025-01.test:\x1b[2J", `'\x1b'`},
		{"iqn.2025-01.test:a b", `' '`},
		{"iqn.2025-01.test:a/b", `'/'`},
		{"iqn.2025-01.test:a=b", `'='`},
		{"iqn.2025-01.test:\xff", `'\ufffd'`},
		{"iqn.2025-01.test:\u202e", `'\u202e'`},
		{"target0", "not an iqn., eui. or naa. name"},
		{"iqn.25-01.x", "iqn.yyyy-mm"},
		{"iqn.2025-13.x", "iqn.yyyy-mm"},
		{"iqn.2025-01", "iqn.yyyy-mm"},
		{"iqn.2025-01.", "iqn.yyyy-mm"},
		{"eui.0200", "16 hex"},
		{"eui.02004567A425678G", "16 hex"},
		{"naa.1234", "16 or 32"},
	}
	for _, c := range bad {
		err := CheckName(c.in)
		if !errors.Is(err, ErrBadName) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("CheckName(%q) = %v, want ErrBadName saying %q", c.in, err, c.says)
			continue
		}
		for _, b := range []byte(err.Error()) {
			if b < ' ' || b == 0x7f {
				t.Errorf("CheckName(%q) error %q holds control byte %#x", c.in, err, b)
			}
		}
	}
}

func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"iqn.2025-01.test:disk1", "eui.02004567A425678D", "iqn.x\n", "naa.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := CheckName(s)
		if err != nil {
			for _, b := range []byte(err.Error()) {
				if b < ' ' || b == 0x7f {
					t.Fatalf("error %q holds control byte %#x", err, b)
				}
			}
			return
		}
		if len(s) > MaxNameLen || strings.ContainsAny(s, " \t\r\n\x00=/,") {
			t.Fatalf("CheckName(%q) accepted it", s)
		}
	})
}
