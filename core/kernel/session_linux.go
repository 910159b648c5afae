package kernel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/internal/trace"
)

// Initiator logs in through the Linux iSCSI transport, in iscsid's order
// of requests (open-iscsi's initiator.c): connect, create the session and
// its connection, bind the socket, set the identity and recovery
// parameters, log in with PDUs the kernel carries (core's state machine),
// set the negotiated parameters, start the connection, then scan the LUN
// and wait for its disk.
type Initiator struct {
	nl     *Conn
	sys    Sysfs
	handle uint64
	tr     Transport // its name and caps decide socket or kernel endpoint (ep_connect)
	// DeviceWait bounds the wait for the LUN's block device after a
	// login.
	DeviceWait time.Duration
	// HBAWait bounds the wait for the session of an HBA that logs in by
	// itself (CAP_LOGIN_OFFLOAD).
	HBAWait time.Duration
}

// Open opens the kernel transport named transport ("tcp", "iser", an
// offload driver's name): its handle and capabilities from sysfs, and a
// NETLINK_ISCSI socket.
func Open(transport string) (*Initiator, error) {
	sys := Sysfs{Root: "/"}
	tr, err := sys.Transport(transport)
	if err != nil {
		return nil, Fatal(noTransport{err})
	}
	if tr.Route() == RouteHBA {
		// No request of ours goes to the kernel: the HBA made its
		// sessions, sysfs shows them.
		return NewHBAInitiator(sys, tr), nil
	}
	nl, err := Dial()
	if err != nil {
		return nil, Fatal(noTransport{err})
	}
	trace.Mark("netlink open")
	return &Initiator{nl: nl, sys: sys, handle: tr.Handle, tr: tr, DeviceWait: DefaultDeviceWait, HBAWait: DefaultHBAWait}, nil
}

// DefaultDeviceWait bounds the wait for a LUN's block device after a
// successful login (Initiator.DeviceWait).
const DefaultDeviceWait = 20 * time.Second

// DefaultHBAWait bounds the wait for an HBA's own boot session: a QLogic
// HBA logs in to its flash targets while its driver loads, and its
// sessions appear within seconds of the module.
const DefaultHBAWait = 30 * time.Second

// OpenHandle opens a NETLINK_ISCSI socket for the transport whose name
// and handle are already known: the resident loop, after switch_root, has
// no sysfs of the initramfs to look them up in. The name decides socket or
// kernel endpoint for Reopen.
func OpenHandle(transport string, handle uint64) (*Initiator, error) {
	nl, err := Dial()
	if err != nil {
		return nil, err
	}
	return &Initiator{nl: nl, sys: Sysfs{Root: "/"}, handle: handle, tr: Transport{Name: transport, Handle: handle}}, nil
}

// NewInitiator returns an Initiator over nl and sys, for tests.
func NewInitiator(nl *Conn, sys Sysfs, handle uint64) *Initiator {
	return &Initiator{nl: nl, sys: sys, handle: handle, DeviceWait: DefaultDeviceWait}
}

// Close closes the netlink socket. Sessions stay: they belong to the
// kernel now, and iscsid adopts them after switch_root.
func (k *Initiator) Close() error {
	if k.nl == nil {
		return nil
	}
	return k.nl.Close()
}

// Handle is the transport's handle.
func (k *Initiator) Handle() uint64 { return k.handle }

// Sysfs is the sysfs the initiator looks sessions and disks up in.
func (k *Initiator) Sysfs() Sysfs { return k.sys }

// WaitConnError waits for the kernel's connection error on one of conns
// (see Conn.WaitConnError).
func (k *Initiator) WaitConnError(ctx context.Context, conns [][2]uint32) (*ConnError, error) {
	if k.nl == nil {
		return nil, fmt.Errorf("%s recovers its own sessions: %w", k.tr.Name, ErrHBALogin)
	}
	return k.nl.WaitConnError(ctx, conns)
}

// DropConnError drops a queued connection error of sid:cid, if any: one
// the caller already knows of (see Conn.ConnErrorFor).
func (k *Initiator) DropConnError(sid, cid uint32) {
	if k.nl != nil {
		k.nl.ConnErrorFor(sid, cid)
	}
}

