package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
)

// loginCmd logs in through the kernel: from the flags (-i -t -g -a), or
// from the firmware with -b. Its progress goes to stderr, where open-iscsi's
// iscsistart writes its own: scripts keep stdout for what they parse.
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
	return kernelLogin(ctx, o, p, stderr)
}

func kernelLogin(ctx context.Context, o *options, p *boot.Plan, stderr io.Writer) error {
	k, err := boot.OpenKernel(cmp.Or(p.Transport, "tcp"))
	if err != nil {
		return &iscsierr.Error{Code: iscsierr.TransNotFound, Err: err}
	}
	defer k.Close()
	// As open-iscsi's: every LUN of the target appears, not the boot one alone.
	k.ScanAll = true
	deadline := o.timeout
	if !o.timeoutSet { // o.timeout's default is the probe's
		deadline = boot.DefaultDeadline
	}
	sessions, err := boot.Run(ctx, p, k.Login, boot.RunOptions{Deadline: deadline, Log: stderr, Require: o.require})
	for _, s := range sessions {
		state := "logged in"
		if s.Already {
			state = "already logged in"
		}
		after := ""
		if s.Tries > 1 {
			after = fmt.Sprintf(" (%d attempts)", s.Tries)
		}
		fmt.Fprintf(stderr, "iscsistart: %s to %s at %s: session %d, %s%s\n", state, s.Target, s.Portal, s.SID, orDash(s.Device), after)
	}
	if len(sessions) > 1 {
		boot.Summary(stderr, sessions)
	}
	if n, rerr := leaveRecords(k, p, sessions); rerr != nil {
		fmt.Fprintf(stderr, "iscsistart: warning: %v\n", rerr)
	} else if n > 0 {
		fmt.Fprintf(stderr, "iscsistart: node records: %d left in /%s for the root's iscsid\n", n, boot.RunNodeDB)
	}
	if o.resident && len(sessions) > 0 {
		if rerr := startResident(k.ResidentState(p, sessions)); rerr != nil {
			fmt.Fprintf(stderr, "iscsistart: warning: %v\n", rerr)
		} else {
			fmt.Fprintf(stderr, "iscsistart: resident loop started: it keeps the sessions until iscsid runs\n")
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
