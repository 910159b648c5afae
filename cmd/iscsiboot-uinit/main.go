// iscsiboot-uinit is a u-root uinit that boots the machine's root file
// system from iSCSI, and the example of iscsiboot's packages used as a
// library: no flags, no cmd/iscsistart, every step a call to package pid1
// (which runs packages plan, boot and handoff).
//
// Synopsis:
//
//	mkuimage -initcmd=init -uinitcmd=iscsiboot-uinit -defaultsh="" \
//	    github.com/u-root/u-root/cmds/core/init github.com/iscsiboot/iscsiboot/cmd/iscsiboot-uinit
//
// u-root's init mounts /proc, /sys and /dev, then runs it as /bin/uinit.
// It takes no options: the kernel command line says everything, as for
// iscsiboot's own /init (netroot=iscsi:..., ip=, rd.iscsi.*, or the iBFT
// with rd.iscsi.firmware or when no target is named; root=, rootfstype=,
// rootflags=, ro/rw, init=, rd.retry=). It loads the modules
// iscsiboot-initramfs -append listed, logs in, mounts the root on /root,
// leaves the hand-off for iscsid there and switches to the root's init,
// which runs as a child of u-root's init, not as PID 1. On failure it
// prints one line and exits 1; u-root's init then runs a shell if the
// image has one, or else ends, and the kernel's panic= says what follows.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "iscsiboot-uinit: %v\n", err)
		os.Exit(1)
	}
}