// Login is one path's login: a target through one portal.
type Login struct {
	// Portal is where to connect, host:port (IPv6 in brackets); it is
	// also the session's persistent portal until a permanent redirect.
	Portal string
	// Config is the login's configuration (names, CHAP, offers); the ISID
	// and CmdSN are the kernel session's.
	Config core.Config
	// Params are set before the first login, after the target name and
	// persistent portal: the recovery timers and the identity iscsid reads
	// back from sysfs to adopt the session (iface, initiator, CHAP).
	Params []ParamValue
	// CmdsMax and QueueDepth size the kernel session (CREATE_SESSION).
	CmdsMax, QueueDepth uint16
	// LUN is the LUN to scan first and wait for; every other LUN the
	// target reports is scanned once its disk is there (Sysfs.ScanBoot).
	// With AnyLUN the whole target is scanned at once and its first disk
	// taken (what iscsistart does with flags, where tgt's LUN 0 is a
	// controller).
	LUN    uint64
	AnyLUN bool
	// NoScan leaves the LUNs to the user (node.session.scan=manual).
	NoScan bool
	// Iface is the network interface of the target's sessions: an offload
	// transport connects through the SCSI host on it.
	Iface string
	// HostNet is the network of the offload host's iSCSI iface, set
	// before its endpoint connects; nil leaves the host as it is.
	HostNet *HostNet
	// HBA is the SCSI host ("host3") whose HBA logs in by itself and
	// published the target in /sys/firmware/iscsi_boot<N>; "" for any
	// host of the transport.
	HBA string
}

// ParamValue is one parameter to set on a session or connection.
type ParamValue struct {
	Param Param
	Value string
}

// Session is a session the kernel has: its id, SCSI host, and the disk of
// the LUN it was asked for.
type Session struct {
	SID    int
	Host   int
	Device string // "sda", or "" before the scan or with NoScan
	// Portal is where it logged in (after any redirect).
	Portal string
}

// Existing returns the kernel's session of target at address:port, if it
// has one.
func (k *Initiator) Existing(target, address string, port int) (SessionInfo, bool) {
	ss, _ := k.sys.Sessions()
	for _, s := range ss {
		if s.TargetName == target && s.Address == address && s.Port == port {
			return s, true
		}
	}
	return SessionInfo{}, false
}

// Login logs in as l says and, unless NoScan, waits for the LUN's disk.
// Redirects (login status 0x0101, 0x0102) are followed through core's one
// redirect loop: a temporary one keeps the original portal as the
// session's persistent address, where iscsid reconnects after a failure,
// a permanent one replaces it (as open-iscsi does).
func (k *Initiator) Login(ctx context.Context, l *Login) (*Session, error) {
	if k.tr.Route() == RouteHBA {
		return k.hbaSession(ctx, l)
	}
	var s *Session
	err := core.FollowRedirects(l.Portal, l.Config.TargetName, func(at, persistent string) (err error) {
		s, err = k.login(ctx, l, at, persistent)
		return err
	})
	return s, err
}

// login is one connection's login at portal at, recording persistent as
// the session's address.
func (k *Initiator) login(ctx context.Context, l *Login, at, persistent string) (*Session, error) {
	// Connect first: a dead portal costs no kernel session. A socket for
	// iscsi_tcp, a kernel endpoint (ep_connect) for the others.
	ep, err := k.connect(ctx, l, at)
	if err != nil {
		return nil, err
	}
	defer ep.Close()

	sid, host, err := k.nl.CreateSessionOn(ctx, ep, initialCmdSN, l.CmdsMax, l.QueueDepth)
	if err != nil {
		ep.Disconnect()
		return nil, Fatal(err)
	}
	trace.Mark("session created")
	cid := uint32(0)
	undo := func() {
		ep.Disconnect() // a kernel endpoint first, as iscsid does
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// Stop before destroy even when never started, as iscsid does: the
		// stop releases the bound socket in the transport.
		k.nl.StopConn(cctx, k.handle, sid, cid, StopTerm)
		k.nl.DestroyConn(cctx, k.handle, sid, cid)
		k.nl.DestroySession(cctx, k.handle, sid)
	}
	if cid, err = k.nl.CreateConn(ctx, k.handle, sid, 0); err != nil {
		ep.Disconnect()
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		k.nl.DestroySession(cctx, k.handle, sid)
		cancel()
		return nil, Fatal(err)
	}
	trace.Mark("connection created")
	if err := k.loginOn(ctx, ep, l, at, persistent, sid, cid, true); err != nil {
		undo()
		return nil, err
	}
	out := &Session{SID: int(sid), Host: int(host), Portal: at}
	if l.NoScan {
		return out, nil
	}
	wctx, cancel := context.WithTimeout(ctx, k.DeviceWait)
	defer cancel()
	dev, err := k.sys.ScanBoot(wctx, int(host), l.LUN, l.AnyLUN)
	out.Device = dev
	if err != nil {
		// The session is up and stays up; only the disk is missing,
		// which no retry of the login mends.
		return nil, Fatal(fmt.Errorf("logged in as session %d, but %w", sid, err))
	}
	return out, nil
}

