package initramfs

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/iscsiboot/iscsiboot/internal/modlist"
	"github.com/u-root/u-root/pkg/cpio"
)

// dirMode is the mode of directories the builder creates because a file
// below them was added. u-root's WriteRecordsAndDirs would make them 0777,
// which in a root file system means anyone may replace /sbin/init.
const dirMode = 0o755

// Builder collects files and writes them as one newc cpio archive segment.
// The output depends only on what was added, not on the order of the calls,
// the clock, or the owner of the source files: entries are sorted by path,
// owned by root, and have zero mtimes.
type Builder struct {
	w   io.Writer
	cfg config

	entries map[string]entry
	// existing holds the paths an appended-to image already has; parent
	// directories found there are not written again, because a directory
	// record would make the kernel replace a symlink such as lib -> usr/lib.
	existing map[string]bool

	prefix  []byte           // the image Append extends, written before the archive
	modules []modlist.Module // modules by image path, in load order, each with those it needs first
	modSeen map[string]bool
	closed  bool
}

type entry struct {
	mode     uint64 // cpio S_IF* type bits and permissions
	data     []byte // file contents or symlink target
	rmajor   uint64
	rminor   uint64
	implicit bool // a parent directory nobody asked for
}

type config struct {
	level      int
	compress   bool
	allowBlind bool
}

// Option configures a Builder.
type Option func(*config)

// GzipLevel sets the gzip compression level (gzip.BestSpeed to
// gzip.BestCompression). The default is gzip.BestCompression: the image is
// built once and read at every boot.
func GzipLevel(level int) Option {
	return func(c *config) { c.level = level }
}

// Uncompressed writes a plain cpio archive, as for CONFIG_INITRAMFS_SOURCE or
// for a boot loader that compresses on its own.
func Uncompressed() Option {
	return func(c *config) { c.compress = false }
}

// AllowUnreadable lets Append accept an existing image with a segment it
// cannot decode (xz, zstd, lz4, ...). Such a segment and everything after it
// are copied unread; the kernel decompresses them at boot. Without this
// option Append returns ErrUnreadableSegment, because the image cannot be
// checked.
func AllowUnreadable() Option {
	return func(c *config) { c.allowBlind = true }
}

// New returns a Builder that writes its archive to w when closed.
func New(w io.Writer, opts ...Option) *Builder {
	cfg := config{level: gzip.BestCompression, compress: true}
	for _, o := range opts {
		o(&cfg)
	}
	return &Builder{
		w:        w,
		cfg:      cfg,
		entries:  make(map[string]entry),
		existing: make(map[string]bool),
		modSeen:  make(map[string]bool),
	}
}

// cleanPath turns an image path ("/sbin/iscsistart") into the relative,
// clean form cpio records use ("sbin/iscsistart").
func cleanPath(dst string) (string, error) {
	p := cpio.Normalize(dst)
	if p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("%q: %w", dst, errBadPath)
	}
	return p, nil
}

// add records e at dst and the directories above it. Adding the same thing
// twice is allowed (two module lists may share dependencies); adding
// something different at the same path is an error rather than a silent
// choice between them.
func (b *Builder) add(dst string, e entry) error {
	if b.closed {
		return errClosed
	}
	p, err := cleanPath(dst)
	if err != nil {
		return err
	}
	if old, ok := b.entries[p]; ok {
		switch {
		case e.implicit && old.mode&cpio.S_IFMT == cpio.S_IFDIR:
			return nil // it and its parents are there already
		case old.implicit && e.mode&cpio.S_IFMT == cpio.S_IFDIR:
			// An explicit directory sets the mode of one made implicitly.
		case old.mode != e.mode || !bytes.Equal(old.data, e.data) || old.rmajor != e.rmajor || old.rminor != e.rminor:
			return fmt.Errorf("%s: %w", dst, errConflict)
		}
	}
	b.entries[p] = e
	if d := path.Dir(p); d != "." {
		return b.add(d, entry{mode: cpio.S_IFDIR | dirMode, implicit: true})
	}
	return nil
}

