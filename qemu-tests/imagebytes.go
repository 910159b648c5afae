package qemutests

import (
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// openISCSIPrograms are the names of open-iscsi's programs an image may hold: iscsistart in initramfs-tools'
// images and the busybox guest, iscsid, iscsiadm and iscsi-iname in dracut's.
var openISCSIPrograms = []string{"iscsistart", "iscsid", "iscsiadm", "iscsi-iname"}

// UnpackedImage is an initramfs unpacked on the host, to count what a login tool adds to it.
type UnpackedImage struct {
	// Root is the image's root directory: the main segment's, when the image has an early one (microcode).
	Root string
}

// UnpackImage extracts every segment of the initramfs img, whatever compressions it chains (cpio, gzip,
// zstd, xz: as Debian's unmkinitramfs reads them, from initramfs-tools), into dir.
func UnpackImage(ctx context.Context, img, dir string) (UnpackedImage, error) {
	if out, err := exec.CommandContext(ctx, "unmkinitramfs", img, dir).CombinedOutput(); err != nil {
		return UnpackedImage{}, fmt.Errorf("unmkinitramfs %s (scripts/deps.sh installs initramfs-tools): %w: %s",
			img, err, bytes.TrimSpace(out))
	}
	// unmkinitramfs puts the segments of an image with an early one into early/, early2/... and main/.
	if fi, err := os.Stat(filepath.Join(dir, "main")); err == nil && fi.IsDir() {
		return UnpackedImage{Root: filepath.Join(dir, "main")}, nil
	}
	return UnpackedImage{Root: dir}, nil
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

// gzip9 returns the size of r's bytes compressed with gzip -9.
func gzip9(r io.Reader) (int64, error) {
	var n countWriter
	zw, _ := gzip.NewWriterLevel(&n, gzip.BestCompression)
	if _, err := io.Copy(zw, r); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return int64(n), nil
}

type countWriter int64

func (c *countWriter) Write(b []byte) (int, error) {
	*c += countWriter(len(b))
	return len(b), nil
}