// initialCmdSN is the CmdSN of every login, the first and each reopen, as
// iscsid sends it.
const initialCmdSN = 1

// loginOn logs in over the connected endpoint ep on the kernel's
// connection sid:cid and starts it: what a first login and a reopen share.
// first sets the session's identity and timers before (a reopen keeps
// them).
func (k *Initiator) loginOn(ctx context.Context, ep *Endpoint, l *Login, at, persistent string, sid, cid uint32, first bool) error {
	if err := k.nl.BindEndpoint(ctx, sid, cid, ep, true); err != nil {
		return err
	}
	trace.Mark("connection bound")
	if first {
		host, port, err := net.SplitHostPort(persistent)
		if err != nil {
			return Fatal(fmt.Errorf("persistent portal %s: %w", persistent, err))
		}
		ps := append([]ParamValue{
			{ParamTargetName, l.Config.TargetName},
			{ParamPersistentAddress, host},
			{ParamPersistentPort, port},
		}, l.Params...)
		if err := k.setParams(ctx, sid, cid, ps); err != nil {
			return Fatal(err)
		}
		trace.Mark("identity params set")
	}
	cfg := l.Config
	cfg.Portal = at
	cfg.ISID = core.ISID(sid)
	cfg.CmdSN = initialCmdSN
	if k.tr.RDMA() {
		cfg.Offers = core.ISEROffers(cfg.Offers)
	}
	tr := &transport{nl: k.nl, handle: k.handle, sid: sid, cid: cid}
	s, err := core.Login(ctx, tr, &cfg)
	if err != nil {
		return err
	}
	if err := k.setParams(ctx, sid, cid, negotiatedParams(s)); err != nil {
		return Fatal(err)
	}
	trace.Mark("negotiated params set")
	if err := k.nl.StartConn(ctx, k.handle, sid, cid); err != nil {
		return err
	}
	trace.Mark("connection started")
	return nil
}

// Reopen logs in again on the kernel's session sid after its connection
// cid failed, as iscsid does at error recovery level 0
// (session_conn_reopen): stop the connection for recovery (the kernel
// keeps the session, its disk and its queued I/O, for up to the
// replacement timeout), connect to the persistent portal (l.Portal), bind
// the new socket to the same connection, log in with the session's ISID as
// a new session (the target ends the old one), set the negotiated
// parameters and start. Redirects are followed as in Login. A failed
// attempt leaves the connection stopped for the next one.
func (k *Initiator) Reopen(ctx context.Context, l *Login, sid, cid uint32) error {
	return core.FollowRedirects(l.Portal, l.Config.TargetName, func(at, _ string) error {
		// Stopped for recovery: the failed connection at first, the
		// socket a redirected login left bound after.
		if err := k.nl.StopConn(ctx, k.handle, sid, cid, StopRecover); err != nil {
			return err
		}
		// What the failed login left queued is no answer to this one.
		k.nl.FlushConn(sid, cid)
		ep, err := k.connect(ctx, l, at)
		if err != nil {
			return err
		}
		defer ep.Close()
		if err := k.loginOn(ctx, ep, l, at, l.Portal, sid, cid, false); err != nil {
			ep.Disconnect()
			return err
		}
		return nil
	})
}

func (k *Initiator) setParams(ctx context.Context, sid, cid uint32, ps []ParamValue) error {
	for _, x := range ps {
		err := k.nl.SetParam(ctx, k.handle, sid, cid, x.Param, x.Value)
		// A transport that does not keep a parameter says ENOSYS, as
		// iscsid also tolerates.
		if err != nil && !errors.Is(err, syscall.ENOSYS) {
			return err
		}
	}
	return nil
}

