package main

import (
	"context"
	"io"
	"net/netip"
	"strings"

	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
	"github.com/iscsiboot/iscsiboot/pid1"
)

// loadTable reads the iBFT from --ibft FILE or from the firmware.
func loadTable(ctx context.Context, o *options) (*ibft.Table, error) {
	var (
		t   *ibft.Table
		err error
	)
	if o.ibftFile != "" {
		t, err = ibft.ReadFile(o.ibftFile)
	} else {
		t, err = ibft.Load(ctx)
	}
	if err != nil {
		// A corrupt table (ibft.FormatError) is exit 7 nonetheless.
		return nil, iscsierr.Mark(iscsierr.ErrNotFound, err)
	}
	return t, nil
}

// fwPrint is -f: the firmware's boot records in open-iscsi's format.
func fwPrint(ctx context.Context, o *options, stdout io.Writer) error {
	t, err := loadTable(ctx, o)
	if err != nil {
		return err
	}
	recs := t.Records(ibft.SysResolver("/"))
	if len(recs) == 0 {
		return iscsierr.Markf(iscsierr.ErrNotFound, "could not get list of targets from firmware (%s)", t.Source)
	}
	if o.json {
		return ibft.WriteRecordsJSON(stdout, recs, o.showSecrets)
	}
	return ibft.WriteRecords(stdout, recs, o.showSecrets)
}

// flagsPlan is the plan the static login flags describe. The CHAP
// flags (-u -w -U -W) and their record names given with -P
// (node.session.auth.username and the like; -P comes last, as in
// open-iscsi's iscsistart) become the target's Auth, not Params.
func (o *options) flagsPlan() (*plan.Plan, error) {
	return o.planAuth("node.session.auth.")
}

// planAuth builds flagsPlan, taking the CHAP record names under authPrefix
// (node.session.auth. for a login, discovery.sendtargets.auth. for
// SendTargets discovery). The -P values were checked by checkParams.
func (o *options) planAuth(authPrefix string) (*plan.Plan, error) {
	p := &plan.Plan{Initiator: o.initiator, Params: map[string]string{}}
	auth := plan.Auth{Username: o.username, Password: plan.Secret(o.password),
		UsernameIn: o.usernameIn, PasswordIn: plan.Secret(o.passwordIn)}
	method := ""
	for _, prm := range o.params {
		name, ok := strings.CutPrefix(prm.name, authPrefix)
		switch {
		case prm.name == "iface.transport_name":
			p.Transport = prm.value
		case !ok && strings.Contains(prm.name, ".auth.") && !strings.HasSuffix(prm.name, ".chap_algs"):
			// the other prefix's CHAP: discovery's in a login, or the
			// session's in a discovery
		case !ok, name == "chap_algs":
			p.Params[prm.name] = prm.value
		case name == "username":
			auth.Username = prm.value
		case name == "password":
			auth.Password = plan.Secret(prm.value)
		case name == "username_in":
			auth.UsernameIn = prm.value
		case name == "password_in":
			auth.PasswordIn = plan.Secret(prm.value)
		case name == "authmethod":
			method = prm.value
		}
	}
	if method == "" && (auth.Username != "" || auth.Password != "") {
		method = plan.AuthCHAP
	}
	if method == plan.AuthCHAP {
		auth.Method = plan.AuthCHAP
	} else {
		auth = plan.Auth{}
	}
	if o.target != "" || o.address != "" {
		t := plan.Target{Name: o.target, TPGT: o.tpgt, Source: plan.SourceFlags,
			Portals: []plan.Portal{{Address: o.address, Port: o.port}}, Auth: auth}
		if a, err := netip.ParseAddr(o.address); err == nil {
			t.Portals[0].Address = a.Unmap().String()
		}
		if o.tpgt < 0 {
			t.TPGT = plan.DefaultTPGT
		}
		p.Targets = append(p.Targets, t)
	}
	return p, nil
}

// resolvePlan gathers every source into one plan: flags, then the kernel
// command line (--cmdline or /proc/cmdline), then the firmware table
// (--ibft FILE, or the machine's when the command line asks for it or
// nothing else names a target).
func resolvePlan(ctx context.Context, o *options) (*plan.Plan, error) {
	flags, err := o.flagsPlan()
	if err != nil {
		return nil, err
	}
	cmdline := o.cmdline
	if cmdline == "" {
		if cmdline, err = pid1.ReadCmdline("/proc/cmdline"); err != nil {
			return nil, iscsierr.Markf(iscsierr.ErrSystem, "%v", err)
		}
	}
	cp, err := plan.FromCmdline(cmdline)
	if err != nil {
		return nil, iscsierr.Mark(iscsierr.ErrUsage, err)
	}
	fw, err := plan.FirmwareFor(ctx, cp, plan.FirmwareOptions{
		Force:        o.ibftFile != "" || o.fwConnect,
		OtherTargets: len(flags.Targets) > 0,
		Load:         func(ctx context.Context) (*ibft.Table, error) { return loadTable(ctx, o) },
	})
	if err != nil {
		if iscsierr.Marked(err) {
			return nil, err // the table's own failure
		}
		return nil, iscsierr.Mark(iscsierr.ErrUsage, err)
	}
	p := plan.Merge(flags, cp, fw)
	plan.PlanMultipath(p, flags, cp, fw)
	if o.multipath {
		p.Multipath = true
		plan.UseMultipathTimers(p, flags, cp, fw)
	}
	return p, nil
}

// printPlan is --plan: the resolved plan as JSON, touching nothing.
func printPlan(ctx context.Context, o *options, stdout io.Writer) error {
	p, err := resolvePlan(ctx, o)
	if err != nil {
		return err
	}
	return p.WriteJSON(stdout)
}
