package netcfg

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Path is how the kernel reaches one destination: what an offload NIC
// that keeps its own TCP stack (bnx2i, qedi) asks for before it connects,
// and iscsiuio answers from the routing and neighbour tables.
type Path struct {
	Dst     netip.Addr
	Src     netip.Addr // the route's preferred source address
	Gateway netip.Addr // the next hop; invalid when Dst is on the link
	Index   int        // the output link
	MTU     int        // the route's MTU (RTAX_MTU), else the link's
	MAC     net.HardwareAddr
	VLAN    int // the output link's 802.1Q id, 0 for none
}

// ndMsgLen is sizeof(struct ndmsg) (linux/neighbour.h): family, two
// pads, ifindex, state, flags, type.
const ndMsgLen = 12

// Neighbour states whose hardware address is usable (linux/neighbour.h,
// NUD_VALID).
const nudValid = unix.NUD_PERMANENT | unix.NUD_NOARP | unix.NUD_REACHABLE | unix.NUD_PROBE | unix.NUD_STALE | unix.NUD_DELAY

// errNoNeighbour is a next hop that did not answer ARP or neighbour
// discovery in time.
var errNoNeighbour = errors.New("no hardware address for the next hop")

// RouteGet asks the kernel where it would send a packet to dst
// (RTM_GETROUTE for one address, as "ip route get" does): source
// address, next hop, output link and MTU.
func (c *Conn) RouteGet(ctx context.Context, dst netip.Addr) (Path, error) {
	dst = dst.Unmap()
	fam, bits := uint8(unix.AF_INET), 32
	if dst.Is6() {
		fam, bits = unix.AF_INET6, 128
	}
	h, _ := rtMsg{Family: fam, DstLen: uint8(bits)}.MarshalBinary()
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(unix.RTA_DST, dst.AsSlice())
	attrs, err := ae.Encode()
	if err != nil {
		return Path{}, err
	}
	msgs, err := c.exec(ctx, unix.RTM_GETROUTE, 0, append(h, attrs...))
	if err != nil {
		return Path{}, fmt.Errorf("route to %s: %w", dst, err)
	}
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWROUTE {
			continue
		}
		p, err := parseRouteGet(m.Data)
		if err != nil {
			return Path{}, fmt.Errorf("route to %s: %w", dst, err)
		}
		p.Dst = dst
		return p, nil
	}
	return Path{}, fmt.Errorf("route to %s: no answer", dst)
}

// parseRouteGet decodes the one route RTM_GETROUTE answers.
func parseRouteGet(b []byte) (Path, error) {
	var h rtMsg
	if err := h.UnmarshalBinary(b); err != nil {
		return Path{}, err
	}
	var p Path
	ad, err := netlink.NewAttributeDecoder(b[rtMsgLen:])
	if err != nil {
		return Path{}, fmt.Errorf("route attributes: %w", err)
	}
	for ad.Next() {
		switch ad.Type() {
		case unix.RTA_PREFSRC:
			p.Src, _ = addrFromSlice(ad.Bytes())
		case unix.RTA_GATEWAY:
			p.Gateway, _ = addrFromSlice(ad.Bytes())
		case unix.RTA_OIF:
			p.Index = int(ad.Uint32())
		case unix.RTA_METRICS:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					if nad.Type() == unix.RTAX_MTU {
						p.MTU = int(nad.Uint32())
					}
				}
				return nad.Err()
			})
		}
	}
	if err := ad.Err(); err != nil {
		return Path{}, fmt.Errorf("route attributes: %w", err)
	}
	if h.Type != unix.RTN_UNICAST && h.Type != unix.RTN_LOCAL {
		return Path{}, fmt.Errorf("route of type %d, not unicast: %w", h.Type, unix.EHOSTUNREACH)
	}
	return p, nil
}

