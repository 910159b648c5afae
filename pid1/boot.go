package pid1

import "context"

// Root is what the boot step found out about the root file system.
type Root struct {
	// Device is the root file system's block device (/dev/sda1). It is
	// used when the command line has no root=, as after root=iscsi:... or
	// an iBFT boot. Empty if the boot step does not know.
	Device string
	// Handoff, if set, runs once the root file system is mounted at
	// newRoot, before switch_root, to leave in it what the real system
	// needs (iscsiboot: the node records iscsid adopts the sessions with).
	// Its line, if any, goes to the console; its error is a warning, as
	// the root is up either way.
	Handoff func(newRoot string) (string, error)
}

// BootFunc is the caller's boot step, run after the modules are loaded and
// before init waits for the root device: for iscsiboot, bringing up the
// network and logging in to the targets. cmdline is /proc/cmdline. It must
// return by itself when its work is done or has failed, honouring ctx.
type BootFunc func(ctx context.Context, cmdline string) (Root, error)
