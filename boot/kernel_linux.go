package boot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/core/kernel"
)

// Kernel logs in through the Linux iSCSI transport: the order of requests
// is iscsid's (open-iscsi's initiator.c): connect, create session and
// connection, bind the socket, set the identity and recovery parameters,
// log in with PDUs the kernel carries, set the negotiated parameters,
// start the connection, then scan the boot LUN and wait for its disk.
type Kernel struct {
	nl     *kernel.Conn
	sys    kernel.Sysfs
	handle uint64
	tr     kernel.Transport // its name and caps decide socket or kernel endpoint (ep_connect)
	// DeviceWait bounds the wait for the boot LUN's block device after a
	// login.
	DeviceWait time.Duration
}

// OpenKernel opens the kernel transport named transport ("tcp", "iser",
// an offload driver's name).
func OpenKernel(transport string) (*Kernel, error) {
	sys := kernel.Sysfs{Root: "/"}
	tr, err := sys.Transport(transport)
	if err != nil {
		return nil, Fatal(err)
	}
	nl, err := kernel.Dial()
	if err != nil {
		return nil, Fatal(err)
	}
	return &Kernel{nl: nl, sys: sys, handle: tr.Handle, tr: tr, DeviceWait: 20 * time.Second}, nil
}

// Close closes the netlink socket. Sessions stay: they belong to the
// kernel now, and iscsid adopts them after switch_root.
func (k *Kernel) Close() error { return k.nl.Close() }

// Existing returns the kernel's session for t at portal, if it has one.
func (k *Kernel) Existing(t *Target, portal Portal) (kernel.SessionInfo, bool) {
	ss, _ := k.sys.Sessions()
	for _, s := range ss {
		if s.TargetName == t.Name && s.Address == portal.Address && s.Port == portal.Port {
			return s, true
		}
	}
	return kernel.SessionInfo{}, false
}

// Login implements LoginFunc. Redirects (login status 0x0101, 0x0102)
// are followed at once, up to core.MaxRedirects hops; a temporary one
// keeps the original portal as the session's persistent address, where
// iscsid reconnects after a failure, a permanent one replaces it (as
// open-iscsi does).
func (k *Kernel) Login(ctx context.Context, p *Plan, t *Target, portal Portal) (*Session, error) {
	begin := time.Now()
	if s, ok := k.Existing(t, portal); ok {
		dev := ""
		if s.Host >= 0 {
			dev = k.sys.BlockDevice(s.Host, t.LUN)
		}
		return &Session{Target: t.Name, Portal: portal, SID: s.SID, Device: dev, Already: true}, nil
	}
	var s *Session
	err := followRedirects(portal, func(at, persistent Portal) (err error) {
		s, err = k.login(ctx, p, t, at, persistent)
		return err
	})
	if s != nil {
		s.Portal, s.Took = portal, time.Since(begin)
	}
	return s, err
}

// followRedirects runs attempt at portal, and again at each portal a login
// redirects to (status 0x0101, 0x0102), up to core.MaxRedirects hops. The
// persistent portal it passes is where iscsid reconnects after a failure:
// the original one through a temporary redirect, the new one after a
// permanent redirect (as open-iscsi does).
func followRedirects(portal Portal, attempt func(at, persistent Portal) error) error {
	persistent, at := portal, portal
	for hop := 0; ; hop++ {
		err := attempt(at, persistent)
		var re *core.RedirectError
		if !errors.As(err, &re) {
			return err
		}
		if hop == core.MaxRedirects {
			return fmt.Errorf("more than %d redirects, last to %s: %w", core.MaxRedirects, re.Address, core.ErrRetryable)
		}
		host, port, _ := net.SplitHostPort(re.Address)
		n, _ := strconv.Atoi(port)
		at = Portal{Address: host, Port: n}
		if re.Permanent {
			persistent = at
		}
	}
}

