package qemutests

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// openISCSIPrograms are the names of open-iscsi's programs an image may hold: iscsistart in initramfs-tools'
// images and the busybox guest, iscsid, iscsiadm and iscsi-iname in dracut's.
var openISCSIPrograms = []string{"iscsistart", "iscsid", "iscsiadm", "iscsi-iname"}

// UnpackedImage is an initramfs unpacked on the host, to count what a login tool adds to it.
type UnpackedImage struct {
	// Root is the image's root directory.
	Root string
}

// UnpackImage extracts the initramfs img into dir as the kernel does: every segment in turn into the same
// directory, uncompressed cpio archives (early microcode, u-root's image before iscsiboot-initramfs
// -append's segment) and then a compressed one (gzip, zstd or xz) holding archives of its own.
func UnpackImage(ctx context.Context, img, dir string) (UnpackedImage, error) {
	data, err := os.ReadFile(img)
	if err != nil {
		return UnpackedImage{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return UnpackedImage{}, err
	}
	if err := unpackSegments(ctx, data, dir, true); err != nil {
		return UnpackedImage{}, fmt.Errorf("unpack %s: %w", img, err)
	}
	return UnpackedImage{Root: dir}, nil
}

// unpackSegments extracts the cpio archives in data into dir, and, when compressed is true, the archives
// of a compressed stream after them.
func unpackSegments(ctx context.Context, data []byte, dir string, compressed bool) error {
	for off := 0; off < len(data); {
		rest := data[off:]
		switch {
		case rest[0] == 0: // padding between archives
			off++
		case bytes.HasPrefix(rest, []byte("07070")):
			n, err := newcLen(rest)
			if err != nil {
				return fmt.Errorf("cpio archive at byte %d: %w", off, err)
			}
			cmd := exec.CommandContext(ctx, "cpio", "-i", "-d", "--no-absolute-filenames", "--quiet")
			cmd.Dir, cmd.Stdin = dir, bytes.NewReader(rest[:n])
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("cpio -i of the archive at byte %d: %w: %s", off, err, bytes.TrimSpace(out))
			}
			off += n
		case compressed:
			var tool string
			switch {
			case bytes.HasPrefix(rest, []byte{0x1f, 0x8b}):
				tool = "gzip"
			case bytes.HasPrefix(rest, []byte{0x28, 0xb5, 0x2f, 0xfd}):
				tool = "zstd"
			case bytes.HasPrefix(rest, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
				tool = "xz"
			default:
				return fmt.Errorf("byte %d: neither a cpio archive nor gzip, zstd or xz: % x", off, rest[:min(len(rest), 6)])
			}
			cmd := exec.CommandContext(ctx, tool, "-d", "-c")
			cmd.Stdin = bytes.NewReader(rest)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			plain, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("%s -d of the segment at byte %d: %w: %s", tool, off, err, bytes.TrimSpace(stderr.Bytes()))
			}
			return unpackSegments(ctx, plain, dir, false)
		default:
			return fmt.Errorf("byte %d: not a cpio archive: % x", off, rest[:min(len(rest), 6)])
		}
	}
	return nil
}

// newcLen returns the length of the newc cpio archive at the start of b, up to the end of its TRAILER!!!
// entry and padding, as the kernel's usr/initramfs and unmkinitramfs walk it.
func newcLen(b []byte) (int, error) {
	const hdr = 110
	hex := func(off, n int) (int, error) {
		v, err := strconv.ParseUint(string(b[off:off+n]), 16, 32)
		return int(v), err
	}
	align := func(n int) int { return (n + 3) &^ 3 }
	for off := 0; ; {
		if len(b)-off < hdr || !bytes.HasPrefix(b[off:], []byte("07070")) {
			return 0, fmt.Errorf("no header at byte %d", off)
		}
		fsize, err := hex(off+54, 8)
		if err != nil {
			return 0, fmt.Errorf("header at byte %d: file size: %w", off, err)
		}
		nsize, err := hex(off+94, 8)
		if err != nil {
			return 0, fmt.Errorf("header at byte %d: name size: %w", off, err)
		}
		name := off + hdr
		data := align(name + nsize)
		end := align(data + fsize)
		if nsize < 1 || data > len(b) || end > len(b) && fsize > 0 {
			return 0, fmt.Errorf("entry at byte %d runs past the end", off)
		}
		if string(b[name:name+nsize-1]) == "TRAILER!!!" {
			return min(end, len(b)), nil
		}
		off = end
	}
}

// Gzip9Size is the size of the image's files as one cpio archive compressed with gzip -9, the same measure
// for images whose builders chose different compressors.
func (u UnpackedImage) Gzip9Size(ctx context.Context) (int64, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", "find . | LC_ALL=C sort | cpio -R 0:0 -o -H newc --quiet")
	cmd.Dir = u.Root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("cpio: %w", err)
	}
	n, cerr := gzip9(out)
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("cpio of %s: %w: %s", u.Root, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return n, cerr
}

// ToolBytes is what a login tool adds to an image.
type ToolBytes struct {
	// Files are the tool's own files and the shared libraries that only they load, relative to the root.
	Files []string
	// Raw is their size on disk, Gzip9 their size concatenated and compressed with gzip -9.
	Raw, Gzip9 int64
}

