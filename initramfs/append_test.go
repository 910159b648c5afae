package initramfs

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/u-root/u-root/pkg/cpio"
)

// segment builds one archive segment with the given files and options.
func segment(t testing.TB, build func(b *Builder) error, opts ...Option) []byte {
	t.Helper()
	var out bytes.Buffer
	b := New(&out, opts...)
	if err := build(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// microcode is an uncompressed early segment, as distributions put first;
// its odd-length file leaves the image unaligned only if padding is wrong.
func microcode(t testing.TB) []byte {
	return segment(t, func(b *Builder) error {
		return b.AddBytes("kernel/x86/microcode/GenuineIntel.bin", []byte("ucode"), 0o644)
	}, Uncompressed())
}

// mainImage is a gzip segment with a merged-/usr layout.
func mainImage(t testing.TB) []byte {
	return segment(t, func(b *Builder) error {
		if err := b.AddSymlink("lib", "usr/lib"); err != nil {
			return err
		}
		if err := b.AddBytes("init", []byte("#!/bin/sh\n"), 0o755); err != nil {
			return err
		}
		return b.AddBytes("usr/lib/modules/6.1/modules.dep", nil, 0o644)
	})
}

func TestAppend(t *testing.T) {
	existing := append(microcode(t), mainImage(t)...)
	// Trailing zero padding that leaves the image unaligned.
	for len(existing)%4 != 1 {
		existing = append(existing, 0)
	}
	var out bytes.Buffer
	b, err := Append(bytes.NewReader(existing), &out, Uncompressed())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddBytes("/lib/modules/6.1/kernel/iscsi_tcp.ko", []byte("ko"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.AddBytes("/sbin/iscsistart", []byte("ELF"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	got := out.Bytes()
	if !bytes.HasPrefix(got, existing) {
		t.Fatal("the existing image is not copied unchanged to the start")
	}
	start := len(existing) + (4-len(existing)%4)%4
	if !bytes.Equal(got[len(existing):start], make([]byte, start-len(existing))) {
		t.Errorf("padding before the new segment is not zeros")
	}
	// The new segment must not hold a directory "lib": the kernel would
	// replace the existing lib -> usr/lib symlink with it.
	want := []file{
		dir("lib/modules", 0o755),
		dir("lib/modules/6.1", 0o755),
		dir("lib/modules/6.1/kernel", 0o755),
		reg("lib/modules/6.1/kernel/iscsi_tcp.ko", "ko", 0o644),
		dir("sbin", 0o755),
		reg("sbin/iscsistart", "ELF", 0o755),
	}
	if diff := cmp.Diff(want, readArchive(t, got[start:])); diff != "" {
		t.Errorf("new segment (-want +got):\n%s", diff)
	}
	// And the whole result reads as an initramfs again.
	names, err := scanImage(got, false)
	if err != nil {
		t.Fatalf("reading the result: %v", err)
	}
	for _, n := range []string{"init", "lib", "kernel/x86/microcode/GenuineIntel.bin", "sbin/iscsistart"} {
		if !names[n] {
			t.Errorf("result lacks %s", n)
		}
	}
}

func TestAppendErrors(t *testing.T) {
	xz := []byte{0xfd, '7', 'z', 'X', 'Z', 0, 1, 2, 3}
	zstd := []byte{0x28, 0xb5, 0x2f, 0xfd, 1, 2}
	good := mainImage(t)
	for _, tc := range []struct {
		name      string
		in        []byte
		opts      []Option
		want      error
		wantFmt   string
		wantAt    int64
		wantNames []string
	}{
		{name: "xz", in: xz, want: ErrUnreadableSegment, wantFmt: "xz"},
		{name: "zstd after gzip", in: append(append([]byte{}, good...), zstd...), want: ErrUnreadableSegment,
			wantFmt: "zstd", wantAt: int64(len(good))},
		{name: "zstd allowed", in: append(append([]byte{}, good...), zstd...), opts: []Option{AllowUnreadable()},
			wantNames: []string{"init"}},
		{name: "not an image", in: []byte("MZ\x90\x00"), want: errNotInitramfs, wantFmt: "unknown"},
		{name: "empty", in: nil, want: errNotInitramfs},
		{name: "only zeros", in: make([]byte, 512), want: errNotInitramfs},
		{name: "truncated cpio", in: microcode(t)[:200], want: errBadCpio, wantFmt: "cpio"},
		{name: "truncated gzip", in: good[:len(good)/2], wantFmt: "gzip"},
		{name: "odc cpio", in: []byte("070707" + string(make([]byte, 200))), want: errBadCpio, wantFmt: "cpio"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			b, err := Append(bytes.NewReader(tc.in), &out, tc.opts...)
			if tc.want == nil && tc.wantFmt == "" {
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range tc.wantNames {
					if !b.existing[n] {
						t.Errorf("existing paths lack %s", n)
					}
				}
				if err := b.Close(); err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(out.Bytes(), tc.in) {
					t.Error("unreadable image not copied unchanged")
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			var se *SegmentError
			if tc.wantFmt != "" && (!errors.As(err, &se) || se.Format != tc.wantFmt || se.Offset != tc.wantAt) {
				t.Errorf("got %v, want a segment error for %s at %d", err, tc.wantFmt, tc.wantAt)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %d bytes after an error", out.Len())
			}
		})
	}
}

func FuzzScanImage(f *testing.F) {
	f.Add(microcode(f))
	f.Add(mainImage(f))
	f.Add(append(microcode(f), mainImage(f)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		names, err := scanImage(data, true)
		if err != nil {
			return
		}
		for n := range names {
			if n != cpio.Normalize(n) {
				t.Errorf("name %q not normalized", n)
			}
		}
	})
}
