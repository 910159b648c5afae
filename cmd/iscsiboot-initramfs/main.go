// iscsiboot-initramfs builds an initramfs with the iscsiboot binary and the
// kernel modules an iSCSI boot needs, or adds them to an existing one.
//
// Synopsis:
//
//	iscsiboot-initramfs -o FILE -binary PATH [OPTIONS]
//
// Description:
//
//	The image is a gzip-compressed newc cpio archive (-compress says
//	otherwise), identical for identical inputs. The binary is installed
//	as /sbin/iscsistart. The modules named by -modules are added with
//	everything they depend on (from modules.dep; crc32c whenever
//	iscsi_tcp is there), under /lib/modules/KVER, and listed in load
//	order in /etc/iscsiboot/modules.
//
//	With -init the binary is also /init, and the image boots on its own:
//	it loads the modules, logs in and switches to root=. Without -init the
//	image is for an initramfs that has its own init (dracut,
//	initramfs-tools), usually together with -append.
//
// Options:
//
//	-o FILE            write the image to FILE (required)
//	-binary PATH       the iscsiboot binary (required, but with -append
//	                   to an image that has it, such as u-root's)
//	-init              also install the binary as /init
//	-kernel-dir DIR    root of the tree holding lib/modules/KVER (default /)
//	-kver VER          kernel version (default: the running kernel's)
//	-modules LIST      comma-separated modules or aliases
//	                   (default iscsi_tcp,sd_mod; add the NIC driver;
//	                   "" for none)
//	-append FILE       copy the image FILE first and add a segment after it
//	-append-unreadable with -append, accept xz/zstd/lz4 segments unread
//	-file SRC:DST      also add the file SRC at DST; may be repeated
//	-mode PERM         the image's permissions, in octal (default: see below)
//	-compress NAME     gzip (default, built in), zstd or xz (run as the
//	                   host's zstd or xz command, as mkinitramfs does; the
//	                   kernel needs CONFIG_RD_ZSTD or CONFIG_RD_XZ), or
//	                   none; not with -append
//
// Permissions:
//
//	An image is never made more readable than what it is built from: with
//	-append it takes the mode of the image FILE, and with -file (which may
//	add secrets, such as CHAP passwords) at most 0600; a new image without
//	-file is 0644. When -o replaces an existing file, the image is not
//	more readable than that file either. -mode sets the mode outright.
//
// Example:
//
//	iscsiboot-initramfs -o initrd.img -binary iscsiboot -init \
//	    -modules iscsi_tcp,sd_mod,virtio_net,virtio_pci
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/iscsiboot/iscsiboot/initramfs"
)

const name = "iscsiboot-initramfs"

// fileList collects repeated -file SRC:DST flags.
type fileList [][2]string

func (f *fileList) String() string {
	var s []string
	for _, p := range *f {
		s = append(s, p[0]+":"+p[1])
	}
	return strings.Join(s, ",")
}

func (f *fileList) Set(v string) error {
	src, dst, ok := strings.Cut(v, ":")
	if !ok || src == "" || !strings.HasPrefix(dst, "/") {
		return fmt.Errorf("want SRC:/DST, got %q", v)
	}
	*f = append(*f, [2]string{src, dst})
	return nil
}

// modeValue is -mode: permission bits in octal.
type modeValue struct {
	mode os.FileMode
	set  bool
}

func (m *modeValue) String() string {
	if !m.set {
		return ""
	}
	return fmt.Sprintf("%#o", m.mode)
}

func (m *modeValue) Set(v string) error {
	n, err := strconv.ParseUint(strings.TrimPrefix(v, "0o"), 8, 32)
	if err != nil || n > 0o777 {
		return fmt.Errorf("want permission bits in octal, 0 to 0777")
	}
	m.mode, m.set = os.FileMode(n), true
	return nil
}

type options struct {
	out, binary, kernelDir, kver, modules, appendTo, compress string
	init, appendUnreadable                                    bool
	files                                                     fileList
	mode                                                      modeValue
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.out, "o", "", "write the image to `FILE` (required)")
	fs.StringVar(&o.binary, "binary", "", "the iscsiboot binary, installed as /sbin/iscsistart (required unless -append's image has it)")
	fs.BoolVar(&o.init, "init", false, "also install the binary as /init, for an image without another init")
	fs.StringVar(&o.kernelDir, "kernel-dir", "/", "root of the tree holding lib/modules/KVER")
	fs.StringVar(&o.kver, "kver", "", "kernel `version` (default: the running kernel's)")
	fs.StringVar(&o.modules, "modules", "iscsi_tcp,sd_mod", "comma-separated kernel modules or aliases, with their dependencies; add the NIC driver")
	fs.StringVar(&o.appendTo, "append", "", "extend the existing image `FILE` (its segments are copied, ours follows)")
	fs.BoolVar(&o.appendUnreadable, "append-unreadable", false, "with -append, accept xz/zstd/lz4 segments without reading them")
	fs.StringVar(&o.compress, "compress", "gzip", "the image's `compression`: "+compressNames)
	fs.Var(&o.files, "file", "also add `SRC:DST`; may be repeated")
	fs.Var(&o.mode, "mode", "the image's permissions in octal (default: those of the -append image, 0600 with -file, else 0644; never wider than the file -o replaces)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s -o FILE -binary PATH [-init] [-modules LIST] [-kernel-dir DIR] [-kver VER] [-append FILE] [-file SRC:DST ...] [-mode PERM] [-compress gzip|zstd|xz|none]\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.out == "":
		return o, errors.New("-o: missing output file")
	case o.binary == "" && o.appendTo == "":
		return o, errors.New("-binary: missing the iscsiboot binary")
	case o.binary == "" && o.init:
		return o, errors.New("-init: needs -binary")
	case o.appendUnreadable && o.appendTo == "":
		return o, errors.New("-append-unreadable: needs -append")
	case o.compress != "gzip" && o.compress != "none" && compressors[o.compress].argv == nil:
		return o, fmt.Errorf("-compress %q: want %s", o.compress, compressNames)
	case o.compress != "gzip" && o.appendTo != "":
		return o, fmt.Errorf("-compress %s: -append writes gzip only", o.compress)
	}
	return o, nil
}

