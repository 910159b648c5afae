package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
)

// loginCmd logs in through the kernel: from the flags (-i -t -g -a), or
// from the firmware with -b.
func loginCmd(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	var p *boot.Plan
	if o.fwConnect {
		t, err := loadTable(ctx, o)
		if err != nil {
			return err
		}
		fw, err := boot.FromIBFT(t, nil)
		if err != nil {
			return &iscsierr.Error{Code: iscsierr.NoObjsFound, Err: err}
		}
		flags, err := o.flagsPlan()
		if err != nil {
			return err
		}
		flags.Targets = nil
		p = boot.Merge(flags, nil, fw)
	} else {
		if err := o.checkLoginFlags(true); err != nil {
			return err
		}
		flags, err := o.flagsPlan()
		if err != nil {
			return err
		}
		p = boot.Merge(flags, nil, nil)
	}
	return kernelLogin(ctx, o, p, stdout, stderr)
}

// fwNetwork is -N: bring up every NIC the firmware table names, as it
// says (static address with its gateway as the default route, or DHCP),
// with a VLAN interface where the table has a VLAN.
func fwNetwork(ctx context.Context, o *options, stdout io.Writer) error {
	t, err := loadTable(ctx, o)
	if err != nil {
		return err
	}
	p, err := boot.FromIBFT(t, ibft.SysResolver("/"))
	if err != nil {
		return &iscsierr.Error{Code: iscsierr.NoObjsFound, Err: err}
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(stdout, "iscsistart: warning: %s\n", w)
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stdout, "iscsistart: "+format+"\n", args...) }
	if _, err := boot.NetworkUp(ctx, p, logf); err != nil {
		return &iscsierr.Error{Code: iscsierr.Trans, Err: err}
	}
	return nil
}

func kernelLogin(ctx context.Context, o *options, p *boot.Plan, stdout, stderr io.Writer) error {
	k, err := boot.OpenKernel(cmp.Or(p.Transport, "tcp"))
	if err != nil {
		return &iscsierr.Error{Code: iscsierr.TransNotFound, Err: err}
	}
	defer k.Close()
	deadline := o.timeout
	if !o.timeoutSet { // o.timeout's default is the probe's
		deadline = boot.DefaultDeadline
	}
	sessions, err := boot.Run(ctx, p, k.Login, boot.RunOptions{Deadline: deadline, Log: stdout, Require: o.require})
	for _, s := range sessions {
		state := "logged in"
		if s.Already {
			state = "already logged in"
		}
		after := ""
		if s.Tries > 1 {
			after = fmt.Sprintf(" (%d attempts)", s.Tries)
		}
		fmt.Fprintf(stdout, "iscsistart: %s to %s at %s: session %d (transport %s), %s%s\n", state, s.Target, s.Portal, s.SID, cmp.Or(p.Transport, "tcp"), orDash(s.Device), after)
	}
	if len(sessions) > 1 {
		boot.Summary(stdout, sessions)
	}
	if o.resident && len(sessions) > 0 {
		if rerr := startResident(k.ResidentState(p, sessions)); rerr != nil {
			fmt.Fprintf(stderr, "iscsistart: warning: %v\n", rerr)
		} else {
			fmt.Fprintf(stdout, "iscsistart: resident loop started: it keeps the sessions until iscsid runs\n")
		}
	}
	if err != nil {
		var pe *boot.PathError
		if errors.As(err, &pe) {
			return &iscsierr.Error{Code: iscsierr.Code(pe.Err), Err: err}
		}
		return err
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "no block device"
	}
	return s
}
