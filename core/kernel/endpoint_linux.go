package kernel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"
)

// EPConnect asks transport handle to connect an endpoint to addr and
// returns the endpoint's handle: through SCSI host hostNo when it is 0 or
// more (EP_CONNECT_THROUGH_HOST), else on whatever device routes to addr.
// The connect is started non-blocking, as iscsid does; EPPoll waits for
// it.
func (c *Conn) EPConnect(ctx context.Context, handle uint64, hostNo int, addr netip.AddrPort) (uint64, error) {
	req := EPConnectRequest(handle, addr, true)
	if hostNo >= 0 {
		req = EPConnectThroughHostRequest(handle, uint32(hostNo), addr, true)
	}
	r, err := c.request(ctx, req, -1, -1, false)
	if err != nil {
		return 0, fmt.Errorf("connect to %s: %w", addr, err)
	}
	ep := r.EPHandle()
	if ep == 0 {
		// open-iscsi's ktransport_ep_connect takes this as EIO.
		return 0, fmt.Errorf("connect to %s: %w", addr, errNoEndpoint)
	}
	return ep, nil
}

// EPPoll waits up to timeout in the kernel for endpoint ep's connect and
// reports whether it is connected. A failed connect is an error. The
// kernel holds its netlink lock for the whole wait, so keep timeout short:
// other sessions' requests wait behind it.
func (c *Conn) EPPoll(ctx context.Context, handle, ep uint64, timeout time.Duration) (bool, error) {
	r, err := c.request(ctx, EPPollRequest(handle, ep, uint32(timeout/time.Millisecond)), -1, -1, false)
	if err != nil {
		return false, err
	}
	switch rc := r.Retcode(); {
	case rc > 0:
		return true, nil
	case rc == 0:
		return false, nil
	case rc == -1:
		// iSER answers a connect that failed (address or route not
		// resolved, refused, unreachable) with -1, not an errno.
		return false, errEPFailed{}
	default:
		return false, &OpError{Op: UeventEPPoll, SID: -1, CID: -1, Errno: syscall.Errno(-rc)}
	}
}

// EPDisconnect releases endpoint ep. An endpoint the kernel has already
// released (a bound one whose connection was stopped, or one its own
// error handling disconnected) is not an error.
func (c *Conn) EPDisconnect(ctx context.Context, handle, ep uint64) error {
	_, err := c.request(ctx, EPDisconnectRequest(handle, ep), -1, -1, false)
	if errors.Is(err, syscall.EINVAL) {
		return nil
	}
	return err
}

// CreateBoundSession creates a session on endpoint ep, whose device
// decides the session's SCSI host (iSER makes one per session), and
// returns its id and host number.
func (c *Conn) CreateBoundSession(ctx context.Context, handle, ep uint64, initialCmdSN uint32, cmdsMax, queueDepth uint16) (sid, hostNo uint32, err error) {
	r, err := c.request(ctx, CreateBoundSessionRequest(handle, ep, initialCmdSN, cmdsMax, queueDepth), -1, -1, false)
	if err != nil {
		return 0, 0, err
	}
	sid, hostNo = r.SessionRet()
	return sid, hostNo, nil
}

// pollInterval is how long one EP_POLL waits in the kernel, and how long
// Connect sleeps between polls: short, since the kernel serializes every
// NETLINK_ISCSI request behind a poll.
const pollInterval = 10 * time.Millisecond

// Endpoint is one connection's transport end, made before its session: a
// TCP socket we connected in user space and hand over by descriptor
// (iscsi_tcp), or an endpoint the kernel connected (iSER, offload NICs).
type Endpoint struct {
	Portal netip.AddrPort
	file   *os.File // RouteSocket
	ep     uint64   // RouteEndpoint: the kernel's endpoint handle
	handle uint64   // the transport's handle
	c      *Conn
}