// AddBytes adds a regular file with the given contents and permissions.
func (b *Builder) AddBytes(dst string, data []byte, mode os.FileMode) error {
	return b.add(dst, entry{mode: cpio.S_IFREG | permBits(mode), data: data})
}

// AddFile adds the regular file src at dst, with the permissions of src.
// Symlinks are followed: the image gets the file, not the link.
func (b *Builder) AddFile(dst, src string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("add file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("add file: %s: %w", src, errNotRegular)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("add file: %w", err)
	}
	return b.AddBytes(dst, data, fi.Mode())
}

// AddDir adds a directory with the given permissions.
func (b *Builder) AddDir(dst string, mode os.FileMode) error {
	return b.add(dst, entry{mode: cpio.S_IFDIR | permBits(mode)})
}

// AddSymlink adds a symbolic link at dst pointing to target.
func (b *Builder) AddSymlink(dst, target string) error {
	return b.add(dst, entry{mode: cpio.S_IFLNK | 0o777, data: []byte(target)})
}

// AddCharDev adds a character device node, such as /dev/console (5, 1),
// which the kernel opens for init before any devtmpfs is mounted.
func (b *Builder) AddCharDev(dst string, mode os.FileMode, major, minor uint32) error {
	return b.add(dst, entry{mode: cpio.S_IFCHR | permBits(mode), rmajor: uint64(major), rminor: uint64(minor)})
}

// permBits turns Go's permission and special bits into the cpio ones: the
// sticky bit on /tmp must survive.
func permBits(m os.FileMode) uint64 {
	b := uint64(m.Perm())
	if m&os.ModeSetuid != 0 {
		b |= cpio.S_ISUID
	}
	if m&os.ModeSetgid != 0 {
		b |= cpio.S_ISGID
	}
	if m&os.ModeSticky != 0 {
		b |= cpio.S_ISVTX
	}
	return b
}

// records returns the archive entries in path order. Sorting puts every
// directory before what it contains, which the kernel needs: it does not
// create missing parents.
func (b *Builder) records() []cpio.Record {
	names := make([]string, 0, len(b.entries))
	for name, e := range b.entries {
		if e.implicit && b.existing[name] {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	recs := make([]cpio.Record, 0, len(names))
	for i, name := range names {
		e := b.entries[name]
		info := cpio.Info{
			// Distinct inode numbers with one link each: nothing is a hard
			// link, whatever the numbers in other segments.
			Ino:    uint64(i + 1),
			Mode:   e.mode,
			NLink:  1,
			Rmajor: e.rmajor,
			Rminor: e.rminor,
			Name:   name,
		}
		var r cpio.Record
		if e.mode&cpio.S_IFMT == cpio.S_IFDIR || e.mode&cpio.S_IFMT == cpio.S_IFCHR {
			r = cpio.Record{Info: info}
		} else {
			r = cpio.StaticRecord(e.data, info)
		}
		recs = append(recs, r)
	}
	cpio.MakeAllReproducible(recs)
	return recs
}

// Close adds the module list, writes the archive and its trailer, and
// finishes the compression. It does not close the underlying writer.
func (b *Builder) Close() error {
	if b.closed {
		return errClosed
	}
	if len(b.modules) > 0 {
		if err := b.AddBytes(ModuleListPath, modlist.Format(b.modules), 0o644); err != nil {
			return fmt.Errorf("module list: %w", err)
		}
	}
	b.closed = true

	if _, err := b.w.Write(b.prefix); err != nil {
		return fmt.Errorf("write existing image: %w", err)
	}
	out := b.w
	var zw *gzip.Writer
	if b.cfg.compress {
		var err error
		// The gzip header carries no name and a zero mtime, so the bytes
		// depend on the contents alone.
		zw, err = gzip.NewWriterLevel(b.w, b.cfg.level)
		if err != nil {
			return fmt.Errorf("gzip level %d: %w", b.cfg.level, err)
		}
		out = zw
	}
	rw := cpio.Newc.Writer(out)
	if err := cpio.WriteRecords(rw, b.records()); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	if err := cpio.WriteTrailer(rw); err != nil {
		return fmt.Errorf("write archive trailer: %w", err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fmt.Errorf("finish gzip: %w", err)
		}
	}
	return nil
}
