package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/u-root/u-root/pkg/cpio"
)

const kver = "6.1.0-99-amd64"

// fakeTree writes a kernel tree with three modules and returns its root.
func fakeTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	modDir := filepath.Join(root, "lib/modules", kver)
	files := map[string]string{
		"modules.dep": "kernel/drivers/scsi/scsi_mod.ko:\n" +
			"kernel/drivers/scsi/sd_mod.ko: kernel/drivers/scsi/scsi_mod.ko\n" +
			"kernel/drivers/scsi/iscsi_tcp.ko: kernel/drivers/scsi/scsi_mod.ko\n" +
			"kernel/crypto/crc32c_generic.ko:\n",
		"modules.alias":                    "alias crypto-crc32c crc32c_generic\n",
		"kernel/drivers/scsi/scsi_mod.ko":  "scsi_mod",
		"kernel/drivers/scsi/sd_mod.ko":    "sd_mod",
		"kernel/drivers/scsi/iscsi_tcp.ko": "iscsi_tcp",
		"kernel/crypto/crc32c_generic.ko":  "crc32c",
	}
	for n, c := range files {
		write(t, filepath.Join(modDir, n), c)
	}
	return root
}

func write(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o755); err != nil {
		t.Fatal(err)
	}
}

// list returns the name of every entry but the directories of a one-segment gzip image.
func list(t *testing.T, image []byte) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(image))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range records(t, raw) {
		if r.Mode&cpio.S_IFMT != cpio.S_IFDIR {
			got = append(got, r.Name)
		}
	}
	return got
}