// Image modes when -mode is not given.
const (
	defaultMode  os.FileMode = 0o644 // a new image of the binary and modules, as boot loaders' files are
	userFileMode os.FileMode = 0o600 // at most, for an image holding -file content
)

// imageMode is the mode the image gets: -mode if given; else that of the
// image it appends to (src), or defaultMode for a new one; at most
// userFileMode when it holds -file content; and never more than that of the
// file it replaces (old). src and old are nil when there is none.
func imageMode(o options, src, old os.FileInfo) os.FileMode {
	if o.mode.set {
		return o.mode.mode
	}
	m := defaultMode
	if src != nil {
		m = src.Mode().Perm()
	}
	if len(o.files) > 0 {
		m &= userFileMode
	}
	if old != nil && old.Mode().IsRegular() {
		m &= old.Mode().Perm()
	}
	return m
}

// runningKernel returns the version of the kernel we run on, as uname -r.
func runningKernel() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "", fmt.Errorf("running kernel version (give -kver): %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.kver == "" {
		if o.kver, err = runningKernel(); err != nil {
			return err
		}
	}
	var mods []string
	for _, m := range strings.Split(o.modules, ",") {
		if m = strings.TrimSpace(m); m != "" {
			mods = append(mods, m)
		}
	}

	// Write next to the output and rename at the end, so that a failed
	// build never leaves a half image where the boot loader looks, and
	// -append may name the output itself.
	tmp, err := os.CreateTemp(filepath.Dir(o.out), "."+filepath.Base(o.out)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	var b *initramfs.Builder
	var src os.FileInfo
	finish := func() error { return nil } // waits for -compress's command
	if o.appendTo != "" {
		f, err := os.Open(o.appendTo)
		if err != nil {
			return fmt.Errorf("-append: %w", err)
		}
		if src, err = f.Stat(); err != nil {
			f.Close()
			return fmt.Errorf("-append: %w", err)
		}
		var opts []initramfs.Option
		if o.appendUnreadable {
			opts = append(opts, initramfs.AllowUnreadable())
		}
		b, err = initramfs.Append(f, tmp, opts...)
		f.Close()
		if err != nil {
			return fmt.Errorf("-append %s: %w", o.appendTo, err)
		}
	} else {
		var opts []initramfs.Option
		var w io.Writer = tmp
		if o.compress != "gzip" {
			opts = append(opts, initramfs.Uncompressed())
		}
		if c := compressors[o.compress]; c.argv != nil {
			in, wait, err := pipeCompressor(ctx, o.compress, tmp)
			if err != nil {
				return err
			}
			finished := false
			defer func() {
				// An early return: the command sees the end of its
				// input and exits; its result no longer matters.
				if !finished {
					in.Close()
					wait()
				}
			}()
			w = in
			finish = func() error {
				finished = true
				if err := in.Close(); err != nil {
					wait()
					return err
				}
				return wait()
			}
		}
		b = initramfs.New(w, opts...)
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	// Without -binary, -append adds modules to an image that has the
	// command already (a u-root image with it in its busybox).
	if o.binary != "" {
		if err := b.AddFile("/sbin/iscsistart", o.binary); err != nil {
			return fmt.Errorf("-binary: %w", err)
		}
	}
	if o.init {
		// The kernel opens /dev/console for init before anything is
		// mounted; without the node, init has no output at all.
		if err := b.AddSymlink("/init", "/sbin/iscsistart"); err != nil {
			return fmt.Errorf("-init: %w", err)
		}
		if err := b.AddCharDev("/dev/console", 0o600, 5, 1); err != nil {
			return fmt.Errorf("-init: %w", err)
		}
	}
	for _, f := range o.files {
		if err := b.AddFile(f[1], f[0]); err != nil {
			return fmt.Errorf("-file %s:%s: %w", f[0], f[1], err)
		}
	}
	var loaded []string
	if len(mods) > 0 {
		if loaded, err = b.AddModules(o.kernelDir, o.kver, mods...); err != nil {
			return fmt.Errorf("-modules: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.Close(); err != nil {
		return err
	}
	if err := finish(); err != nil {
		return err
	}
	old, _ := os.Stat(o.out) // none yet: nothing to stay within
	if err := tmp.Chmod(imageMode(o, src, old)); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), o.out); err != nil {
		return err
	}
	fi, err := os.Stat(o.out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d bytes, kernel %s, %d modules: %s\n", o.out, fi.Size(), o.kver, len(loaded), strings.Join(loaded, " "))
	return nil
}

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	default:
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}
