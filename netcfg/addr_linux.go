package netcfg

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Address is an address on a link.
type Address struct {
	Index  int          // link index
	Prefix netip.Prefix // address and prefix length
	Scope  uint8        // RT_SCOPE_*: 0 global, 253 link
	Flags  uint32       // IFA_F_*
}

// Tentative reports an IPv6 address still in duplicate address detection: not usable as a source yet.
func (a Address) Tentative() bool { return a.Flags&unix.IFA_F_TENTATIVE != 0 }

func parseAddress(b []byte) (Address, error) {
	var h ifAddrMsg
	if err := h.UnmarshalBinary(b); err != nil {
		return Address{}, err
	}
	a := Address{Index: int(h.Index), Scope: h.Scope, Flags: uint32(h.Flags)}
	ad, err := netlink.NewAttributeDecoder(b[ifAddrMsgLen:])
	if err != nil {
		return Address{}, fmt.Errorf("address attributes: %w", err)
	}
	var local, addr netip.Addr
	for ad.Next() {
		switch ad.Type() {
		case unix.IFA_LOCAL:
			local, _ = addrFromSlice(ad.Bytes())
		case unix.IFA_ADDRESS:
			addr, _ = addrFromSlice(ad.Bytes())
		case unix.IFA_FLAGS:
			a.Flags = ad.Uint32()
		}
	}
	if err := ad.Err(); err != nil {
		return Address{}, fmt.Errorf("address attributes: %w", err)
	}
	// IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point links and the same
	// as IFA_LOCAL elsewhere. IPv6 sends only IFA_ADDRESS.
	if local.IsValid() {
		addr = local
	}
	if !addr.IsValid() || int(h.PrefixLen) > addr.BitLen() {
		return Address{}, fmt.Errorf("address %v/%d: %w", addr, h.PrefixLen, errBadAddress)
	}
	a.Prefix = netip.PrefixFrom(addr, int(h.PrefixLen))
	return a, nil
}

// Addresses lists the addresses of link idx, or of every link when idx is 0.
func (c *Conn) Addresses(ctx context.Context, idx int) ([]Address, error) {
	req, _ := ifAddrMsg{Family: unix.AF_UNSPEC}.MarshalBinary()
	msgs, err := c.exec(ctx, unix.RTM_GETADDR, netlink.Dump, req)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	var out []Address
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWADDR {
			continue
		}
		a, err := parseAddress(m.Data)
		if err != nil {
			return nil, fmt.Errorf("list addresses: %w", err)
		}
		if idx == 0 || a.Index == idx {
			out = append(out, a)
		}
	}
	return out, nil
}

// AddAddress adds p to link idx. An IPv4 address gets its broadcast address. Static IPv6 addresses skip
// duplicate address detection (IFA_F_NODAD): the operator or the firmware chose them, and a tentative
// address cannot be the source of the login's TCP connection for the second DAD takes. An address that is
// already there is success.
func (c *Conn) AddAddress(ctx context.Context, idx int, p netip.Prefix) error {
	h := ifAddrMsg{PrefixLen: uint8(p.Bits()), Index: uint32(idx)}
	ae := netlink.NewAttributeEncoder()
	a := p.Addr()
	if a.Is4() {
		h.Family = unix.AF_INET
		ae.Bytes(unix.IFA_LOCAL, a.AsSlice())
		ae.Bytes(unix.IFA_ADDRESS, a.AsSlice())
		if p.Bits() < 31 {
			ae.Bytes(unix.IFA_BROADCAST, broadcast(p).AsSlice())
		}
	} else {
		h.Family = unix.AF_INET6
		h.Flags = unix.IFA_F_NODAD
		ae.Bytes(unix.IFA_ADDRESS, a.AsSlice())
		ae.Uint32(unix.IFA_FLAGS, unix.IFA_F_NODAD)
	}
	hb, _ := h.MarshalBinary()
	attrs, err := ae.Encode()
	if err != nil {
		return fmt.Errorf("add address %s: %w", p, err)
	}
	_, err = c.exec(ctx, unix.RTM_NEWADDR, netlink.Acknowledge|netlink.Create|netlink.Excl, append(hb, attrs...))
	// EEXIST: the address is on the link already, from an earlier run or the firmware; that is the goal.
	if err != nil && !isExist(err) {
		return fmt.Errorf("add address %s: %w", p, err)
	}
	return nil
}

