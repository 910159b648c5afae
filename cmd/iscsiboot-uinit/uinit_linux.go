package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/iscsiboot/iscsiboot/handoff"
	"github.com/iscsiboot/iscsiboot/pid1"

	"golang.org/x/sys/unix"
)

var errNotInitramfs = errors.New("runs only as the uinit of an initramfs (the root file system is no ramfs or tmpfs)")

// newRoot is where the root file system is mounted before switch_root.
const newRoot = "/root"

// run is the boot, one step after the other. It returns only on failure:
// on success the process becomes the root's init.
func run(ctx context.Context, log io.Writer) error {
	logf := func(format string, args ...any) { fmt.Fprintf(log, "iscsiboot-uinit: "+format+"\n", args...) }
	// On a running system every step below would be harm: a tmpfs over
	// /run, the network reconfigured, a switch_root.
	if !handoff.InInitramfs() {
		return errNotInitramfs
	}

	cmdline, err := pid1.ReadCmdline("/proc/cmdline")
	if err != nil {
		return err
	}
	cfg, err := pid1.ParseCmdline(cmdline)
	if err != nil {
		// A bad value leaves that setting at its default; the boot goes on.
		logf("warning: %v", err)
	}

	// The hand-off files the real root reads (initiator name, interface
	// state) go to /run, which u-root's init does not mount and which
	// SwitchRoot moves into the root.
	if err := os.MkdirAll("/run", 0o755); err != nil {
		return fmt.Errorf("mount /run: %w", err)
	}
	err = unix.Mount("tmpfs", "/run", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755")
	if err != nil && !errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("mount /run: %w", err)
	}

	// u-root's init loads /lib/modules/*.ko only, not the list
	// iscsiboot-initramfs -append writes.
	loaded, err := pid1.LoadModules(ctx, pid1.ModuleList)
	if err != nil {
		logf("warning: %v", err)
	}
	logf("modules loaded (%d)", len(loaded))

	// The plan (command line, iBFT), the network, the logins, the hand-off
	// files in the initramfs.
	b, err := pid1.Boot(ctx, cmdline, log)
	if err != nil {
		return fmt.Errorf("boot: %w%s", err, pid1.MissingDriverNote(err, loaded))
	}

	dev, err := pid1.WaitRoot(ctx, cfg, b.Device)
	if err != nil {
		return err
	}
	fstype, err := pid1.MountRoot(dev, cfg, newRoot)
	if err != nil {
		return err
	}
	logf("root %s (%s) mounted on %s", dev, fstype, newRoot)
	init, err := pid1.FindInit(newRoot, cfg.Init)
	if err != nil {
		return err
	}

	// Node records for the root's iscsid, multipathd's WWIDs, the
	// resident loop: a failure here is a warning, as the root is up.
	msg, err := b.Handoff(newRoot)
	if msg != "" {
		logf("%s", msg)
	}
	if err != nil {
		logf("warning: %v", err)
	}

	logf("switching root to %s, exec %s", newRoot, init)
	return pid1.SwitchRoot(newRoot, init)
}