// Connect makes the transport end of a connection to address:port over
// t: a TCP socket for iscsi_tcp; otherwise EP_CONNECT (through SCSI host
// hostNo when it is 0 or more) and EP_POLL until connected or ctx ends, an
// endpoint that did not connect being released. Connecting first means a
// dead portal costs no kernel session.
func (c *Conn) Connect(ctx context.Context, t Transport, hostNo int, address string, port int) (*Endpoint, error) {
	if t.Route() == RouteSocket {
		f, err := dialFile(ctx, net.JoinHostPort(address, strconv.Itoa(port)))
		if err != nil {
			return nil, err
		}
		return &Endpoint{file: f, handle: t.Handle, c: c}, nil
	}
	if t.Route() == RouteHBA {
		return nil, fmt.Errorf("connect to %s over %s: %w", net.JoinHostPort(address, strconv.Itoa(port)), t.Name, ErrHBALogin)
	}
	ip, err := netip.ParseAddr(address)
	if err != nil || port <= 0 || port > 65535 {
		// The kernel connects to an address, never a name: iscsid
		// resolves names first, and so does the plan.
		return nil, fmt.Errorf("connect over %s: portal %q port %d: %w", t.Name, address, port, errPortal)
	}
	addr := netip.AddrPortFrom(ip, uint16(port))
	ep, err := c.EPConnect(ctx, t.Handle, hostNo, addr)
	if err != nil {
		return nil, err
	}
	e := &Endpoint{Portal: addr, ep: ep, handle: t.Handle, c: c}
	for {
		ok, err := c.EPPoll(ctx, t.Handle, ep, pollInterval)
		if err == nil && ok {
			return e, nil
		}
		if err == nil {
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-time.After(pollInterval):
				continue
			}
		}
		e.Disconnect()
		if hostNo >= 0 {
			if pe := c.pathErr(uint32(hostNo)); pe != nil {
				// The NIC never learned its route: that is why.
				return nil, fmt.Errorf("connect to %s over %s through host%d: %w (%w)", addr, t.Name, hostNo, err, pe)
			}
			return nil, fmt.Errorf("connect to %s over %s through host%d: %w", addr, t.Name, hostNo, err)
		}
		return nil, fmt.Errorf("connect to %s over %s: %w", addr, t.Name, err)
	}
}

// Bound reports whether the endpoint is the kernel's: its session is
// created on it (CREATE_BOUND_SESSION), its connection bound by handle.
func (e *Endpoint) Bound() bool { return e.file == nil }

// Close ends what the caller holds of the endpoint once the login has
// ended, success or not: the socket's descriptor (the kernel keeps its
// own reference once bound). A kernel endpoint stays with its connection;
// Disconnect releases one that is not to be used.
func (e *Endpoint) Close() error {
	if e.file != nil {
		return e.file.Close()
	}
	return nil
}

// Disconnect releases a kernel endpoint a failed login leaves (EP_DISCONNECT),
// bounded by a few seconds of its own: it runs on the way out of a login
// whose context may have ended. A socket needs nothing more than Close.
func (e *Endpoint) Disconnect() {
	if e.file != nil || e.ep == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.c.EPDisconnect(ctx, e.handle, e.ep)
	e.ep = 0
}

// CreateSessionOn creates the session of a login over e: bound to the
// kernel's endpoint, or a plain one for a socket. A kernel that does not
// know bound sessions (before 2.6.23, answering ENOSYS or EINVAL) gets a
// plain one, as iscsid retries.
func (c *Conn) CreateSessionOn(ctx context.Context, e *Endpoint, initialCmdSN uint32, cmdsMax, queueDepth uint16) (sid, hostNo uint32, err error) {
	if e.Bound() {
		sid, hostNo, err = c.CreateBoundSession(ctx, e.handle, e.ep, initialCmdSN, cmdsMax, queueDepth)
		if !errors.Is(err, syscall.ENOSYS) && !errors.Is(err, syscall.EINVAL) {
			return sid, hostNo, err
		}
	}
	return c.CreateSession(ctx, e.handle, initialCmdSN, cmdsMax, queueDepth)
}

// BindEndpoint binds connection sid:cid to e: its socket's descriptor or
// the kernel endpoint's handle, which BIND_CONN carries in the same
// transport_eph field.
func (c *Conn) BindEndpoint(ctx context.Context, sid, cid uint32, e *Endpoint, leading bool) error {
	v := e.ep
	if e.file != nil {
		v = uint64(e.file.Fd())
	}
	_, err := c.request(ctx, BindConnRequest(e.handle, sid, cid, v, leading), int(sid), int(cid), true)
	return err
}

// dialFile connects to addr and returns the socket as a file to hand to
// the kernel, which takes its own reference when it binds it.
func dialFile(ctx context.Context, addr string) (*os.File, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	defer c.Close()
	f, err := c.(*net.TCPConn).File()
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return f, nil
}

// FlushConn drops every PDU and connection error the kernel passed up for
// sid:cid that nobody has read: after STOP_CONN they belong to a login
// that is over (a target's reject that came after the connection's error,
// say), and the next login on the same connection must not read them as
// answers to its own requests.
func (c *Conn) FlushConn(sid, cid uint32) {
	k := connKey{sid, cid}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pdus, k)
	delete(c.errs, k)
}

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