// Neighbour returns the hardware address the neighbour table holds for
// addr on link idx, if it holds a usable one.
func (c *Conn) Neighbour(ctx context.Context, idx int, addr netip.Addr) (net.HardwareAddr, bool, error) {
	addr = addr.Unmap()
	fam := uint8(unix.AF_INET)
	if addr.Is6() {
		fam = unix.AF_INET6
	}
	req := make([]byte, ndMsgLen)
	req[0] = fam
	msgs, err := c.exec(ctx, unix.RTM_GETNEIGH, netlink.Dump, req)
	if err != nil {
		return nil, false, fmt.Errorf("neighbours: %w", err)
	}
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWNEIGH {
			continue
		}
		n, ok := parseNeigh(m.Data)
		if ok && n.index == idx && n.state&nudValid != 0 && n.dst.Unmap() == addr && len(n.mac) > 0 {
			return n.mac, true, nil
		}
	}
	return nil, false, nil
}

// neigh is one entry of the neighbour table (RTM_NEWNEIGH).
type neigh struct {
	index int
	state uint16
	dst   netip.Addr
	mac   net.HardwareAddr
}

// parseNeigh decodes an RTM_NEWNEIGH message: struct ndmsg, then
// NDA_DST and NDA_LLADDR among its attributes. ok is false for bytes that
// are not one.
func parseNeigh(b []byte) (neigh, bool) {
	if len(b) < ndMsgLen {
		return neigh{}, false
	}
	n := neigh{index: int(int32(binary.NativeEndian.Uint32(b[4:8]))), state: binary.NativeEndian.Uint16(b[8:10])}
	ad, err := netlink.NewAttributeDecoder(b[ndMsgLen:])
	if err != nil {
		return neigh{}, false
	}
	for ad.Next() {
		switch ad.Type() {
		case unix.NDA_DST:
			n.dst, _ = addrFromSlice(ad.Bytes())
		case unix.NDA_LLADDR:
			n.mac = net.HardwareAddr(bytes.Clone(ad.Bytes()))
		}
	}
	if ad.Err() != nil {
		return neigh{}, false
	}
	return n, true
}

// ResolvePath is the whole path to dst: the route, the output link's MTU
// and VLAN when the route has none of its own, and the next hop's hardware
// address, resolved if the neighbour table has none yet (one empty UDP
// datagram to the next hop's discard port makes the kernel ask, by ARP or
// neighbour discovery), waiting up to wait for the answer. A link without
// ARP (loopback) gives its own address.
func (c *Conn) ResolvePath(ctx context.Context, dst netip.Addr, wait time.Duration) (Path, error) {
	p, err := c.RouteGet(ctx, dst)
	if err != nil {
		return Path{}, err
	}
	l, err := c.LinkByIndex(ctx, p.Index)
	if err != nil {
		return Path{}, fmt.Errorf("route to %s: %w", dst, err)
	}
	if p.MTU == 0 {
		p.MTU = l.MTU
	}
	if l.Kind == "vlan" {
		p.VLAN = l.VLANID
	}
	hop := p.Dst
	if p.Gateway.IsValid() {
		hop = p.Gateway
	}
	if len(l.MAC) == 0 || bytes.Equal(l.MAC, make([]byte, len(l.MAC))) {
		p.MAC = l.MAC
		return p, nil
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	poked := false
	for {
		mac, ok, err := c.Neighbour(wctx, p.Index, hop)
		if err != nil && wctx.Err() == nil {
			return Path{}, fmt.Errorf("route to %s: %w", dst, err)
		}
		if ok {
			p.MAC = mac
			return p, nil
		}
		if !poked {
			poked = true
			var d net.Dialer
			if u, err := d.DialContext(wctx, "udp", netip.AddrPortFrom(hop, 9).String()); err == nil {
				u.Write(nil)
				u.Close()
			}
		}
		select {
		case <-wctx.Done():
			return Path{}, fmt.Errorf("route to %s: next hop %s on %s: %w within %v", dst, hop, l.Name, errNoNeighbour, wait)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
