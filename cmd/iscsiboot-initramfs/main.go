// iscsiboot-initramfs builds an initramfs with the iscsiboot binary and the
// kernel modules an iSCSI boot needs, or adds them to an existing one.
//
// Synopsis:
//
//	iscsiboot-initramfs -o FILE -binary PATH [OPTIONS]
//
// Description:
//
//	The image is a gzip-compressed newc cpio archive, identical for
//	identical inputs. The binary is installed as /sbin/iscsistart. The
//	modules named by -modules are added with everything they depend on
//	(from modules.dep; crc32c whenever iscsi_tcp is there), under
//	/lib/modules/KVER, and listed in load order in /etc/iscsiboot/modules.
//
//	With -init the binary is also /init, and the image boots on its own:
//	it loads the modules, logs in and switches to root=. Without -init the
//	image is for an initramfs that has its own init (dracut,
//	initramfs-tools), usually together with -append.
//
// Options:
//
//	-o FILE            write the image to FILE (required)
//	-binary PATH       the iscsiboot binary (required)
//	-init              also install the binary as /init
//	-kernel-dir DIR    root of the tree holding lib/modules/KVER (default /)
//	-kver VER          kernel version (default: the running kernel's)
//	-modules LIST      comma-separated modules or aliases
//	                   (default iscsi_tcp,sd_mod; add the NIC driver;
//	                   "" for none)
//	-append FILE       copy the image FILE first and add a segment after it
//	-append-unreadable with -append, accept xz/zstd/lz4 segments unread
//	-file SRC:DST      also add the file SRC at DST; may be repeated
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

type options struct {
	out, binary, kernelDir, kver, modules, appendTo string
	init, appendUnreadable                          bool
	files                                           fileList
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.out, "o", "", "write the image to `FILE` (required)")
	fs.StringVar(&o.binary, "binary", "", "the iscsiboot binary, installed as /sbin/iscsistart (required)")
	fs.BoolVar(&o.init, "init", false, "also install the binary as /init, for an image without another init")
	fs.StringVar(&o.kernelDir, "kernel-dir", "/", "root of the tree holding lib/modules/KVER")
	fs.StringVar(&o.kver, "kver", "", "kernel `version` (default: the running kernel's)")
	fs.StringVar(&o.modules, "modules", "iscsi_tcp,sd_mod", "comma-separated kernel modules or aliases, with their dependencies; add the NIC driver")
	fs.StringVar(&o.appendTo, "append", "", "extend the existing image `FILE` (its segments are copied, ours follows)")
	fs.BoolVar(&o.appendUnreadable, "append-unreadable", false, "with -append, accept xz/zstd/lz4 segments without reading them")
	fs.Var(&o.files, "file", "also add `SRC:DST`; may be repeated")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s -o FILE -binary PATH [-init] [-modules LIST] [-kernel-dir DIR] [-kver VER] [-append FILE] [-file SRC:DST ...]\n", name)
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
	case o.binary == "":
		return o, errors.New("-binary: missing the iscsiboot binary")
	case o.appendUnreadable && o.appendTo == "":
		return o, errors.New("-append-unreadable: needs -append")
	}
	return o, nil
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
	if o.appendTo != "" {
		f, err := os.Open(o.appendTo)
		if err != nil {
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
		b = initramfs.New(tmp)
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	if err := b.AddFile("/sbin/iscsistart", o.binary); err != nil {
		return fmt.Errorf("-binary: %w", err)
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
	if err := tmp.Chmod(0o644); err != nil {
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