// negotiatedParams are the login's outcome the kernel needs before it
// starts the connection (open-iscsi's iscsi_session_set_neg_params).
func negotiatedParams(s *core.Session) []ParamValue {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	u := func(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
	n := s.Params
	ps := []ParamValue{
		{ParamMaxRecvDLength, u(n.MaxRecvDataSegmentLength)},
		{ParamMaxXmitDLength, u(n.MaxXmitDataSegmentLength)},
		{ParamHdrDgstEn, b(n.HeaderDigest)},
		{ParamDataDgstEn, b(n.DataDigest)},
		{ParamInitialR2TEn, b(n.InitialR2T)},
		{ParamMaxR2T, u(n.MaxOutstandingR2T)},
		{ParamImmDataEn, b(n.ImmediateData)},
		{ParamFirstBurst, u(n.FirstBurstLength)},
		{ParamMaxBurst, u(n.MaxBurstLength)},
		{ParamPDUInOrderEn, b(n.DataPDUInOrder)},
		{ParamDataSeqInOrderEn, b(n.DataSequenceInOrder)},
		{ParamERL, u(n.ErrorRecoveryLevel)},
		{ParamIFMarkerEn, "0"},
		{ParamOFMarkerEn, "0"},
		{ParamExpStatSN, u(s.ExpStatSN)},
	}
	if n.HaveTPGT {
		ps = append(ps, ParamValue{ParamTPGT, strconv.Itoa(int(n.TargetPortalGroupTag))})
	}
	if n.TargetAlias != "" {
		ps = append(ps, ParamValue{ParamTargetAlias, n.TargetAlias})
	}
	return ps
}

// transport carries login PDUs through the kernel: SEND_PDU out, RECV_PDU
// in. It is core.Transport for the kernel's connections.
type transport struct {
	nl       *Conn
	handle   uint64
	sid, cid uint32
	itt      uint32
	answers  int // login PDUs answered, for the trace
}

func (t *transport) WritePDU(ctx context.Context, p *core.PDU) error {
	b, err := p.MarshalBinary()
	if err != nil {
		return err
	}
	t.itt = p.ITT()
	return t.nl.SendPDU(ctx, t.handle, t.sid, t.cid, b[:core.BHSLen+len(p.AHS)], p.Data)
}

func (t *transport) ReadPDU(ctx context.Context) (*core.PDU, error) {
	hdr, data, err := t.nl.RecvPDU(ctx, t.sid, t.cid)
	if err != nil {
		return nil, err
	}
	t.answers++
	trace.MarkN("login PDU answered", t.answers)
	p := &core.PDU{AHS: append([]byte(nil), hdr[core.BHSLen:]...), Data: append([]byte(nil), data...)}
	copy(p.BHS[:], hdr)
	// libiscsi sends our login PDU under a task tag of its own and hands
	// the answer up with that tag; the answer is to the PDU we sent.
	p.BHS[16], p.BHS[17], p.BHS[18], p.BHS[19] = byte(t.itt>>24), byte(t.itt>>16), byte(t.itt>>8), byte(t.itt)
	return p, nil
}

// connect makes the transport end of a connection to portal at
// (host:port): a TCP socket for iscsi_tcp, a kernel endpoint (EP_CONNECT
// and EP_POLL) for iSER and the offload NICs, through the offload host on
// netdev where the transport binds its endpoints to one.
func (k *Initiator) connect(ctx context.Context, l *Login, at string) (*Endpoint, error) {
	addr, p, err := net.SplitHostPort(at)
	if err != nil {
		return nil, Fatal(fmt.Errorf("portal %s: %w", at, err))
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return nil, Fatal(fmt.Errorf("portal %s: %w", at, err))
	}
	host := -1
	if k.tr.Route() == RouteEndpoint && k.tr.BindsHost() {
		if l.HBA != "" {
			// The offload host whose firmware named the target.
			if host, err = ParseHostName(l.HBA); err != nil {
				return nil, Fatal(fmt.Errorf("%s: %w", k.tr.Name, err))
			}
		} else if host, err = k.sys.HostFor(k.tr, l.Iface, ""); err != nil {
			return nil, Fatal(err)
		}
		if err := k.setHostNet(ctx, host, l.HostNet); err != nil {
			return nil, Fatal(err)
		}
	}
	trace.Mark("connecting")
	ep, err := k.nl.Connect(ctx, k.tr, host, addr, port)
	if errors.Is(err, ErrHBALogin) {
		return nil, Fatal(err)
	}
	if err == nil {
		trace.Mark("connected") // TCP, or the kernel's endpoint
	}
	return ep, err
}

// SetPathResolver answers the kernel's PATH_REQ with f while endpoints
// connect (Conn.SetPathResolver): for offload NICs that keep their own
// TCP stack and ask for the route (bnx2i, qedi). Without a netlink socket
// (an HBA that logs in by itself) there is nothing to answer.
func (k *Initiator) SetPathResolver(f PathResolver) {
	if k.nl != nil {
		k.nl.SetPathResolver(f)
	}
}

// setHostNet gives offload host host the network of its iSCSI iface
// before it connects, as iscsiadm and iscsid do for the transports whose
// hosts need it (Transport.HostIP): SET_IFACE_PARAMS, then the host's
// address with SET_HOST_PARAM. A transport that takes neither (ENOSYS,
// and EINVAL from old kernels, as iscsid tolerates) keeps its own.
func (k *Initiator) setHostNet(ctx context.Context, host int, n *HostNet) error {
	if n == nil {
		if k.tr.HostIP() == HostIPRequired {
			return fmt.Errorf("%s host%d needs the address of its iSCSI iface (ip=<address>:::<mask>::<netdev> or -P iface.ipaddress): %w",
				k.tr.Name, host, errHostNet)
		}
		return nil
	}
	tolerated := func(err error) bool { return errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EINVAL) }
	if err := k.nl.SetIfaceParams(ctx, k.handle, uint32(host), *n); err != nil && !errors.Is(err, syscall.ENOSYS) {
		return fmt.Errorf("%s host%d: iface %s: %w", k.tr.Name, host, n.Address, err)
	}
	if k.tr.HostIP() == HostIPNone {
		return nil
	}
	if err := k.nl.SetHostParam(ctx, k.handle, uint32(host), HostParamIPAddress, n.Address.Addr().String()); err != nil && !tolerated(err) {
		return fmt.Errorf("%s host%d: address %s: %w", k.tr.Name, host, n.Address.Addr(), err)
	}
	return nil
}

