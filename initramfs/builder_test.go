package initramfs

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/u-root/u-root/pkg/cpio"
)

var time1 = time.Unix(1700000000, 0)

// file is an archive entry as a test sees it.
type file struct {
	Name   string
	Mode   uint64
	Data   string
	Rmajor uint64
	Rminor uint64
	UID    uint64
	MTime  uint64
	Inode  bool // non-zero inode number
}

// readArchive reads one uncompressed newc archive with u-root's reader, as
// an independent check of what the builder wrote.
func readArchive(t *testing.T, raw []byte) []file {
	t.Helper()
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("read archive: %v", err)
	}
	var files []file
	for _, r := range recs {
		data, err := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
		if err != nil {
			t.Fatalf("read %s: %v", r.Name, err)
		}
		files = append(files, file{Name: r.Name, Mode: r.Mode, Data: string(data), Rmajor: r.Rmajor, Rminor: r.Rminor,
			UID: r.UID, MTime: r.MTime, Inode: r.Ino != 0})
	}
	return files
}

// gunzip decompresses one gzip stream.
func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return raw
}

func dir(name string, perm uint64) file {
	return file{Name: name, Mode: cpio.S_IFDIR | perm, Inode: true}
}

func reg(name, data string, perm uint64) file {
	return file{Name: name, Mode: cpio.S_IFREG | perm, Data: data, Inode: true}
}

func TestBuilderContents(t *testing.T) {
	src := filepath.Join(t.TempDir(), "iscsistart")
	if err := os.WriteFile(src, []byte("ELF"), 0o750); err != nil {
		t.Fatal(err)
	}
	// Source files are not ours: their mtime and owner must not leak in.
	if err := os.Chtimes(src, time1, time1); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	b := New(&out)
	steps := []error{
		b.AddFile("/sbin/iscsistart", src),
		b.AddBytes("etc/iscsi/initiatorname.iscsi", []byte("InitiatorName=iqn.x\n"), 0o600),
		b.AddDir("/tmp", os.ModeSticky|0o777),
		b.AddSymlink("/bin/iscsistart", "../sbin/iscsistart"),
		b.AddCharDev("/dev/console", 0o600, 5, 1),
		b.AddDir("/etc", 0o700), // explicit mode beats the implicit 0755
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	want := []file{
		dir("bin", 0o755),
		{Name: "bin/iscsistart", Mode: cpio.S_IFLNK | 0o777, Data: "../sbin/iscsistart", Inode: true},
		dir("dev", 0o755),
		{Name: "dev/console", Mode: cpio.S_IFCHR | 0o600, Rmajor: 5, Rminor: 1, Inode: true},
		dir("etc", 0o700),
		dir("etc/iscsi", 0o755),
		reg("etc/iscsi/initiatorname.iscsi", "InitiatorName=iqn.x\n", 0o600),
		dir("sbin", 0o755),
		reg("sbin/iscsistart", "ELF", 0o750),
		dir("tmp", cpio.S_ISVTX|0o777),
	}
	if diff := cmp.Diff(want, readArchive(t, gunzip(t, out.Bytes()))); diff != "" {
		t.Errorf("archive (-want +got):\n%s", diff)
	}
}

func TestBuilderDeterministic(t *testing.T) {
	build := func(reverse bool) []byte {
		var out bytes.Buffer
		b := New(&out)
		adds := []func() error{
			func() error { return b.AddBytes("/a/b/c", []byte("c"), 0o644) },
			func() error { return b.AddBytes("/a/x", []byte("x"), 0o755) },
			func() error { return b.AddSymlink("/init", "/sbin/iscsistart") },
			func() error { return b.AddDir("/proc", 0o555) },
		}
		for i := range adds {
			if reverse {
				i = len(adds) - 1 - i
			}
			if err := adds[i](); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	first, second := build(false), build(true)
	if !bytes.Equal(first, second) {
		t.Errorf("two builds of the same files differ:\n%s", cmp.Diff(readArchive(t, gunzip(t, first)), readArchive(t, gunzip(t, second))))
	}
}

func TestBuilderErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		add  func(b *Builder) error
		want error
	}{
		{"different content", func(b *Builder) error {
			if err := b.AddBytes("/x", []byte("1"), 0o644); err != nil {
				return err
			}
			return b.AddBytes("/x", []byte("2"), 0o644)
		}, errConflict},
		{"file below a file", func(b *Builder) error {
			if err := b.AddBytes("/x", nil, 0o644); err != nil {
				return err
			}
			return b.AddBytes("/x/y", nil, 0o644)
		}, errConflict},
		{"root", func(b *Builder) error { return b.AddDir("/", 0o755) }, errBadPath},
		{"escapes", func(b *Builder) error { return b.AddBytes("../etc/passwd", nil, 0o644) }, errBadPath},
		{"missing source", func(b *Builder) error { return b.AddFile("/x", "/nonexistent/file") }, os.ErrNotExist},
		{"directory source", func(b *Builder) error { return b.AddFile("/x", t.TempDir()) }, errNotRegular},
		{"after close", func(b *Builder) error {
			if err := b.Close(); err != nil {
				return err
			}
			return b.AddDir("/x", 0o755)
		}, errClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.add(New(io.Discard))
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestBuilderSameTwice(t *testing.T) {
	var out bytes.Buffer
	b := New(&out, Uncompressed())
	for range 2 {
		if err := b.AddBytes("/x", []byte("same"), 0o644); err != nil {
			t.Fatalf("adding identical content twice: %v", err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]file{reg("x", "same", 0o644)}, readArchive(t, out.Bytes())); diff != "" {
		t.Errorf("archive (-want +got):\n%s", diff)
	}
}
