package boot

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/netcfg"
)

// SetupFirmwareNICs is iscsistart -N: bring up every NIC the firmware
// table t names as
// open-iscsi's iscsistart does (see nicSetup), reporting on stderr as it
// does. It writes no hand-off file: the calling script writes Debian's
// /run/net-DEV.conf from -f's records and runs ipconfig for a DHCP NIC.
// Every NIC is tried; the failures come back as one *NetworkError.
func SetupFirmwareNICs(ctx context.Context, t *ibft.Table, resolve ibft.Resolver, stderr io.Writer) error {
	setups, warns := nicSetups(t, resolve)
	for _, w := range warns {
		fmt.Fprintf(stderr, "iscsistart: warning: %s\n", w)
	}
	if len(setups) == 0 {
		return ErrNoFirmwareNIC
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
		return &NetworkError{Err: err}
	}
	return nil
}
