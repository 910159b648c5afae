package netcfg

import (
	"net/netip"

	"github.com/google/go-cmp/cmp"
)

// cmpAddr compares netip.Addr values by value in cmp.Diff.
var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// cmpPrefix compares netip.Prefix values by value in cmp.Diff.
var cmpPrefix = cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })
