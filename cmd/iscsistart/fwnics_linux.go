package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
	"github.com/iscsiboot/iscsiboot/netcfg"
)

// setupNICs is -N: bring up every NIC the firmware table names as
// open-iscsi's iscsistart does (see nicSetup), reporting on stderr as it
// does. It writes no hand-off file: the calling script writes Debian's
// /run/net-DEV.conf from -f's records and runs ipconfig for a DHCP NIC.
// Every NIC is tried; any failure is a transport error (exit 4).
func setupNICs(ctx context.Context, o *options, stderr io.Writer) error {
	t, err := loadTable(ctx, o)
	if err != nil {
		return err
	}
	setups, warns := nicSetups(t, ibft.SysResolver("/"))
	for _, w := range warns {
		fmt.Fprintf(stderr, "iscsistart: warning: %s\n", w)
	}
	if len(setups) == 0 {
		return iscsierr.Markf(iscsierr.ErrNotFound, "ibft: no NIC of the table can be set up")
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "iscsistart: "+format+"\n", args...) }
	var errs []error
	for _, s := range setups {
		res, err := netcfg.Configure(ctx, []netcfg.Interface{s.Iface}, netcfg.WithLogf(logf))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		link := res[0].Name
		for _, r := range s.Routes {
			if err := netcfg.HostRoute(ctx, link, r.Target, r.Gateway); err != nil {
				errs = append(errs, err)
				continue
			}
			via := "on link"
			if r.Gateway.IsValid() {
				via = "via " + r.Gateway.String()
			}
			logf("%s: host route to %s %s", link, r.Target, via)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return iscsierr.Mark(iscsierr.ErrNetwork, err)
	}
	return nil
}
