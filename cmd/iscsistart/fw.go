package main

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"strings"

	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/initramfs/pid1"
	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
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
		code := iscsierr.NoObjsFound
		var fe *ibft.FormatError
		if errors.As(err, &fe) {
			code = iscsierr.Invalid
		}
		return nil, &iscsierr.Error{Code: code, Err: err}
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
		return iscsierr.Errorf(iscsierr.NoObjsFound, "could not get list of targets from firmware (%s)", t.Source)
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
func (o *options) flagsPlan() (*boot.Plan, error) {
	return o.planAuth("node.session.auth.")
}

// planAuth builds flagsPlan, taking the CHAP record names under authPrefix
// (node.session.auth. for a login, discovery.sendtargets.auth. for
// SendTargets discovery). The -P values were checked by checkParams.
func (o *options) planAuth(authPrefix string) (*boot.Plan, error) {
	p := &boot.Plan{Initiator: o.initiator, Params: map[string]string{}}
	auth := boot.Auth{Username: o.username, Password: boot.Secret(o.password),
		UsernameIn: o.usernameIn, PasswordIn: boot.Secret(o.passwordIn)}
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
			auth.Password = boot.Secret(prm.value)
		case name == "username_in":
			auth.UsernameIn = prm.value
		case name == "password_in":
			auth.PasswordIn = boot.Secret(prm.value)
		case name == "authmethod":
			method = prm.value
		}
	}
	if method == "" && (auth.Username != "" || auth.Password != "") {
		method = boot.AuthCHAP
	}
	if method == boot.AuthCHAP {
		auth.Method = boot.AuthCHAP
	} else {
		auth = boot.Auth{}
	}
	if o.target != "" || o.address != "" {
		t := boot.Target{Name: o.target, TPGT: o.tpgt, Source: boot.SourceFlags,
			Portals: []boot.Portal{{Address: o.address, Port: o.port}}, Auth: auth}
		if a, err := netip.ParseAddr(o.address); err == nil {
			t.Portals[0].Address = a.Unmap().String()
		}
		if o.tpgt < 0 {
			t.TPGT = boot.DefaultTPGT
		}
		p.Targets = append(p.Targets, t)
	}
	return p, nil
}

// resolvePlan gathers every source into one plan: flags, then the kernel
// command line (--cmdline or /proc/cmdline), then the firmware table
// (--ibft FILE, or the machine's when the command line asks for it or
// nothing else names a target).
func resolvePlan(ctx context.Context, o *options) (*boot.Plan, error) {
	flags, err := o.flagsPlan()
	if err != nil {
		return nil, err
	}
	cmdline := o.cmdline
	if cmdline == "" {
		if cmdline, err = pid1.ReadCmdline("/proc/cmdline"); err != nil {
			return nil, iscsierr.Errorf(iscsierr.Generic, "%v", err)
		}
	}
	cp, err := boot.FromCmdline(cmdline)
	if err != nil {
		return nil, &iscsierr.Error{Code: iscsierr.Invalid, Err: err}
	}
	fw, err := boot.FirmwareFor(ctx, cp, boot.FirmwareOptions{
		Force:        o.ibftFile != "" || o.fwConnect,
		OtherTargets: len(flags.Targets) > 0,
		Load:         func(ctx context.Context) (*ibft.Table, error) { return loadTable(ctx, o) },
	})
	if err != nil {
		var ie *iscsierr.Error
		if errors.As(err, &ie) {
			return nil, err
		}
		return nil, &iscsierr.Error{Code: iscsierr.Invalid, Err: err}
	}
	p := boot.Merge(flags, cp, fw)
	boot.PlanMultipath(p, flags, cp, fw)
	if o.multipath {
		p.Multipath = true
		boot.UseMultipathTimers(p, flags, cp, fw)
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
