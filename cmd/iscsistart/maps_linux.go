//go:build linux && !dropin

package main

import (
	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/plan"
)

// multipathMaps is --multipath's dm-multipath map over the sessions.
func multipathMaps(p *plan.Plan, sessions []*boot.Session, logf func(string, ...any)) boot.Maps {
	return boot.MultipathMaps(p, sessions, logf)
}
