package qemutests

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// hostTree copies the host programs progs into a new tree, each with the libraries ldd names for it, kept
// under usr/ with lib and lib64 as relative links to them, as in a merged-/usr Debian image.
func hostTree(t *testing.T, progs ...string) UnpackedImage {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"lib", "lib64"} {
		if err := os.MkdirAll(filepath.Join(root, "usr", d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("usr/"+d, filepath.Join(root, d)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range progs {
		libs, err := sharedLibs(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range append([]string{p}, libs...) {
			if !strings.HasPrefix(f, "/usr/") {
				f = "/usr" + f
			}
			if err := copyHostFile(root, f); err != nil {
				t.Fatal(err)
			}
		}
	}
	return UnpackedImage{Root: root}
}

func baseNames(paths []string) []string {
	var b []string
	for _, p := range paths {
		b = append(b, filepath.Base(p))
	}
	slices.Sort(b)
	return b
}

// TestToolBytes counts open-iscsi's iscsistart in an image beside kmod, which loads libc, libcrypto,
// libzstd and liblzma itself (Debian's initramfs-tools case), and beside static busybox alone, where every
// library is iscsistart's.
func TestToolBytes(t *testing.T) {
	ctx := context.Background()
	libs, err := sharedLibs(ctx, "/usr/sbin/iscsistart")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("beside kmod", func(t *testing.T) {
		u := hostTree(t, "/usr/sbin/iscsistart", "/usr/bin/kmod")
		got, err := u.ToolBytes(ctx, openISCSIPrograms...)
		if err != nil {
			t.Fatal(err)
		}
		names := baseNames(got.Files)
		if len(names) != 3 || names[0] != "iscsistart" || names[1] != "libkmod.so.2" || !strings.HasPrefix(names[2], "libopeniscsiusr.so") {
			t.Errorf("files = %q; want iscsistart, libkmod.so.2 and libopeniscsiusr.so.*", got.Files)
		}
		if got.Gzip9 <= 0 || got.Gzip9 >= got.Raw {
			t.Errorf("gzip -9 %d bytes of raw %d", got.Gzip9, got.Raw)
		}
	})
	t.Run("beside static busybox", func(t *testing.T) {
		u := hostTree(t, "/usr/sbin/iscsistart", "/bin/busybox")
		got, err := u.ToolBytes(ctx, "iscsistart")
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Files) != 1+len(libs) {
			t.Errorf("files = %q; want iscsistart and its %d libraries %q", got.Files, len(libs), libs)
		}
		var raw int64
		for _, f := range append([]string{"/usr/sbin/iscsistart"}, libs...) {
			raw += fileSize(t, f)
		}
		if got.Raw != raw {
			t.Errorf("raw = %d bytes, want %d", got.Raw, raw)
		}
	})
	t.Run("not in the image", func(t *testing.T) {
		u := hostTree(t, "/bin/busybox")
		if got, err := u.ToolBytes(ctx, "iscsistart"); err == nil {
			t.Errorf("ToolBytes = %+v, want an error", got)
		}
	})
}
