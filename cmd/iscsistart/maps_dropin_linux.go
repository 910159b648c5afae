//go:build linux && dropin

package main

import (
	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/plan"
)

// multipathMaps: the drop-in refuses --multipath before any login (run), so there is never a map to make.
func multipathMaps(*plan.Plan, []*boot.Session, func(string, ...any)) boot.Maps { return boot.Maps{} }
