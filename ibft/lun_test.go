package ibft

import "testing"

func TestLUNInt(t *testing.T) {
	tests := []struct {
		lun  LUN
		want uint64
	}{
		{LUN{}, 0},
		{LUN{0, 1}, 1},            // single level, peripheral addressing
		{LUN{0, 0xff}, 255},       // largest peripheral LUN
		{LUN{0x40, 0x01}, 0x4001}, // flat space addressing, LUN 1
		{LUN{0x01, 0x00}, 256},    // bus 1 peripheral, as Linux numbers it
		{LUN{0, 1, 0, 2, 0, 3, 0, 4}, 0x0004_0003_0002_0001}, // each level in turn
		{LUN{0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe, 0xba, 0xbe}, 0xbabe_cafe_beef_dead},
	}
	for _, tt := range tests {
		if got := tt.lun.Int(); got != tt.want {
			t.Errorf("% x .Int() = %#x, want %#x", tt.lun[:], got, tt.want)
		}
		if got := LUNFromInt(tt.want); got != tt.lun {
			t.Errorf("LUNFromInt(%#x) = % x, want % x", tt.want, got[:], tt.lun[:])
		}
	}
}

func TestSysfsLUN(t *testing.T) {
	tests := []struct {
		in   string
		want LUN
		ok   bool
	}{
		{"01000000", LUN{0, 1}, true}, // the fixture: LUN 1 (LAB.md gotcha 7)
		{"00000000", LUN{}, true},
		{"0ff000000", LUN{}, false}, // 00 ff 00... or 00 0f f0 00...
		{"401000000", LUN{}, false}, // 40 01 00... or 04 00 10 00...
		{"10000000", LUN{1}, true},
		{"ffffffffffffffff", LUN{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true},
		{"0110000000", LUN{}, false}, // 00 01 10 00... or 00 11 00 0...: unknowable
		{"0100000", LUN{}, false},    // too short
		{"01000000000000000", LUN{}, false},
		{"0F000000", LUN{}, false}, // the kernel prints lowercase
		{"0x000000", LUN{}, false},
	}
	for _, tt := range tests {
		got, ok := parseSysfsLUN(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseSysfsLUN(%q) = % x, %v; want % x, %v", tt.in, got[:], ok, tt.want[:], tt.ok)
		}
		if ok && got.sysfsString() != tt.in {
			t.Errorf("% x prints as %q, not %q", got[:], got.sysfsString(), tt.in)
		}
	}
}
