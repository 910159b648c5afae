package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/iscsiboot/iscsiboot/boot"
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
		flags, _ := o.flagsPlan()
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

func kernelLogin(ctx context.Context, o *options, p *boot.Plan, stdout, stderr io.Writer) error {
	k, err := boot.OpenKernel("tcp")
	if err != nil {
		return &iscsierr.Error{Code: iscsierr.TransNotFound, Err: err}
	}
	defer k.Close()
	deadline := o.timeout
	if !o.timeoutSet {
		deadline = 120 * time.Second
	}
	sessions, err := boot.Run(ctx, p, k.Login, boot.RunOptions{Deadline: deadline, Log: stdout})
	for _, s := range sessions {
		state := "logged in"
		if s.Already {
			state = "already logged in"
		}
		fmt.Fprintf(stdout, "iscsistart: %s to %s at %s: session %d, %s\n", state, s.Target, s.Portal, s.SID, orDash(s.Device))
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
