//go:build !dropin

package main

import (
	"context"

	"github.com/iscsiboot/iscsiboot/pid1"
)

// buildName is what -v says of this build: the full one, which is also our /init and dracut's --boot.
const buildName = ""

// hasMultipath: --multipath makes dm-multipath maps itself.
const hasMultipath = true

// runInit runs our /init when this process is PID 1 (or named init) and reports whether it did.
func runInit(ctx context.Context) (bool, error) { return pid1.Run(ctx, ownFlag) }