// Transport is the transport the initiator logs in through.
func (k *Initiator) Transport() Transport { return k.tr }

// hbaSession is the login over an HBA that logs in by itself: none of
// ours. It waits, bounded by HBAWait, for the HBA's logged-in session to
// l's target and portal on l's host, then for its disk (the driver scans
// its sessions itself), and reports that session as the login's.
func (k *Initiator) hbaSession(ctx context.Context, l *Login) (*Session, error) {
	addr, p, err := net.SplitHostPort(l.Portal)
	if err != nil {
		return nil, Fatal(fmt.Errorf("portal %s: %w", l.Portal, err))
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return nil, Fatal(fmt.Errorf("portal %s: %w", l.Portal, err))
	}
	q := HBAQuery{Transport: k.tr, Host: -1, Target: l.Config.TargetName, Address: addr, Port: port}
	if l.HBA != "" {
		if q.Host, err = ParseHostName(l.HBA); err != nil {
			return nil, Fatal(fmt.Errorf("%s: %w", k.tr.Name, err))
		}
	}
	wctx, cancel := context.WithTimeout(ctx, k.HBAWait)
	defer cancel()
	si, err := k.sys.WaitHBASession(wctx, q)
	if err != nil {
		return nil, Fatal(err)
	}
	out := &Session{SID: si.SID, Host: si.Host, Portal: l.Portal}
	if l.NoScan {
		return out, nil
	}
	dctx, cancel := context.WithTimeout(ctx, k.DeviceWait)
	defer cancel()
	dev, err := k.sys.WaitSessionDisk(dctx, si.SID, l.LUN, l.AnyLUN)
	if err == nil {
		err = k.sys.waitOpenable(dctx, dev)
	}
	if err != nil {
		return nil, Fatal(fmt.Errorf("%s session %d on host%d to %s: %w", k.tr.Name, si.SID, si.Host, q, err))
	}
	out.Device = dev
	return out, nil
}

// NewHBAInitiator returns an Initiator for transport tr, whose HBA logs
// in by itself, over the sysfs tree sys: no netlink socket, as Open
// makes none for it.
func NewHBAInitiator(sys Sysfs, tr Transport) *Initiator {
	return &Initiator{sys: sys, handle: tr.Handle, tr: tr, DeviceWait: DefaultDeviceWait, HBAWait: DefaultHBAWait}
}
