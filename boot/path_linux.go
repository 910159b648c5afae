package boot

import (
	"context"
	"net/netip"
	"time"

	"github.com/iscsiboot/iscsiboot/core/kernel"
	"github.com/iscsiboot/iscsiboot/netcfg"
)

// neighbourWait bounds the resolution of a next hop's MAC for a PATH_REQ:
// a few ARP retransmissions.
const neighbourWait = 3 * time.Second

// ResolvePath answers an offload NIC's PATH_REQ (kernel.PathResolver)
// from the routing and neighbour tables, as open-iscsi's iscsiuio does:
// the source address, the next hop's MAC, the path MTU and the VLAN of the
// link the kernel routes dst through.
func ResolvePath(ctx context.Context, dst netip.Addr) (kernel.Path, error) {
	c, err := netcfg.Dial()
	if err != nil {
		return kernel.Path{}, err
	}
	defer c.Close()
	p, err := c.ResolvePath(ctx, dst, neighbourWait)
	if err != nil {
		return kernel.Path{}, err
	}
	return kernelPath(p), nil
}

// kernelPath is p as struct iscsi_path holds it: a 6-byte MAC, a 16-bit
// MTU (loopback's 65536 does not fit and is clamped) and VLAN id.
func kernelPath(p netcfg.Path) kernel.Path {
	out := kernel.Path{Src: p.Src, Dst: p.Dst, VLAN: uint16(p.VLAN), MTU: uint16(min(p.MTU, 0xffff))}
	if len(p.MAC) == 6 {
		copy(out.MAC[:], p.MAC)
	}
	return out
}
