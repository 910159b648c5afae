package pid1

import (
	"context"
	"os"
)

// Run runs the binary as the initramfs /init when the kernel started it
// as init (iscsiboot-initramfs -init links /init to it; see initMode; the
// caller's ownFlag names its options): mount, load modules, log in from
// the kernel command line, mount the root and switch to it. It reports
// false at once when this process is no init; else it returns only when
// the boot failed and could not be rescued.
func Run(ctx context.Context, ownFlag func(name string) bool) (bool, error) {
	if os.Getpid() != 1 {
		return false, nil
	}
	// The real init starts before /proc is mounted: then there is no
	// command line to read, and argv[0] alone names the init path.
	cmdline, _ := ReadCmdline("/proc/cmdline")
	if !initMode(os.Getpid(), os.Args, cmdline, ownFlag) {
		return false, nil
	}
	return true, Main(ctx, func(ctx context.Context, cmdline string) (Root, error) {
		b, err := Boot(ctx, cmdline, os.Stdout)
		if err != nil {
			return Root{}, err
		}
		return Root{Device: b.Device, Handoff: b.Handoff}, nil
	})
}
