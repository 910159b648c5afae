package boot

import (
	"net/netip"

	"github.com/google/go-cmp/cmp/cmpopts"
)

// Test shorthands, as the plan package's tests have them.

var cmpNetip = cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }

const (
	t0 = "iqn.2009-06.dracut:target0"
	t1 = "iqn.2009-06.dracut:target1"
)
