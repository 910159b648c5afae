package kernel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// groupISCSID is the multicast group the kernel sends iscsid's events to
// (ISCSI_NL_GRP_ISCSID).
const groupISCSID = 1

type connKey struct{ sid, cid uint32 }

// reply is the kernel's answer to a request: the netlink header type is
// the request's type, while the uevent's own type becomes
// ISCSI_KEVENT_IF_ERROR when the request failed (scsi_transport_iscsi.c,
// iscsi_if_rx). Unasked events carry header type 0.
type reply struct {
	to EventType
	e  *Uevent
}

// Conn is a NETLINK_ISCSI socket. Requests are serialized (the kernel
// answers each with one reply carrying no sequence number), while a
// single reader queues the kernel's unasked events per connection, so a
// RECV_PDU for one session is kept while another session waits for its
// own. Safe for concurrent use.
type Conn struct {
	nl      *netlink.Conn
	reqMu   sync.Mutex
	replies chan reply

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every queued event
	pdus    map[connKey][]*Uevent
	errs    map[connKey]ErrCode
	readErr error
	done    chan struct{}

	resolve  PathResolver     // answers PATH_REQ (path_linux.go)
	pathErrs map[uint32]error // a host's failed PATH_REQ answer
}

// Dial opens the kernel's iSCSI netlink socket and joins iscsid's event
// group and iscsiuio's, whose PATH_REQ it answers once given a
// PathResolver.
func Dial() (*Conn, error) {
	nl, err := netlink.Dial(unix.NETLINK_ISCSI, &netlink.Config{Groups: 1<<(groupISCSID-1) | 1<<(groupUIP-1)})
	if err != nil {
		if errors.Is(err, unix.EPROTONOSUPPORT) {
			return nil, fmt.Errorf("open NETLINK_ISCSI: %w (load scsi_transport_iscsi and iscsi_tcp)", err)
		}
		return nil, fmt.Errorf("open NETLINK_ISCSI: %w", err)
	}
	return NewConn(nl), nil
}

// NewConn wraps an open netlink connection, such as nltest's fake kernel.
func NewConn(nl *netlink.Conn) *Conn {
	c := &Conn{nl: nl, replies: make(chan reply, 16), changed: make(chan struct{}),
		pdus: map[connKey][]*Uevent{}, errs: map[connKey]ErrCode{}, done: make(chan struct{}), pathErrs: map[uint32]error{}}
	go c.read()
	return c
}

// Close stops the reader and closes the socket.
func (c *Conn) Close() error {
	err := c.nl.Close()
	<-c.done
	return err
}

func (c *Conn) read() {
	defer close(c.done)
	for {
		msgs, err := c.nl.Receive()
		if errors.Is(err, unix.ENOBUFS) {
			// The socket overflowed and some multicast events were lost
			// (another daemon's, most likely); the socket itself is fine.
			continue
		}
		if err != nil {
			c.mu.Lock()
			c.readErr = fmt.Errorf("%w: %w", ErrClosed, err)
			close(c.changed)
			c.mu.Unlock()
			return
		}
		for _, m := range msgs {
			var e Uevent
			if e.UnmarshalBinary(m.Data) != nil {
				continue
			}
			if m.Header.Type != 0 {
				select {
				case c.replies <- reply{EventType(m.Header.Type), &e}:
				default: // a reply nobody waits for (its request timed out)
				}
				continue
			}
			c.queue(&e)
		}
	}
}