func parseRoute(b []byte) (Route, error) {
	var h rtMsg
	if err := h.UnmarshalBinary(b); err != nil {
		return Route{}, err
	}
	r := Route{Protocol: h.Protocol}
	ad, err := netlink.NewAttributeDecoder(b[rtMsgLen:])
	if err != nil {
		return Route{}, fmt.Errorf("route attributes: %w", err)
	}
	var dst netip.Addr
	for ad.Next() {
		switch ad.Type() {
		case unix.RTA_DST:
			dst, _ = addrFromSlice(ad.Bytes())
		case unix.RTA_GATEWAY:
			r.Gateway, _ = addrFromSlice(ad.Bytes())
		case unix.RTA_OIF:
			r.Index = int(ad.Uint32())
		}
	}
	if err := ad.Err(); err != nil {
		return Route{}, fmt.Errorf("route attributes: %w", err)
	}
	if !dst.IsValid() {
		dst = netip.IPv4Unspecified()
		if h.Family == unix.AF_INET6 {
			dst = netip.IPv6Unspecified()
		}
	}
	r.Dst = netip.PrefixFrom(dst, int(h.DstLen))
	return r, nil
}

// Routes lists the unicast routes of the main table, IPv4 and IPv6.
func (c *Conn) Routes(ctx context.Context) ([]Route, error) {
	var out []Route
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		req, _ := rtMsg{Family: fam}.MarshalBinary()
		msgs, err := c.exec(ctx, unix.RTM_GETROUTE, netlink.Dump, req)
		if err != nil {
			return nil, fmt.Errorf("list routes: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Type != unix.RTM_NEWROUTE {
				continue
			}
			var h rtMsg
			if err := h.UnmarshalBinary(m.Data); err != nil {
				return nil, fmt.Errorf("list routes: %w", err)
			}
			if h.Table != unix.RT_TABLE_MAIN || h.Type != unix.RTN_UNICAST {
				continue
			}
			r, err := parseRoute(m.Data)
			if err != nil {
				return nil, fmt.Errorf("list routes: %w", err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// AddRoute adds r to the main table, marked as installed at boot (RTPROT_BOOT, as ipconfig and the kernel's
// own ip= do). Without a gateway the destination is on the link (link scope). A route that is already there is
// success.
func (c *Conn) AddRoute(ctx context.Context, r Route) error {
	h := rtMsg{
		DstLen:   uint8(r.Dst.Bits()),
		Table:    unix.RT_TABLE_MAIN,
		Protocol: unix.RTPROT_BOOT,
		Scope:    unix.RT_SCOPE_UNIVERSE,
		Type:     unix.RTN_UNICAST,
	}
	h.Family = unix.AF_INET
	if r.Dst.Addr().Is6() {
		h.Family = unix.AF_INET6
	}
	ae := netlink.NewAttributeEncoder()
	if r.Dst.Bits() > 0 {
		ae.Bytes(unix.RTA_DST, r.Dst.Masked().Addr().AsSlice())
	}
	if r.Gateway.IsValid() {
		if r.Gateway.Is4() != r.Dst.Addr().Is4() {
			return fmt.Errorf("add route %s via %s: %w: gateway of the other family", r.Dst, r.Gateway, errBadAddress)
		}
		ae.Bytes(unix.RTA_GATEWAY, r.Gateway.AsSlice())
	} else {
		h.Scope = unix.RT_SCOPE_LINK
	}
	ae.Uint32(unix.RTA_OIF, uint32(r.Index))
	hb, _ := h.MarshalBinary()
	attrs, err := ae.Encode()
	if err != nil {
		return fmt.Errorf("add route %s: %w", r.Dst, err)
	}
	_, err = c.exec(ctx, unix.RTM_NEWROUTE, netlink.Acknowledge|netlink.Create|netlink.Excl, append(hb, attrs...))
	// EEXIST: an identical route (or one to the same destination) is there already; a second run of the same
	// plan must not fail on it.
	if err != nil && !isExist(err) {
		if r.Gateway.IsValid() {
			return fmt.Errorf("add route %s via %s: %w", r.Dst, r.Gateway, err)
		}
		return fmt.Errorf("add route %s: %w", r.Dst, err)
	}
	return nil
}
