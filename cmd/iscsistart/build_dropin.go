//go:build dropin

package main

import (
	"context"
	"io"

	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
)

// The drop-in build (go build -tags dropin; make build writes it to out/dropin/iscsistart) is open-iscsi's iscsistart and nothing
// more of ours than its flags: no /init, no --boot, no DHCP clients. It is what initramfs-tools' hook puts
// in Debian's image, whose own scripts run the network and the rest of the boot.

// buildName is what -v says of this build.
const buildName = ", drop-in build"

// hasMultipath: in an initramfs-tools image multipath-tools-boot makes the maps; --multipath is refused.
const hasMultipath = false

// runInit: the drop-in build is never our /init.
func runInit(context.Context) (bool, error) { return false, nil }

func bootCmd(context.Context, *options, io.Writer, io.Writer) error {
	return iscsierr.Markf(iscsierr.ErrUsage, "--boot: not in the drop-in build (built with -tags dropin); the full build of iscsistart has it")
}
