package main

import (
	"cmp"
	"context"
	"fmt"
	"io"

	"github.com/iscsiboot/iscsiboot/handoff"
	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
	"github.com/iscsiboot/iscsiboot/internal/trace"
)

// loginCmd logs in through the kernel: from the flags (-i -t -g -a), or
// from the firmware with -b. Its progress goes to stderr, where open-iscsi's
// iscsistart writes its own: scripts keep stdout for what they parse.
func loginCmd(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	var p, flags *plan.Plan
	if o.fwConnect {
		t, err := loadTable(ctx, o)
		if err != nil {
			return err
		}
		fw, err := plan.FromIBFT(t, nil)
		if err != nil {
			return iscsierr.Mark(iscsierr.ErrNotFound, err)
		}
		if flags, err = o.flagsPlan(); err != nil {
			return err
		}
		flags.Targets = nil
		p = plan.Merge(flags, nil, fw)
	} else {
		if err := o.checkLoginFlags(true); err != nil {
			return err
		}
		var err error
		if flags, err = o.flagsPlan(); err != nil {
			return err
		}
		p = plan.Merge(flags, nil, nil)
	}
	if o.multipath { // open-iscsi's iscsistart makes sessions only; --multipath asks for the map too
		p.Multipath = true
		plan.UseMultipathTimers(p, flags)
	}
	return kernelLogin(ctx, o, p, stderr)
}

func kernelLogin(ctx context.Context, o *options, p *plan.Plan, stderr io.Writer) error {
	trace.Mark("plan ready")
	k, err := boot.OpenKernel(cmp.Or(p.Transport, "tcp"))
	if err != nil {
		return err
	}
	defer k.Close()
	deadline := o.timeout
	if !o.timeoutSet { // o.timeout's default is the probe's
		deadline = boot.DefaultDeadline
	}
	sessions, err := boot.Run(ctx, p, k.Login, boot.RunOptions{Deadline: deadline, Log: stderr, Require: o.require, Offloaded: k.Offloaded()})
	trace.Mark("logins done")
	for _, s := range sessions {
		state := "logged in"
		if s.Already {
			state = "already logged in"
		}
		after := ""
		if s.Tries > 1 {
			after = fmt.Sprintf(" (%d attempts)", s.Tries)
		}
		fmt.Fprintf(stderr, "iscsistart: %s to %s at %s: session %d (transport %s), %s%s\n", state, s.Target, s.Portal, s.SID, cmp.Or(p.Transport, "tcp"), orDash(s.Device), after)
	}
	if len(sessions) > 1 {
		boot.Summary(stderr, sessions)
	}
	if n, rerr := handoff.LeaveRecords(k, p, sessions); rerr != nil {
		fmt.Fprintf(stderr, "iscsistart: warning: %v\n", rerr)
	} else if n > 0 {
		fmt.Fprintf(stderr, "iscsistart: node records: %d left in /%s for the root's iscsid\n", n, handoff.RunNodeDB)
	}
	trace.Mark("records left")
	var maps boot.Maps
	if o.multipath && len(sessions) > 0 {
		maps = multipathMaps(p, k.TargetSessions(p, sessions), func(f string, a ...any) { fmt.Fprintf(stderr, "iscsistart: "+f+"\n", a...) })
	}
	if o.resident && len(sessions) > 0 {
		st := handoff.NewResidentState(k, p, sessions)
		st.SetMaps(maps)
		if rerr := handoff.StartResident(st); rerr != nil {
			fmt.Fprintf(stderr, "iscsistart: warning: %v\n", rerr)
		} else {
			fmt.Fprintf(stderr, "iscsistart: resident loop started: it keeps the sessions until iscsid runs\n")
		}
	}
	return err
}

func orDash(s string) string {
	if s == "" {
		return "no block device"
	}
	return s
}
