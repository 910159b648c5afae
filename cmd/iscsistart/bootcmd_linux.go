//go:build linux && !dropin

package main

import (
	"context"
	"fmt"
	"io"

	"github.com/iscsiboot/iscsiboot/handoff"
	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
	"github.com/iscsiboot/iscsiboot/pid1"
)

// bootCmd is --boot: what our /init does between loading the modules and
// mounting the root, for an initramfs whose own scripts do the rest
// (contrib/dracut): the plan from the kernel command line (--cmdline
// overrides /proc/cmdline) and the firmware table, the network, the
// logins, the hand-off files and node records; then the root disk's
// device on stdout, the one line a script reads. Progress goes to stderr.
// It runs only in an initramfs: it writes /etc/iscsi/initiatorname.iscsi
// and Debian's /run/net-DEV.conf, which on a running system are not ours.
func bootCmd(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	if !handoff.InInitramfs() {
		return iscsierr.Markf(iscsierr.ErrUsage, "--boot runs only in an initramfs (the root file system is no ramfs or tmpfs)")
	}
	cmdline := o.cmdline
	if cmdline == "" {
		var err error
		if cmdline, err = pid1.ReadCmdline("/proc/cmdline"); err != nil {
			return iscsierr.Markf(iscsierr.ErrUsage, "--boot: %v", err)
		}
	}
	b, err := pid1.Boot(ctx, cmdline, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, b.Device)
	return nil
}
