package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// names lists the entries of a plain cpio archive.
func names(t *testing.T, raw []byte) []string {
	t.Helper()
	var got []string
	for _, r := range records(t, raw) {
		got = append(got, r.Name)
	}
	return got
}

// TestCompress: -compress zstd and xz write one stream of the format the
// kernel's unpacker knows by its magic (xz with the CRC32 check, the only
// one the kernel's decoder verifies), holding the same archive as the
// gzip image, byte for byte the same on a second run; none writes the
// archive itself.
func TestCompress(t *testing.T) {
	kdir := fakeTree(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "iscsiboot")
	write(t, bin, "ELF")
	build := func(t *testing.T, compress, out string) []byte {
		t.Helper()
		args := []string{"-o", out, "-binary", bin, "-init", "-kernel-dir", kdir, "-kver", kver}
		if compress != "" {
			args = append(args, "-compress", compress)
		}
		if err := run(context.Background(), args, io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	zr, err := gzip.NewReader(bytes.NewReader(build(t, "", filepath.Join(dir, "initrd.gz"))))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	want := names(t, raw)

	for _, tc := range []struct {
		compress string
		magic    []byte
		unpack   []string // the host command that undoes it
	}{
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}, []string{"zstd", "-dc"}},
		// Stream flags 00 01: CRC32.
		{"xz", []byte("\xfd7zXZ\x00\x00\x01"), []string{"xz", "-dc"}},
		{"none", []byte("070701"), []string{"cat"}},
	} {
		t.Run(tc.compress, func(t *testing.T) {
			out := filepath.Join(dir, "initrd."+tc.compress)
			image := build(t, tc.compress, out)
			if !bytes.HasPrefix(image, tc.magic) {
				t.Fatalf("image starts % x, want % x", image[:min(len(image), 8)], tc.magic)
			}
			cmd := exec.Command(tc.unpack[0], tc.unpack[1:]...)
			cmd.Stdin = bytes.NewReader(image)
			raw, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v", strings.Join(tc.unpack, " "), err)
			}
			if diff := cmp.Diff(want, names(t, raw)); diff != "" {
				t.Errorf("archive (-gzip's +%s's):\n%s", tc.compress, diff)
			}
			if again := build(t, tc.compress, out+".2"); !bytes.Equal(image, again) {
				t.Errorf("two runs gave different images")
			}
		})
	}
}

// TestCompressErrors: a compression we do not have, one with -append, and
// a missing command each end with one line naming the flag, and leave no
// image and no temporary file behind.
func TestCompressErrors(t *testing.T) {
	kdir := fakeTree(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "iscsiboot")
	write(t, bin, "ELF")
	out := filepath.Join(dir, "initrd.img")
	for _, tc := range []struct {
		name string
		args []string
		path string // $PATH, when not the test's own
		want string
	}{
		{"unknown", []string{"-compress", "lz4"}, "", `-compress "lz4": want gzip (built in), none, zstd or xz`},
		{"with -append", []string{"-compress", "zstd", "-append", bin}, "", "-compress zstd: -append writes gzip only"},
		{"no command", []string{"-compress", "xz"}, dir, "-compress xz: the command xz is not installed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.path != "" {
				t.Setenv("PATH", tc.path)
			}
			args := append([]string{"-o", out, "-binary", bin, "-kernel-dir", kdir, "-kver", kver}, tc.args...)
			err := run(context.Background(), args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*initrd.img*")); len(left) > 0 {
				t.Errorf("a failed run left %v behind", left)
			}
		})
	}
}
