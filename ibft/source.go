package ibft

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Kinds of Source, in the order Load tries them.
const (
	SourceACPI    = "acpi"       // /sys/firmware/acpi/tables/{iBFT,IBFT,BIFT}
	SourceMemory  = "memory"     // the legacy scan of /dev/mem
	SourceSysfs   = "sysfs"      // /sys/firmware/ibft, the kernel's parsed view
	SourceOffload = "iscsi_boot" // /sys/firmware/iscsi_boot*, offload HBAs
	SourceFile    = "file"       // a file the caller named (ReadFile)
)

// Source says where a table came from, so callers can report it.
type Source struct {
	Kind   string // one of the Source* constants
	Path   string // the file or directory read, as seen under the root
	Offset int64  `json:",omitempty"` // physical address, for SourceMemory
}

func (s Source) String() string {
	if s.Kind == SourceMemory && s.Offset != 0 {
		return fmt.Sprintf("%s %s at 0x%x", s.Kind, s.Path, s.Offset)
	}
	return s.Kind + " " + s.Path
}

// The legacy scan window (iBFT 1.03; Linux's find_ibft_region): on BIOS machines the
// table sits on a 16-byte boundary between 512 KiB and 1 MiB.
const (
	scanStart = 0x80000
	scanEnd   = 0x100000
	scanStep  = 16
)

// Option configures Load.
type Option func(*loader)

type loader struct {
	root string
	mem  io.ReaderAt
}

// WithRoot makes Load read every path under dir instead of "/", so tests run
// on a fake tree.
func WithRoot(dir string) Option { return func(l *loader) { l.root = dir } }

// WithMemory makes the legacy scan read physical memory from r (indexed by
// physical address) instead of <root>/dev/mem.
func WithMemory(r io.ReaderAt) Option { return func(l *loader) { l.mem = r } }

// Load finds the iBFT on this machine, trying in order: the ACPI tables in
// sysfs, the legacy low-memory scan through /dev/mem, the kernel's
// /sys/firmware/ibft view and offload HBAs' /sys/firmware/iscsi_boot*. The
// table's Source says which one answered. When none does, the error is a
// *SourceError listing every attempt and wrapping ErrNotFound.
func Load(ctx context.Context, opts ...Option) (*Table, error) {
	l := &loader{root: "/"}
	for _, o := range opts {
		o(l)
	}
	var tried []Attempt
	steps := []func(context.Context) (*Table, []Attempt){l.acpi, l.memory, l.sysfs, l.offload}
	corruptRaw := false
	for i, step := range steps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("ibft: load: %w", err)
		}
		// /sys/firmware/ibft is the kernel's reading of the same raw
		// table: when that table is corrupt, the kernel's view is
		// whatever part of it survived (a target without its NIC, say),
		// and booting from it would hide the corruption. Offload HBAs'
		// iscsi_boot tables are another source and still count.
		if i == 2 && corruptRaw {
			continue
		}
		t, a := step(ctx)
		tried = append(tried, a...)
		if t != nil {
			return t, nil
		}
		corruptRaw = corruptRaw || firstCorrupt(a) != nil
	}
	return nil, &SourceError{Tried: tried}
}

// MaxTableLen is the largest table Parse, ReadFile and Load accept. Every
// string offset in an iBFT is 16 bits wide, so no table needs more; real
// ones are a few KiB (edk2's IBFT_MAX_SIZE is 4096).
const MaxTableLen = 64 << 10

// maxAttrLen bounds one sysfs attribute: the kernel prints each into one
// page, and the longest an iBFT string may be is far below it.
const maxAttrLen = 4 << 10

// readLimited reads at most limit bytes of the file at path, so that a
// path naming /dev/zero, a pipe or a huge file cannot fill the memory of
// an initramfs. A longer file is an error wrapping errFileSize.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errFileSize
	}
	return b, nil
}

