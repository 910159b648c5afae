package qemutests

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"os/exec"
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

// cpioOf returns the newc archive of the paths names under dir, in that order, as cpio -o writes it.
func cpioOf(t *testing.T, dir string, names ...string) []byte {
	t.Helper()
	cmd := exec.Command("cpio", "-o", "-H", "newc", "--quiet")
	cmd.Dir, cmd.Stdin = dir, strings.NewReader(strings.Join(names, "\n")+"\n")
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("cpio -o: %v", err)
	}
	return b
}

// TestUnpackImage unpacks an image as u-root's becomes with iscsiboot-initramfs -append: an uncompressed
// archive with etc/, then a compressed one whose etc/iscsi has no etc/ entry of its own, which must land in
// the first one's etc/ as the kernel puts it.
func TestUnpackImage(t *testing.T) {
	src := t.TempDir()
	for p, data := range map[string]string{"etc/localtime": "one", "etc/iscsi/initiatorname.iscsi": "two"} {
		if err := os.MkdirAll(filepath.Join(src, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	first := cpioOf(t, src, "etc", "etc/localtime")
	second := cpioOf(t, src, "etc/iscsi", "etc/iscsi/initiatorname.iscsi")
	compress := map[string]func() []byte{
		"gzip": func() []byte {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(second)
			zw.Close()
			return b.Bytes()
		},
		"zstd": func() []byte {
			cmd := exec.Command("zstd", "-q", "-c")
			cmd.Stdin = bytes.NewReader(second)
			b, err := cmd.Output()
			if err != nil {
				t.Fatalf("zstd: %v", err)
			}
			return b
		},
	}
	for name, c := range compress {
		t.Run(name, func(t *testing.T) {
			img := filepath.Join(t.TempDir(), "initrd.img")
			// The kernel takes zeros between segments; builders pad to 512 bytes.
			data := append(append(slices.Clone(first), make([]byte, 512-len(first)%512)...), c()...)
			if err := os.WriteFile(img, data, 0o644); err != nil {
				t.Fatal(err)
			}
			u, err := UnpackImage(context.Background(), img, filepath.Join(t.TempDir(), "root"))
			if err != nil {
				t.Fatal(err)
			}
			for p, want := range map[string]string{"etc/localtime": "one", "etc/iscsi/initiatorname.iscsi": "two"} {
				if b, err := os.ReadFile(filepath.Join(u.Root, p)); err != nil || string(b) != want {
					t.Errorf("%s = %q, %v; want %q", p, b, err, want)
				}
			}
		})
	}
	t.Run("garbage", func(t *testing.T) {
		img := filepath.Join(t.TempDir(), "initrd.img")
		if err := os.WriteFile(img, append(slices.Clone(first), "not an archive"...), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := UnpackImage(context.Background(), img, filepath.Join(t.TempDir(), "root")); err == nil {
			t.Error("UnpackImage of an image with trailing garbage succeeded")
		}
	})
}

// FuzzNewcLen: any bytes give a length within them or an error, never a panic.
func FuzzNewcLen(f *testing.F) {
	f.Add([]byte("070701"))
	f.Add([]byte("07070100000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000b00000000TRAILER!!!\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := newcLen(b)
		if err == nil && (n <= 0 || n > len(b)) {
			t.Errorf("newcLen = %d for %d bytes", n, len(b))
		}
	})
}