func (c *Conn) queue(e *Uevent) {
	if e.Type == KeventPathReq {
		go c.answerPath(e)
		return
	}
	sid, cid := e.ConnEvent()
	k := connKey{sid, cid}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e.Type {
	case KeventRecvPDU:
		c.pdus[k] = append(c.pdus[k], e)
	case KeventConnError:
		c.errs[k] = e.ConnErrorCode()
	default:
		return
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

// closedErr is why the reader stopped: ErrClosed and the socket's error.
// Call it only once c.done is closed.
func (c *Conn) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// Request sends e and returns the kernel's reply, checking iferror and,
// where checkRet, r.retcode.
func (c *Conn) request(ctx context.Context, e *Uevent, sid, cid int, checkRet bool) (*Uevent, error) {
	c.reqMu.Lock()
	defer c.reqMu.Unlock()
	select {
	case <-c.done: // closed, or the socket failed: say so rather than fail to send
		return nil, fmt.Errorf("kernel iSCSI %s: %w", e.Type, c.closedErr())
	default:
	}
	for len(c.replies) > 0 { // late replies of requests that timed out
		<-c.replies
	}
	b, _ := e.MarshalBinary()
	msg := netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(e.Type)}, Data: b}
	if _, err := c.nl.Send(msg); err != nil {
		return nil, fmt.Errorf("kernel iSCSI %s: send: %w", e.Type, err)
	}
	for {
		select {
		case rp := <-c.replies:
			if rp.to != e.Type {
				continue
			}
			r := rp.e
			errno := syscall.Errno(0)
			if r.IfError < 0 {
				errno = syscall.Errno(-r.IfError)
			} else if checkRet && r.Retcode() < 0 {
				errno = syscall.Errno(-r.Retcode())
			}
			if errno != 0 {
				return nil, &OpError{Op: e.Type, SID: sid, CID: cid, Errno: errno}
			}
			return r, nil
		case <-c.done:
			return nil, fmt.Errorf("kernel iSCSI %s: %w", e.Type, c.closedErr())
		case <-ctx.Done():
			return nil, fmt.Errorf("kernel iSCSI %s: no reply: %w", e.Type, ctx.Err())
		}
	}
}

// CreateSession creates a session on the transport and returns its id and
// SCSI host number.
func (c *Conn) CreateSession(ctx context.Context, handle uint64, initialCmdSN uint32, cmdsMax, queueDepth uint16) (sid, hostNo uint32, err error) {
	r, err := c.request(ctx, CreateSessionRequest(handle, initialCmdSN, cmdsMax, queueDepth), -1, -1, false)
	if err != nil {
		return 0, 0, err
	}
	sid, hostNo = r.SessionRet()
	return sid, hostNo, nil
}

// DestroySession removes a session.
func (c *Conn) DestroySession(ctx context.Context, handle uint64, sid uint32) error {
	_, err := c.request(ctx, newRequest(UeventDestroySession, handle, sid), int(sid), -1, true)
	return err
}

// CreateConn creates connection cid of session sid.
func (c *Conn) CreateConn(ctx context.Context, handle uint64, sid, cid uint32) (uint32, error) {
	r, err := c.request(ctx, newRequest(UeventCreateConn, handle, sid, cid), int(sid), int(cid), false)
	if err != nil {
		return 0, err
	}
	_, got := r.ConnRet()
	return got, nil
}

// DestroyConn removes a connection.
func (c *Conn) DestroyConn(ctx context.Context, handle uint64, sid, cid uint32) error {
	_, err := c.request(ctx, newRequest(UeventDestroyConn, handle, sid, cid), int(sid), int(cid), true)
	return err
}

// BindConn hands a connected socket (iscsi_tcp) to the connection. The
// kernel takes its own reference: the caller may close fd afterwards.
func (c *Conn) BindConn(ctx context.Context, handle uint64, sid, cid uint32, fd int, leading bool) error {
	_, err := c.request(ctx, BindConnRequest(handle, sid, cid, uint64(fd), leading), int(sid), int(cid), true)
	return err
}

// SetParam sets a session or connection parameter. ENOSYS (a parameter
// the transport does not keep) is returned as is for the caller to judge.
func (c *Conn) SetParam(ctx context.Context, handle uint64, sid, cid uint32, p Param, value string) error {
	_, err := c.request(ctx, SetParamRequest(handle, sid, cid, p, value), int(sid), int(cid), true)
	if err != nil {
		return fmt.Errorf("set %s: %w", p, err)
	}
	return nil
}

// SetIfaceParams sets the network of an offload host's iSCSI iface
// (SET_IFACE_PARAMS): its address, mask, gateway and VLAN.
func (c *Conn) SetIfaceParams(ctx context.Context, handle uint64, hostNo uint32, n HostNet) error {
	req, err := SetIfaceParamsRequest(handle, hostNo, n)
	if err != nil {
		return err
	}
	_, err = c.request(ctx, req, -1, -1, false)
	return err
}

