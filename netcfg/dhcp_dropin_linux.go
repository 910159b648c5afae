//go:build linux && dropin

package netcfg

import "context"

// Interface.check refuses methods dhcp and dhcp6 in the drop-in build, so these are never reached.

func dhcp4(context.Context, Link, string, *options) (lease4, error) { return lease4{}, ErrNoDHCP }

func dhcp6(context.Context, *Conn, Link, *options) (lease6, error) { return lease6{}, ErrNoDHCP }