// login is one connection's login at portal at, recording persistent as
// the session's address.
func (k *Kernel) login(ctx context.Context, p *Plan, t *Target, at, persistent Portal) (*Session, error) {
	// Connect first: a dead portal costs no kernel session. A socket
	// for iscsi_tcp, a kernel endpoint (ep_connect) for the others.
	ep, err := k.connect(ctx, t, at)
	if err != nil {
		return nil, err
	}
	defer ep.Close()

	cmdsMax, _ := strconv.Atoi(p.ParamValue("node.session.cmds_max"))
	depth, _ := strconv.Atoi(p.ParamValue("node.session.queue_depth"))
	sid, host, err := k.nl.CreateSessionOn(ctx, ep, initialCmdSN, uint16(cmdsMax), uint16(depth))
	if err != nil {
		ep.Disconnect()
		return nil, Fatal(err)
	}
	cid := uint32(0)
	undo := func() {
		ep.Disconnect() // a kernel endpoint first, as iscsid does
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// Stop before destroy even when never started, as iscsid does: the
		// stop releases the bound socket in the transport.
		k.nl.StopConn(cctx, k.handle, sid, cid, kernel.StopTerm)
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
	if err := k.loginOn(ctx, ep, p, t, at, persistent, sid, cid, true); err != nil {
		undo()
		return nil, err
	}
	out := &Session{Target: t.Name, Portal: at, SID: int(sid)}
	if p.ParamValue("node.session.scan") == "manual" {
		// As open-iscsi: the session's LUNs are the user's to add.
		return out, nil
	}
	// A LUN the plan names is probed alone; LUN 0 is what the flags and
	// an empty netroot field leave, where iscsistart scans the whole
	// target and takes its first disk (tgt's LUN 0 is a controller).
	any := t.LUN == 0
	scan := func() error { return k.sys.ScanLUN(int(host), t.LUN) }
	if any {
		scan = func() error { return k.sys.ScanAll(int(host)) }
	}
	if err := scan(); err != nil {
		return nil, Fatal(fmt.Errorf("logged in as session %d, but %w", sid, err))
	}
	wctx, cancel := context.WithTimeout(ctx, k.DeviceWait)
	defer cancel()
	dev, err := k.sys.WaitBlockDevice(wctx, int(host), t.LUN, any)
	if err == nil {
		err = waitOpenable(wctx, "/dev/"+dev)
	}
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
func (k *Kernel) loginOn(ctx context.Context, ep *kernel.Endpoint, p *Plan, t *Target, at, persistent Portal, sid, cid uint32, first bool) error {
	if err := k.nl.BindEndpoint(ctx, sid, cid, ep, true); err != nil {
		return err
	}
	if first {
		if err := k.setParams(ctx, sid, cid, identityParams(p, t, persistent)); err != nil {
			return Fatal(err)
		}
	}
	cfg, err := LoginConfig(p, t, at)
	if err != nil {
		return Fatal(err)
	}
	cfg.ISID = core.ISID(sid)
	cfg.CmdSN = initialCmdSN
	if k.tr.RDMA() {
		cfg.Offers = core.ISEROffers(cfg.Offers)
	}
	tr := &kernelTransport{nl: k.nl, handle: k.handle, sid: sid, cid: cid}
	s, err := core.Login(ctx, tr, &cfg)
	if err != nil {
		return err
	}
	if err := k.setParams(ctx, sid, cid, negotiatedParams(s)); err != nil {
		return Fatal(err)
	}
	return k.nl.StartConn(ctx, k.handle, sid, cid)
}

// Reopen logs in again on the kernel's session sid after its connection
// cid failed, as iscsid does at error recovery level 0
// (session_conn_reopen): stop the connection for recovery (the kernel
// keeps the session, its disk and its queued I/O, for up to the
// replacement timeout), connect to the persistent portal, bind the new
// socket to the same connection, log in with the session's ISID as a new
// session (the target ends the old one), set the negotiated parameters and
// start. Redirects are followed as in Login. A failed attempt leaves the
// connection stopped for the next one.
func (k *Kernel) Reopen(ctx context.Context, p *Plan, t *Target, sid, cid uint32, persistent Portal) error {
	return followRedirects(persistent, func(at, _ Portal) error {
		// Stopped for recovery: the failed connection at first, the
		// socket a redirected login left bound after.
		if err := k.nl.StopConn(ctx, k.handle, sid, cid, kernel.StopRecover); err != nil {
			return err
		}
		// What the failed login left queued is no answer to this one.
		k.nl.FlushConn(sid, cid)
		ep, err := k.connect(ctx, t, at)
		if err != nil {
			return err
		}
		defer ep.Close()
		if err := k.loginOn(ctx, ep, p, t, at, persistent, sid, cid, false); err != nil {
			ep.Disconnect()
			return err
		}
		return nil
	})
}

type param struct {
	p kernel.Param
	v string
}

func (k *Kernel) setParams(ctx context.Context, sid, cid uint32, ps []param) error {
	for _, x := range ps {
		err := k.nl.SetParam(ctx, k.handle, sid, cid, x.p, x.v)
		// A transport that does not keep a parameter says ENOSYS, as
		// iscsid also tolerates.
		if err != nil && !errors.Is(err, syscall.ENOSYS) {
			return err
		}
	}
	return nil
}

// identityParams are what iscsid's session sync reads back from sysfs to
// adopt the session after switch_root, plus the recovery timers of the
// table of session values; open-iscsi sets them before the login
// (initiator_common.c, iscsi_session_set_params).
func identityParams(p *Plan, t *Target, portal Portal) []param {
	ps := []param{
		{kernel.ParamTargetName, t.Name},
		{kernel.ParamPersistentAddress, portal.Address},
		{kernel.ParamPersistentPort, strconv.Itoa(portal.Port)},
	}
	for _, s := range Settings {
		if !s.InKernel {
			continue
		}
		v := p.ParamValue(s.Name)
		if s.Kernel == kernel.ParamFastAbort {
			v = map[string]string{"Yes": "1", "No": "0"}[v]
		}
		ps = append(ps, param{s.Kernel, v})
	}
	ps = append(ps, param{kernel.ParamIfaceName, ifaceName(t)}, param{kernel.ParamInitiatorName, p.Initiator})
	if t.Auth.Method == AuthCHAP {
		ps = append(ps, param{kernel.ParamUsername, t.Auth.Username}, param{kernel.ParamPassword, t.Auth.Password.Reveal()})
		if t.Auth.UsernameIn != "" {
			ps = append(ps, param{kernel.ParamUsernameIn, t.Auth.UsernameIn}, param{kernel.ParamPasswordIn, t.Auth.PasswordIn.Reveal()})
		}
	}
	return ps
}

// negotiatedParams are the login's outcome the kernel needs before it
// starts the connection (open-iscsi's iscsi_session_set_neg_params).
func negotiatedParams(s *core.Session) []param {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	u := func(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
	n := s.Params
	ps := []param{
		{kernel.ParamMaxRecvDLength, u(n.MaxRecvDataSegmentLength)},
		{kernel.ParamMaxXmitDLength, u(n.MaxXmitDataSegmentLength)},
		{kernel.ParamHdrDgstEn, b(n.HeaderDigest)},
		{kernel.ParamDataDgstEn, b(n.DataDigest)},
		{kernel.ParamInitialR2TEn, b(n.InitialR2T)},
		{kernel.ParamMaxR2T, u(n.MaxOutstandingR2T)},
		{kernel.ParamImmDataEn, b(n.ImmediateData)},
		{kernel.ParamFirstBurst, u(n.FirstBurstLength)},
		{kernel.ParamMaxBurst, u(n.MaxBurstLength)},
		{kernel.ParamPDUInOrderEn, b(n.DataPDUInOrder)},
		{kernel.ParamDataSeqInOrderEn, b(n.DataSequenceInOrder)},
		{kernel.ParamERL, u(n.ErrorRecoveryLevel)},
		{kernel.ParamIFMarkerEn, "0"},
		{kernel.ParamOFMarkerEn, "0"},
		{kernel.ParamExpStatSN, u(s.ExpStatSN)},
	}
	if n.HaveTPGT {
		ps = append(ps, param{kernel.ParamTPGT, strconv.Itoa(int(n.TargetPortalGroupTag))})
	}
	if n.TargetAlias != "" {
		ps = append(ps, param{kernel.ParamTargetAlias, n.TargetAlias})
	}
	return ps
}

// kernelTransport carries login PDUs through the kernel: SEND_PDU out,
// RECV_PDU in.
type kernelTransport struct {
	nl       *kernel.Conn
	handle   uint64
	sid, cid uint32
	itt      uint32
}

func (t *kernelTransport) WritePDU(ctx context.Context, p *core.PDU) error {
	b, err := p.MarshalBinary()
	if err != nil {
		return err
	}
	t.itt = p.ITT()
	return t.nl.SendPDU(ctx, t.handle, t.sid, t.cid, b[:core.BHSLen+len(p.AHS)], p.Data)
}

func (t *kernelTransport) ReadPDU(ctx context.Context) (*core.PDU, error) {
	hdr, data, err := t.nl.RecvPDU(ctx, t.sid, t.cid)
	if err != nil {
		return nil, err
	}
	p := &core.PDU{AHS: append([]byte(nil), hdr[core.BHSLen:]...), Data: append([]byte(nil), data...)}
	copy(p.BHS[:], hdr)
	// libiscsi sends our login PDU under a task tag of its own and hands
	// the answer up with that tag; the answer is to the PDU we sent.
	p.BHS[16], p.BHS[17], p.BHS[18], p.BHS[19] = byte(t.itt>>24), byte(t.itt>>16), byte(t.itt>>8), byte(t.itt)
	return p, nil
}

// waitOpenable waits, bounded by ctx, until the disk's device node opens:
// its sysfs entry shows up while the kernel is still adding the disk,
// and a mount at that moment fails with ENXIO (seen in QEMU).
func waitOpenable(ctx context.Context, path string) error {
	for {
		f, err := os.Open(path)
		if err == nil {
			f.Close()
			return nil
		}
		if !errors.Is(err, syscall.ENXIO) && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("open %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s does not open: %w (%w)", path, err, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// connect makes the transport end of a connection to portal at: a TCP
// socket for iscsi_tcp, a kernel endpoint (EP_CONNECT and EP_POLL) for
// iSER and the offload NICs, through the offload host on t's interface
// where the transport binds its endpoints to one.
func (k *Kernel) connect(ctx context.Context, t *Target, at Portal) (*kernel.Endpoint, error) {
	host := -1
	if k.tr.Route() == kernel.RouteEndpoint && k.tr.BindsHost() {
		h, err := k.sys.HostFor(k.tr, t.Iface, "")
		if err != nil {
			return nil, Fatal(err)
		}
		host = h
	}
	ep, err := k.nl.Connect(ctx, k.tr, host, at.Address, at.Port)
	if errors.Is(err, kernel.ErrHBALogin) {
		return nil, Fatal(err)
	}
	return ep, err
}
