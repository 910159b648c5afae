package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/internal/esc"
	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
)

// loginConfig builds the core login configuration from the flags, through
// the same plan and boot.LoginConfig as a kernel login, so that -P names
// mean the same in both. Discovery logs in with the discovery session's
// offers and CHAP names, and without a target name.
func (o *options) loginConfig(discovery bool) (core.Config, error) {
	prefix := "node.session.auth."
	if discovery {
		prefix = "discovery.sendtargets.auth."
	}
	p, err := o.planAuth(prefix)
	if err != nil {
		return core.Config{}, err
	}
	if discovery && p.Initiator == "" {
		p.Initiator = "iqn.2025-01.org.iscsiboot:discovery"
	}
	if len(p.Targets) == 0 {
		return core.Config{}, iscsierr.Markf(iscsierr.ErrUsage, "IP Address not set (-a)")
	}
	t := &p.Targets[0]
	cfg, err := plan.LoginConfig(p, t, t.Portals[0])
	if err != nil {
		return cfg, iscsierr.Mark(iscsierr.ErrUsage, fmt.Errorf("invalid --param: %w", err))
	}
	if discovery {
		cfg.TargetName = ""
		if cfg.Offers, err = core.ApplyOverrides(core.DiscoveryOffers(), p.Params); err != nil {
			return cfg, iscsierr.Mark(iscsierr.ErrUsage, fmt.Errorf("invalid --param: %w", err))
		}
	}
	cfg.ISID = core.ISID(uint32(time.Now().UnixNano()) & 0xffffff)
	return cfg, nil
}

func dialTCP(ctx context.Context, addr string) (core.Transport, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return core.NewStreamTransport(c), nil
}

func closeTCP(t core.Transport) { t.(*core.StreamTransport).Close() }

// probe logs in over TCP in user space, prints what was negotiated and
// the LUNs the target offers, and logs out. Every string that came from
// the target, or that names it, is printed through esc.String, so that a
// target cannot put a control byte on the console or forge a line.
func probe(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	if err := o.checkLoginFlags(false); err != nil {
		return err
	}
	cfg, err := o.loginConfig(false)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	target := esc.String(cfg.TargetName)
	fmt.Fprintf(stdout, "iscsistart: Logging into %s %s,%d\n", target, esc.String(cfg.Portal), o.tpgt)
	begin := time.Now()
	s, portal, err := core.LoginRedirected(ctx, dialTCP, closeTCP, cfg)
	if err != nil {
		return err
	}
	defer closeTCP(s.Transport())
	took := time.Since(begin)
	portal = esc.String(portal)
	for _, w := range s.Warnings {
		fmt.Fprintf(stderr, "iscsistart: warning: %s\n", esc.String(w))
	}
	if o.tpgt >= 0 && s.Params.HaveTPGT && int(s.Params.TargetPortalGroupTag) != o.tpgt {
		fmt.Fprintf(stderr, "iscsistart: warning: target portal group tag is %d, -g said %d\n", s.Params.TargetPortalGroupTag, o.tpgt)
	}
	auth := s.AuthMethod
	if auth == "CHAP" {
		auth += " " + s.CHAPAlg.String()
		if cfg.Auth.Mutual() {
			auth += " mutual"
		}
	}
	fmt.Fprintf(stdout, "iscsistart: logged in to %s at %s (TSIH 0x%04x, auth %s) in %.1f ms\n",
		target, portal, s.TSIH, auth, float64(took.Microseconds())/1000)
	for _, kv := range s.Params.KVs() {
		fmt.Fprintf(stdout, "%s = %s\n", kv.Key, esc.String(kv.Value))
	}
	luns, err := s.ReportLUNs(ctx)
	if err != nil {
		return iscsierr.Markf(iscsierr.ErrSystem, "%s at %s: %v", target, portal, err)
	}
	for _, l := range luns {
		q, err := s.Inquiry(ctx, l)
		if err != nil {
			return iscsierr.Markf(iscsierr.ErrSystem, "%s at %s: %v", target, portal, err)
		}
		fmt.Fprintf(stdout, "LUN %d: %s %s %s %s\n", l, q.DeviceTypeName(), esc.String(q.Vendor), esc.String(q.Product),
			esc.String(q.Revision))
	}
	if err := s.Logout(ctx); err != nil {
		return iscsierr.Mark(iscsierr.ErrLogout, fmt.Errorf("logout from %s at %s: %w", target, portal, err))
	}
	fmt.Fprintf(stdout, "iscsistart: logged out of %s\n", target)
	return nil
}

// discover runs a SendTargets discovery session, printing one
// "ADDR:PORT,TPGT IQN" line per portal like iscsiadm -m discovery. The
// names and addresses are checked by SendTargets and escaped by
// FormatDiscovery.
func discover(ctx context.Context, o *options, stdout io.Writer) error {
	if o.address == "" {
		return iscsierr.Markf(iscsierr.ErrUsage, "IP Address not set (-a)")
	}
	cfg, err := o.loginConfig(true)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	s, _, err := core.LoginRedirected(ctx, dialTCP, closeTCP, cfg)
	if err != nil {
		return err
	}
	defer closeTCP(s.Transport())
	ts, err := s.SendTargets(ctx)
	if err != nil {
		return fmt.Errorf("SendTargets at %s: %w", esc.String(cfg.Portal), err)
	}
	if len(ts) == 0 {
		return iscsierr.Markf(iscsierr.ErrNotFound, "SendTargets at %s: no targets", esc.String(cfg.Portal))
	}
	io.WriteString(stdout, core.FormatDiscovery(ts))
	// A failed logout after a complete answer does not undo the answer.
	s.Logout(ctx)
	return nil
}
