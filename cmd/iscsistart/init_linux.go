package main

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/initramfs/pid1"
)

// asInit runs the binary as the initramfs /init when the kernel started
// it as init (iscsiboot-initramfs -init links /init to it; see initMode):
// mount, load modules, log in from the kernel command line, mount the root
// and switch to it. It returns only when the boot failed and could not be
// rescued.
func asInit(ctx context.Context) (bool, error) {
	if os.Getpid() != 1 {
		return false, nil
	}
	// The real init starts before /proc is mounted: then there is no
	// command line to read, and argv[0] alone names the init path.
	cmdline, _ := pid1.ReadCmdline("/proc/cmdline")
	if !initMode(os.Getpid(), os.Args, cmdline, ownFlag) {
		return false, nil
	}
	boot.WarmRandom() // overlaps module loading
	return true, pid1.Main(ctx, func(ctx context.Context, cmdline string) (pid1.Root, error) {
		b, err := boot.Boot(ctx, cmdline, os.Stdout)
		if err != nil {
			return pid1.Root{}, err
		}
		return pid1.Root{Device: b.Device, Handoff: func(newRoot string) (string, error) {
			msg, err := boot.InstallNodeRecords(newRoot, b.Records)
			if b.Resident == nil {
				return msg, err
			}
			// Last, once nothing else can fail: the loop outlives us.
			if rerr := startResident(*b.Resident); rerr != nil {
				return msg, errors.Join(err, rerr)
			}
			return strings.TrimPrefix(msg+"; resident loop started", "; "), err
		}}, nil
	})
}
