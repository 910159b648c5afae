package pid1

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFindInit(t *testing.T) {
	root := t.TempDir()
	for _, f := range []struct {
		name string
		mode os.FileMode
	}{{"bin/sh", 0o755}, {"etc/init", 0o644}, {"lib/systemd/systemd", 0o755}} {
		p := filepath.Join(root, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		want, got string
		err       error
	}{
		// /etc/init is not executable, so the kernel's order ends at /bin/sh.
		{want: "", got: "/bin/sh"},
		{want: "/lib/systemd/systemd", got: "/lib/systemd/systemd"},
		{want: "/sbin/init", err: errNoInit},
	} {
		got, err := FindInit(root, tc.want)
		if !errors.Is(err, tc.err) || got != tc.got {
			t.Errorf("init=%q: got %q, %v; want %q, %v", tc.want, got, err, tc.got, tc.err)
		}
	}
}