// SetHostParam sets a host parameter.
func (c *Conn) SetHostParam(ctx context.Context, handle uint64, hostNo uint32, p HostParam, value string) error {
	_, err := c.request(ctx, SetHostParamRequest(handle, hostNo, p, value), -1, -1, true)
	if err != nil {
		return fmt.Errorf("set host%d %s: %w", hostNo, p, err)
	}
	return nil
}

// StartConn moves a logged-in connection to full feature phase.
func (c *Conn) StartConn(ctx context.Context, handle uint64, sid, cid uint32) error {
	_, err := c.request(ctx, newRequest(UeventStartConn, handle, sid, cid), int(sid), int(cid), true)
	return err
}

// StopConn stops a connection (StopTerm before destroying it).
func (c *Conn) StopConn(ctx context.Context, handle uint64, sid, cid uint32, flag StopFlag) error {
	_, err := c.request(ctx, StopConnRequest(handle, sid, cid, flag), int(sid), int(cid), true)
	return err
}

// SendPDU has the kernel send one PDU on a connection still in login.
func (c *Conn) SendPDU(ctx context.Context, handle uint64, sid, cid uint32, hdr, data []byte) error {
	_, err := c.request(ctx, SendPDURequest(handle, sid, cid, hdr, data), int(sid), int(cid), true)
	return err
}

// RecvPDU waits for the next PDU the kernel passes up for the connection,
// or for a connection error on it.
func (c *Conn) RecvPDU(ctx context.Context, sid, cid uint32) (hdr, data []byte, err error) {
	k := connKey{sid, cid}
	var e *Uevent
	var ce *ConnError
	err = c.wait(ctx, fmt.Sprintf("kernel iSCSI connection %d:%d: waiting for a PDU", sid, cid), func() bool {
		if q := c.pdus[k]; len(q) > 0 {
			e, c.pdus[k] = q[0], q[1:]
			return true
		}
		ce = c.takeErr(k)
		return ce != nil
	})
	switch {
	case err != nil:
		return nil, nil, err
	case ce != nil:
		return nil, nil, ce
	}
	return splitPDU(e.Extra)
}

// ConnErrorFor returns and clears a connection error the kernel reported
// for sid:cid, if any.
func (c *Conn) ConnErrorFor(sid, cid uint32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ce := c.takeErr(connKey{sid, cid}); ce != nil {
		return ce
	}
	return nil
}

// WaitConnError waits, bounded by ctx, until the kernel reports an error on
// any connection in conns (ISCSI_KEVENT_CONN_ERROR: the target closed it,
// a PDU failed), and returns and clears it. Errors on other connections
// stay queued for their waiters.
func (c *Conn) WaitConnError(ctx context.Context, conns [][2]uint32) (*ConnError, error) {
	var ce *ConnError
	err := c.wait(ctx, "kernel iSCSI: waiting for a connection error", func() bool {
		for _, sc := range conns {
			if ce = c.takeErr(connKey{sc[0], sc[1]}); ce != nil {
				return true
			}
		}
		return false
	})
	return ce, err
}

// takeErr returns and clears the connection error queued for k, or nil.
// c.mu must be held.
func (c *Conn) takeErr(k connKey) *ConnError {
	code, ok := c.errs[k]
	if !ok {
		return nil
	}
	delete(c.errs, k)
	return &ConnError{SID: k.sid, CID: k.cid, Code: code}
}

// wait calls take with c.mu held, now and after every event the reader
// queues, until take reports it found what it waits for. It fails with the
// reader's error once the reader stopped, or with ctx's, after what, when
// ctx ends.
func (c *Conn) wait(ctx context.Context, what string, take func() bool) error {
	for {
		c.mu.Lock()
		if take() {
			c.mu.Unlock()
			return nil
		}
		if err := c.readErr; err != nil {
			c.mu.Unlock()
			return err
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
	}
}