// ToolBytes counts the image's programs whose file names are among names (such as "iscsistart": builders
// put a tool in bin or sbin, and dracut strips what it copies, so neither path nor bytes are the host's),
// together with the shared libraries they load that no other program of the image loads: libraries that
// the image's other binaries (kmod, udevadm...) need are there without the tool. Libraries are found by
// running ldd on each program of the image. It fails when the image has no program of those names.
func (u UnpackedImage) ToolBytes(ctx context.Context, names ...string) (ToolBytes, error) {
	var mine, others []string
	err := filepath.WalkDir(u.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		prog, err := isProgram(p)
		if err != nil || !prog {
			return err
		}
		if slices.Contains(names, d.Name()) {
			mine = append(mine, p)
		} else {
			others = append(others, p)
		}
		return nil
	})
	if err != nil {
		return ToolBytes{}, fmt.Errorf("programs of %s: %w", u.Root, err)
	}
	if len(mine) == 0 {
		return ToolBytes{}, fmt.Errorf("%s has no program named %s", u.Root, strings.Join(names, ", "))
	}
	// Libraries are told apart by os.SameFile: a merged /usr reaches one file by two paths.
	var needed sameFiles
	for _, p := range others {
		libs, err := u.libs(ctx, p)
		if err != nil {
			return ToolBytes{}, err
		}
		for _, l := range libs {
			needed.add(l)
		}
	}
	files := slices.Clone(mine)
	for _, p := range mine {
		libs, err := u.libs(ctx, p)
		if err != nil {
			return ToolBytes{}, err
		}
		for _, l := range libs {
			if needed.add(l) {
				files = append(files, l)
			}
		}
	}
	tb := ToolBytes{}
	var all bytes.Buffer
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			return ToolBytes{}, err
		}
		all.Write(b)
		tb.Raw += int64(len(b))
		rel, _ := filepath.Rel(u.Root, p)
		tb.Files = append(tb.Files, "/"+rel)
	}
	tb.Gzip9, err = gzip9(&all)
	return tb, err
}

// libs returns the image's copies of the libraries ldd names for the program p. ldd resolves them on the
// host; an image keeps a library at its host path, or at the other side of Debian's merged /usr.
func (u UnpackedImage) libs(ctx context.Context, p string) ([]string, error) {
	host, err := sharedLibs(ctx, p)
	if err != nil {
		return nil, err
	}
	var libs []string
	for _, h := range host {
		alt := "/usr" + h
		if rest, ok := strings.CutPrefix(h, "/usr"); ok {
			alt = rest
		}
		for _, c := range []string{h, alt} {
			if _, err := os.Stat(filepath.Join(u.Root, c)); err == nil {
				// Links resolved inside the image: an absolute one must not reach the host's file.
				libs = append(libs, u.resolve(c))
				break
			}
		}
	}
	return libs, nil
}

// resolve follows the symbolic links of the image path p (absolute links point into the image), at most
// 40 of them as the kernel does, and returns the host path of the file. Links among the directories are
// left to the host: images make them relative (lib -> usr/lib).
func (u UnpackedImage) resolve(p string) string {
	for range 40 {
		hp := filepath.Join(u.Root, p)
		t, err := os.Readlink(hp)
		if err != nil {
			return hp
		}
		if filepath.IsAbs(t) {
			p = t
		} else {
			p = filepath.Join(filepath.Dir(p), t)
		}
	}
	return filepath.Join(u.Root, p)
}

// isProgram reports whether p is an ELF executable: one with a program interpreter, or a static one.
// Shared libraries (libc.so.6 has an interpreter too) and kernel modules are not.
func isProgram(p string) (bool, error) {
	base := filepath.Base(p)
	if strings.HasSuffix(base, ".so") || strings.Contains(base, ".so.") || strings.HasSuffix(base, ".ko") {
		return false, nil
	}
	f, err := elf.Open(p)
	if err != nil {
		// Not an ELF file: scripts, configuration, data.
		return false, nil
	}
	defer f.Close()
	if f.Type == elf.ET_EXEC {
		return true, nil
	}
	for _, pr := range f.Progs {
		if pr.Type == elf.PT_INTERP {
			return true, nil
		}
	}
	return false, nil
}

// sameFiles is a set of files, each however many paths reach it.
type sameFiles []os.FileInfo

// add puts the file p in the set and reports whether it was new. A file that cannot be read is new.
func (s *sameFiles) add(p string) bool {
	fi, err := os.Stat(p)
	if err != nil {
		return true
	}
	for _, o := range *s {
		if os.SameFile(o, fi) {
			return false
		}
	}
	*s = append(*s, fi)
	return true
}

// gzip9 returns the size of r's bytes compressed by GNU gzip -9 (-n: no name or time stamp), the compressor
// a distribution's mkinitramfs runs. Go's compress/gzip at BestCompression writes 1.7 % more for our binary,
// so "gzip -9" here is the real command, which Debian always has (package gzip is Essential).
func gzip9(r io.Reader) (int64, error) {
	var n countWriter
	cmd := exec.Command("gzip", "-9", "-n", "-c")
	cmd.Stdin = r
	cmd.Stdout = &n
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("gzip -9: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return int64(n), nil
}

type countWriter int64

func (c *countWriter) Write(b []byte) (int, error) {
	*c += countWriter(len(b))
	return len(b), nil
}
