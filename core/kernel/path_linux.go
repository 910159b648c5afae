package kernel

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// groupUIP is the multicast group the kernel sends offload NICs' requests
// to (ISCSI_NL_GRP_UIP, iscsi_offload_mesg): PATH_REQ, which open-iscsi's
// iscsiuio answers. At boot there is no iscsiuio: the Conn answers.
const groupUIP = 2

// pathTimeout bounds one answer to a PATH_REQ: the route lookup, the next
// hop's resolution and the PATH_UPDATE.
const pathTimeout = 10 * time.Second

// PathResolver is the path to dst from the routing and neighbour tables:
// source address, next hop's MAC, MTU, VLAN (netcfg.Conn.ResolvePath,
// through package boot).
type PathResolver func(ctx context.Context, dst netip.Addr) (Path, error)

// SetPathResolver makes c answer the kernel's PATH_REQ (an offload NIC
// such as bnx2i asking, while it connects an endpoint, how to reach the
// portal) with PATH_UPDATE from f, as iscsiuio does.
func (c *Conn) SetPathResolver(f PathResolver) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resolve = f
}

// answerPath answers one PATH_REQ. It runs on a goroutine of its own: its
// PATH_UPDATE is a request, whose reply the reader must be free to take.
// A failure is kept for the host's connect to report (pathErr).
func (c *Conn) answerPath(e *Uevent) {
	host := e.PathReqHost()
	c.mu.Lock()
	f := c.resolve
	c.mu.Unlock()
	if f == nil {
		return
	}
	fail := func(err error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.pathErrs[host] = err
	}
	var req Path
	if err := req.UnmarshalBinary(e.Extra); err != nil {
		fail(fmt.Errorf("PATH_REQ from host%d: %w", host, err))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), pathTimeout)
	defer cancel()
	p, err := f(ctx, req.Dst)
	if err != nil {
		fail(fmt.Errorf("path to %s for host%d: %w", req.Dst, host, err))
		return
	}
	p.Handle, p.Dst = req.Handle, req.Dst
	u, err := PathUpdateRequest(e.TransportHandle, host, &p)
	if err == nil {
		_, err = c.request(ctx, u, -1, -1, false)
	}
	if err != nil {
		fail(fmt.Errorf("path to %s for host%d: %w", req.Dst, host, err))
		return
	}
	c.mu.Lock()
	delete(c.pathErrs, host)
	c.mu.Unlock()
}

// pathErr is the last failed answer to a PATH_REQ of host, if any.
func (c *Conn) pathErr(host uint32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pathErrs[host]
}
