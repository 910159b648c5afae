package initramfs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/u-root/u-root/pkg/cpio"
)

// Append returns a Builder whose Close writes the image existing, unchanged,
// followed by a new archive segment with the files added to the Builder. The
// kernel unpacks the segments in order, so the new files replace old ones
// with the same path. Nothing is written before Close.
//
// existing may be several concatenated segments (an uncompressed early
// microcode archive followed by the main one is common), each a newc cpio
// archive, uncompressed or gzip-compressed. Append reads them all to check
// that the image is an initramfs and to learn its paths: directories it
// already has, or has as symlinks (lib -> usr/lib), are not written again.
// A segment in another format is an ErrUnreadableSegment, unless the
// AllowUnreadable option is given.
func Append(existing io.Reader, w io.Writer, opts ...Option) (*Builder, error) {
	data, err := io.ReadAll(existing)
	if err != nil {
		return nil, fmt.Errorf("append: read existing image: %w", err)
	}
	b := New(w, opts...)
	names, err := scanImage(data, b.cfg.allowBlind)
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	b.existing = names
	// Zero bytes between segments are skipped by the kernel; they keep the
	// new segment 4-byte aligned, as the kernel wants cpio headers.
	b.prefix = append(data, make([]byte, (4-len(data)%4)%4)...)
	return b, nil
}

// Segment formats, by their leading bytes.
var magics = []struct {
	name  string
	magic []byte
}{
	{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0}},
	{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}},
	{"lz4", []byte{0x02, 0x21, 0x4c, 0x18}},
	{"bzip2", []byte("BZh")},
	{"lzo", []byte{0x89, 'L', 'Z', 'O'}},
	{"lzma", []byte{0x5d, 0, 0}},
}

// scanImage walks the segments of an initramfs image as the kernel's
// unpack_to_rootfs does (cpio archives, compressed streams, zero padding
// between them) and returns the paths it holds. With allowBlind, it stops
// without error at the first segment it cannot decode.
func scanImage(data []byte, allowBlind bool) (map[string]bool, error) {
	names := make(map[string]bool)
	segments := 0
	for off := 0; off < len(data); {
		rest := data[off:]
		switch {
		case rest[0] == 0:
			off++
			continue
		case bytes.HasPrefix(rest, []byte("07070")):
			r := bytes.NewReader(rest)
			if err := readNewc(r, names); err != nil {
				return nil, &SegmentError{Offset: int64(off), Format: "cpio", Err: err}
			}
			off += len(rest) - r.Len()
		case bytes.HasPrefix(rest, []byte{0x1f, 0x8b}):
			r := bytes.NewReader(rest)
			if err := readGzip(r, names); err != nil {
				return nil, &SegmentError{Offset: int64(off), Format: "gzip", Err: err}
			}
			// bytes.Reader is an io.ByteReader, so gzip reads no further
			// than its stream's end and the rest is the next segment.
			off += len(rest) - r.Len()
		default:
			format := "unknown"
			for _, m := range magics {
				if bytes.HasPrefix(rest, m.magic) {
					format = m.name
				}
			}
			if format == "unknown" {
				return nil, &SegmentError{Offset: int64(off), Format: format, Err: errNotInitramfs}
			}
			if allowBlind {
				return names, nil
			}
			return nil, &SegmentError{Offset: int64(off), Format: format, Err: ErrUnreadableSegment}
		}
		segments++
	}
	if segments == 0 {
		return nil, fmt.Errorf("empty image: %w", errNotInitramfs)
	}
	return names, nil
}

// readGzip decompresses one gzip stream and reads the cpio archives in it.
func readGzip(r *bytes.Reader, names map[string]bool) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	zr.Multistream(false)
	br := bufio.NewReader(zr)
	for {
		c, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if c == 0 {
			continue
		}
		if err := br.UnreadByte(); err != nil {
			return err
		}
		if err := readNewc(br, names); err != nil {
			return err
		}
	}
}

// newcHeaderLen is the size of a newc header: the 6-byte magic and 13
// fields of 8 hex digits (see the kernel's
// Documentation/driver-api/early-userspace/buffer-format.rst).
const newcHeaderLen = 6 + 13*8

// maxNameLen bounds a record's name as the kernel's PATH_MAX does.
const maxNameLen = 4096

// readNewc reads one newc archive from r, up to and including its trailer,
// and records the paths in names. It reads the format itself rather than
// through cpio.Newc.Reader, which needs the whole decompressed segment in
// memory as an io.ReaderAt.
func readNewc(r io.Reader, names map[string]bool) error {
	var pos int64
	skip := func(n int64) error {
		m, err := io.CopyN(io.Discard, r, n)
		pos += m
		if err != nil {
			return fmt.Errorf("%w: truncated at %d: %w", errBadCpio, pos, io.ErrUnexpectedEOF)
		}
		return nil
	}
	pad := func() error { return skip((4 - pos%4) % 4) }
	var hdr [newcHeaderLen]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return fmt.Errorf("%w: header at %d: %w", errBadCpio, pos, io.ErrUnexpectedEOF)
		}
		if m := string(hdr[:6]); m != "070701" && m != "070702" {
			return fmt.Errorf("%w: magic %q at %d", errBadCpio, m, pos)
		}
		var f [13]uint64
		for i := range f {
			s := string(hdr[6+8*i : 14+8*i])
			v, err := strconv.ParseUint(s, 16, 32)
			if err != nil {
				return fmt.Errorf("%w: header field %d %q at %d", errBadCpio, i, s, pos)
			}
			f[i] = v
		}
		pos += newcHeaderLen
		fileSize, nameSize := int64(f[6]), int64(f[11])
		if nameSize < 1 || nameSize > maxNameLen {
			return fmt.Errorf("%w: name size %d at %d", errBadCpio, nameSize, pos)
		}
		name := make([]byte, nameSize)
		if _, err := io.ReadFull(r, name); err != nil {
			return fmt.Errorf("%w: name at %d: %w", errBadCpio, pos, io.ErrUnexpectedEOF)
		}
		pos += nameSize
		if name[nameSize-1] != 0 {
			return fmt.Errorf("%w: name %q at %d has no NUL", errBadCpio, name, pos)
		}
		if err := pad(); err != nil {
			return err
		}
		n := string(name[:nameSize-1])
		if n == cpio.Trailer {
			return nil
		}
		names[cpio.Normalize(n)] = true
		if err := skip(fileSize); err != nil {
			return err
		}
		if err := pad(); err != nil {
			return err
		}
	}
}
