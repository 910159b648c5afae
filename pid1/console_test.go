package pid1

import (
	"bytes"
	"testing"
)

func TestConsole(t *testing.T) {
	for _, tc := range []struct {
		uptime, want string
	}{
		{"2.34 1.00\n", "iscsiboot: [  2.340] modules loaded; (23)\n"},
		{"12345.678 9.1", "iscsiboot: [12345.678] modules loaded; (23)\n"},
		{"", "iscsiboot: [      ?] modules loaded; (23)\n"},
	} {
		var b bytes.Buffer
		console{w: &b, uptime: func() string { return tc.uptime }}.printf("modules loaded\n(%d)\n", 23)
		if b.String() != tc.want {
			t.Errorf("uptime %q: got %q, want %q", tc.uptime, b.String(), tc.want)
		}
	}
}