// readTable reads a raw table file for ReadFile and the ACPI source; one
// larger than MaxTableLen is a corrupt table (a *FormatError).
func readTable(path string) ([]byte, error) {
	b, err := readLimited(path, MaxTableLen)
	if errors.Is(err, errFileSize) {
		return nil, &FormatError{Structure: "file", Field: "size", Value: fmt.Sprintf("more than %d bytes", MaxTableLen), Want: fmt.Sprintf("<= %d bytes", MaxTableLen), Err: errTableSize}
	}
	return b, err
}

// ReadFile parses a raw table from a file, as "iscsistart -f --ibft FILE"
// does. A file larger than MaxTableLen is refused after reading
// MaxTableLen+1 bytes.
func ReadFile(path string) (*Table, error) {
	b, err := readTable(path)
	var fe *FormatError
	if errors.As(err, &fe) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("ibft: read table: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.Source = Source{Kind: SourceFile, Path: path}
	return t, nil
}

func (l *loader) path(p string) string { return filepath.Join(l.root, p) }

func (l *loader) acpi(context.Context) (*Table, []Attempt) {
	var tried []Attempt
	for _, sig := range Signatures {
		p := "/sys/firmware/acpi/tables/" + sig
		src := Source{Kind: SourceACPI, Path: p}
		b, err := readTable(l.path(p))
		if err != nil {
			tried = append(tried, Attempt{Source: src, Err: notFound(err)})
			continue
		}
		t, err := Parse(b)
		if err != nil {
			tried = append(tried, Attempt{Source: src, Err: err})
			continue
		}
		t.Source = src
		return t, tried
	}
	return nil, tried
}

func (l *loader) memory(ctx context.Context) (*Table, []Attempt) {
	src := Source{Kind: SourceMemory, Path: "/dev/mem"}
	mem := l.mem
	if mem == nil {
		f, err := os.Open(l.path("/dev/mem"))
		if err != nil {
			return nil, []Attempt{{Source: src, Err: notFound(err)}}
		}
		defer f.Close()
		mem = f
	}
	t, off, err := Scan(ctx, mem)
	src.Offset = off
	if err != nil {
		return nil, []Attempt{{Source: src, Err: err}}
	}
	t.Source = src
	return t, nil
}

// Scan looks for a table in the legacy window of physical memory read
// through mem (indexed by physical address) and returns the first candidate
// that parses, with its address. A signature whose table fails to parse is
// skipped, since stray bytes in option ROM space can spell "iBFT"; if no
// candidate parses, the first candidate's error is returned with its
// address.
func Scan(ctx context.Context, mem io.ReaderAt) (*Table, int64, error) {
	buf := make([]byte, scanEnd-scanStart)
	n, err := mem.ReadAt(buf, scanStart)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, fmt.Errorf("ibft: read memory at 0x%x: %w", scanStart, err)
	}
	buf = buf[:n]
	if n < HeaderLen {
		return nil, 0, fmt.Errorf("read %d bytes at 0x%x: %w", n, scanStart, errNoSignature)
	}
	var (
		first    error
		firstOff int64
	)
	for off := 0; off+HeaderLen <= len(buf); off += scanStep {
		if off%(64<<10) == 0 {
			if err := ctx.Err(); err != nil {
				return nil, 0, fmt.Errorf("ibft: scan memory: %w", err)
			}
		}
		if !hasSignature(buf[off:]) {
			continue
		}
		t, err := Parse(buf[off:])
		if err != nil {
			if first == nil {
				first, firstOff = err, int64(scanStart+off)
			}
			continue
		}
		return t, int64(scanStart + off), nil
	}
	if first != nil {
		return nil, firstOff, first
	}
	return nil, 0, fmt.Errorf("0x%x-0x%x: %w", scanStart, scanStart+len(buf), errNoSignature)
}

func hasSignature(b []byte) bool {
	for _, s := range Signatures {
		if bytes.HasPrefix(b, []byte(s)) {
			return true
		}
	}
	return false
}

// notFound shortens the common "no such file" so the summary of attempts
// reads cleanly; other errors (permissions, I/O) pass through in full.
func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return errAbsent
	}
	return err
}