// records reads every record of a plain cpio archive.
func records(t *testing.T, raw []byte) []cpio.Record {
	t.Helper()
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestRun(t *testing.T) {
	kdir := fakeTree(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "iscsiboot")
	write(t, bin, "ELF")
	extra := filepath.Join(dir, "initiatorname")
	write(t, extra, "InitiatorName=iqn.x")
	out := filepath.Join(dir, "initrd.img")

	var stdout bytes.Buffer
	err := run(context.Background(), []string{"-o", out, "-binary", bin, "-init", "-kernel-dir", kdir, "-kver", kver,
		"-modules", "iscsi_tcp, sd-mod", "-file", extra + ":/etc/iscsi/initiatorname.iscsi"}, &stdout, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	image, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m := "lib/modules/" + kver + "/kernel/"
	want := []string{"dev/console", "etc/iscsi/initiatorname.iscsi", "etc/iscsiboot/modules", "init",
		m + "crypto/crc32c_generic.ko", m + "drivers/scsi/iscsi_tcp.ko", m + "drivers/scsi/scsi_mod.ko", m + "drivers/scsi/sd_mod.ko",
		"sbin/iscsistart"}
	got := list(t, image)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("image (-want +got):\n%s", diff)
	}
	if !strings.Contains(stdout.String(), "4 modules: scsi_mod crc32c_generic iscsi_tcp sd_mod") {
		t.Errorf("summary %q does not list the modules in load order", stdout.String())
	}

	// Append to it: the output starts with the old image, and the new
	// segment has no /init without -init.
	out2 := filepath.Join(dir, "initrd2.img")
	if err := run(context.Background(), []string{"-o", out2, "-binary", bin, "-append", out, "-modules", ""}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	image2, err := os.ReadFile(out2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(image2, image) {
		t.Fatal("appended image does not start with the old one")
	}
	if diff := cmp.Diff([]string{"sbin/iscsistart"}, list(t, image2[(len(image)+3)&^3:])); diff != "" {
		t.Errorf("appended segment (-want +got):\n%s", diff)
	}

	// Modules alone for an image that has the command already (u-root's
	// busybox): no -binary, no sbin/iscsistart.
	out3 := filepath.Join(dir, "initrd3.img")
	if err := run(context.Background(), []string{"-o", out3, "-append", out, "-kernel-dir", kdir, "-kver", kver, "-modules", "sd_mod"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	image3, err := os.ReadFile(out3)
	if err != nil {
		t.Fatal(err)
	}
	got3 := list(t, image3[(len(image)+3)&^3:])
	sort.Strings(got3)
	if diff := cmp.Diff([]string{"etc/iscsiboot/modules", m + "drivers/scsi/scsi_mod.ko", m + "drivers/scsi/sd_mod.ko"}, got3); diff != "" {
		t.Errorf("segment of modules alone (-want +got):\n%s", diff)
	}
}

func TestRunErrors(t *testing.T) {
	kdir := fakeTree(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "iscsiboot")
	write(t, bin, "ELF")
	out := filepath.Join(dir, "initrd.img")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no output", []string{"-binary", bin}, "-o: missing"},
		{"no binary", []string{"-o", out}, "-binary: missing"},
		{"-init without binary", []string{"-o", out, "-append", bin, "-init"}, "-init: needs -binary"},
		{"bad -file", []string{"-o", out, "-binary", bin, "-file", "x"}, `want SRC:/DST, got "x"`},
		{"stray argument", []string{"-o", out, "-binary", bin, "extra"}, `unexpected argument "extra"`},
		{"unknown module", []string{"-o", out, "-binary", bin, "-kernel-dir", kdir, "-kver", kver, "-modules", "e1000"},
			"module e1000: module not found"},
		{"no modules.dep", []string{"-o", out, "-binary", bin, "-kernel-dir", dir, "-kver", kver}, "run depmod -b"},
		{"append garbage", []string{"-o", out, "-binary", bin, "-append", bin, "-modules", ""}, "not an initramfs"},
		{"unreadable without append", []string{"-o", out, "-binary", bin, "-append-unreadable"}, "needs -append"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), tc.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed run left %s behind", out)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".initrd.img.*")); len(left) > 0 {
				t.Errorf("a failed run left %v behind", left)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"-h"}, io.Discard, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("got %v, want flag.ErrHelp", err)
	}
	for _, f := range []string{"-o FILE", "-binary", "-init", "-kernel-dir", "-kver", "-modules", "-append", "-file SRC:DST", "-compress"} {
		if !strings.Contains(stderr.String(), f) {
			t.Errorf("help lacks %s:\n%s", f, stderr.String())
		}
	}
}

// TestImageMode: an image is never made more readable than what it is
// built from. Appending to a 0600 image (which may hold CHAP secrets) gave
// a 0644 one.
func TestImageMode(t *testing.T) {
	kdir := fakeTree(t)
	for _, tc := range []struct {
		name string
		src  os.FileMode // mode of the -append image; 0 for a new image
		old  os.FileMode // mode of the file -o replaces; 0 for none
		same bool        // -append and -o name one file (src is its mode)
		file bool        // with -file
		mode string      // -mode
		want os.FileMode
	}{
		{name: "new image", want: 0o644},
		{name: "new image with -file", file: true, want: 0o600},
		{name: "new image with -file and -mode", file: true, mode: "0640", want: 0o640},
		{name: "new image with -mode", mode: "600", want: 0o600},
		{name: "new image over a 0600 one", old: 0o600, want: 0o600},
		{name: "new image over a 0755 one", old: 0o755, want: 0o644},
		{name: "append to 0600 in place", src: 0o600, same: true, want: 0o600},
		{name: "append to 0600", src: 0o600, want: 0o600},
		{name: "append to 0640", src: 0o640, want: 0o640},
		{name: "append to 0644 with -file", src: 0o644, file: true, want: 0o600},
		{name: "append to 0644 over a 0600 output", src: 0o644, old: 0o600, want: 0o600},
		{name: "append to 0640 over a 0604 output", src: 0o640, old: 0o604, want: 0o600},
		{name: "append to 0600 with -mode 0644", src: 0o600, mode: "0o644", want: 0o644},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "iscsiboot")
			write(t, bin, "ELF")
			out := filepath.Join(dir, "initrd.img")
			args := []string{"-o", out, "-binary", bin, "-kernel-dir", kdir, "-kver", kver}
			if tc.src != 0 {
				src := filepath.Join(dir, "base.img")
				if tc.same {
					src = out
				}
				if err := run(context.Background(), []string{"-o", src, "-binary", bin, "-kernel-dir", kdir, "-kver", kver}, io.Discard, io.Discard); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(src, tc.src); err != nil {
					t.Fatal(err)
				}
				args = append(args, "-append", src)
			}
			if tc.old != 0 {
				write(t, out, "old")
				if err := os.Chmod(out, tc.old); err != nil {
					t.Fatal(err)
				}
			}
			if tc.file {
				secret := filepath.Join(dir, "iscsi.initramfs")
				write(t, secret, "ISCSI_PASSWORD=secret\n")
				args = append(args, "-file", secret+":/etc/iscsi.initramfs")
			}
			if tc.mode != "" {
				args = append(args, "-mode", tc.mode)
			}
			if err := run(context.Background(), args, io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != tc.want {
				t.Errorf("image mode %#o, want %#o", got, tc.want)
			}
		})
	}
}

func TestModeFlag(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"999", "1777", "rw", "-1", ""} {
		err := run(context.Background(), []string{"-o", filepath.Join(dir, "x.img"), "-binary", "x", "-mode", v}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), `invalid value "`+v+`" for flag -mode`) || !strings.Contains(err.Error(), "octal") {
			t.Errorf("-mode %q: %v", v, err)
		}
	}
}
