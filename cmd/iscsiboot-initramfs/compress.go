package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// compressor is one -compress choice other than gzip, which we write
// ourselves: a host command that reads the cpio archive on stdin and writes
// a stream the kernel's initramfs unpacker decodes (CONFIG_RD_ZSTD,
// CONFIG_RD_XZ; Debian's kernels have both), as mkinitramfs and dracut run
// them.
type compressor struct {
	argv []string // the command, reading stdin and writing stdout
}

// compressors are the -compress values run through a host command. One
// thread each, so that the same input gives the same bytes.
var compressors = map[string]compressor{
	// Level 19: 0.6 MB less than gzip -9 for the virtio guest's image;
	// the kernel unpacks it a little slower (medians 0.8 s against 0.6 s
	// under TCG, scripts/unpack-time.sh), beside its other start-up work.
	"zstd": {[]string{"zstd", "-19", "-T1", "-q", "-c"}},
	// The kernel's xz decoder checks CRC32 only; it unpacks several times
	// slower than gzip, seconds under an emulator.
	"xz": {[]string{"xz", "--check=crc32", "-6", "-T1", "-c"}},
}

// compressNames is every value -compress takes.
const compressNames = "gzip (built in), none, zstd or xz (through the host's command)"

// pipeCompressor starts the compressor named by name writing to out and
// returns the writer to give the cpio archive to and a function that waits
// for the command and reports how it ended.
func pipeCompressor(ctx context.Context, name string, out io.Writer) (io.WriteCloser, func() error, error) {
	c, ok := compressors[name]
	if !ok {
		return nil, nil, fmt.Errorf("-compress %q: want %s", name, compressNames)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, nil, fmt.Errorf("-compress %s: the command %s is not installed (%w)", name, c.argv[0], err)
		}
		return nil, nil, fmt.Errorf("-compress %s: %w", name, err)
	}
	wait := func() error {
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("-compress %s: %s: %w: %s", name, strings.Join(c.argv, " "), err,
				strings.TrimSpace(stderr.String()))
		}
		return nil
	}
	return in, wait, nil
}
