package netcfg

import (
	"context"
	"net/netip"
	"time"

	"github.com/iscsiboot/iscsiboot/internal/wait"
	"golang.org/x/sys/unix"
)

// slaac waits until the kernel has made an IPv6 address on link l from a router advertisement, and returns
// it with the default router the advertisement installed, if any.
func slaac(ctx context.Context, c *Conn, l Link, o *options) (Address, netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, o.slaacTimeout)
	defer cancel()
	a, err := waitAddress(ctx, c, l.Index, slaacAddress)
	if err != nil {
		return Address{}, netip.Addr{}, &timeoutError{what: "no address from router advertisements within " + o.slaacTimeout.String(), err: ErrTimeout}
	}
	var gw netip.Addr
	if rs, err := c.Routes(ctx); err == nil {
		for _, r := range rs {
			if r.Index == l.Index && r.Dst.Bits() == 0 && r.Dst.Addr().Is6() && r.Gateway.IsValid() {
				gw = r.Gateway
				break
			}
		}
	}
	return a, gw, nil
}

// slaacAddress reports whether a is an address SLAAC made and is done with: any scope the kernel gives an
// advertised prefix (RFC 4862, Section 5.5.3 takes every prefix but link-local), so global and unique local
// addresses (RT_SCOPE_UNIVERSE) and deprecated site-local ones (fec0::/10, RT_SCOPE_SITE, QEMU slirp's
// default) alike; past duplicate address detection (dracut's wait_for_ipv6_auto waits for no tentative
// address, not for a scope); not permanent (SLAAC addresses have lifetimes, static ones do not).
func slaacAddress(a Address) bool {
	return a.Prefix.Addr().Is6() && !a.Prefix.Addr().IsLinkLocalUnicast() &&
		(a.Scope == unix.RT_SCOPE_UNIVERSE || a.Scope == unix.RT_SCOPE_SITE) &&
		!a.Tentative() && a.Flags&unix.IFA_F_DADFAILED == 0 && a.Flags&unix.IFA_F_PERMANENT == 0
}

// addressPoll is how often waitAddress looks: DAD and SLAAC take a second or more, so 50 ms is plenty.
const addressPoll = 50 * time.Millisecond

// waitAddress polls the addresses of link idx until one satisfies ok or ctx ends.
func waitAddress(ctx context.Context, c *Conn, idx int, ok func(Address) bool) (Address, error) {
	var found Address
	var err error
	werr := wait.Until(ctx, addressPoll, func() bool {
		var as []Address
		if as, err = c.Addresses(ctx, idx); err != nil {
			return true
		}
		for _, a := range as {
			if ok(a) {
				found = a
				return true
			}
		}
		return false
	})
	if werr != nil {
		return Address{}, werr
	}
	return found, err
}
