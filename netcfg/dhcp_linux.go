//go:build linux && !dropin

package netcfg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/dhcpv6/nclient6"
	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// maxRetransmitWait caps the doubling wait between DISCOVERs (or SOLICITs). RFC 2131 starts at 4 s and goes
// to 64 s; at boot nobody waits a minute between tries.
const maxRetransmitWait = 4 * time.Second

// errStartOver makes retransmit go on to the next attempt, as after a lost packet.
var errStartOver = errors.New("start over")

// retransmit runs try with a per-attempt deadline that starts at first and doubles up to maxRetransmitWait,
// until try succeeds, fails for another reason than its attempt deadline, or ctx ends. It returns the number
// of attempts made.
func retransmit(ctx context.Context, first time.Duration, try func(ctx context.Context) error) (int, error) {
	wait := first
	for n := 1; ; n++ {
		actx, cancel := context.WithTimeout(ctx, wait)
		err := try(actx)
		cancel()
		switch {
		case err == nil:
			return n, nil
		case ctx.Err() != nil:
			return n, ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, errStartOver) &&
			!errors.Is(err, nclient4.ErrNoResponse) && !errors.Is(err, nclient6.ErrNoResponse):
			return n, err
		}
		wait = min(2*wait, maxRetransmitWait)
	}
}

// requestedOptions4 asks for what an iSCSI boot uses; the rest of a server's options are not needed.
var requestedOptions4 = dhcpv4.WithRequestedOptions(
	dhcpv4.OptionSubnetMask,
	dhcpv4.OptionRouter,
	dhcpv4.OptionDomainNameServer,
	dhcpv4.OptionHostName,
	dhcpv4.OptionDomainName,
	dhcpv4.OptionRootPath,
	dhcpv4.OptionInterfaceMTU,
	dhcpv4.OptionBroadcastAddress,
	dhcpv4.OptionVendorSpecificInformation,
	dhcpv4.OptionDNSDomainSearchList,
	dhcpv4.OptionClasslessStaticRoute,
	dhcpv4.OptionBootfileName,
	dhcpv4.GenericOptionCode(optionISCSIInitiator),
)

// dhcp4 runs DISCOVER/OFFER/REQUEST/ACK on link l within o.dhcpTimeout and returns the lease. A NAK starts
// over with a new DISCOVER.
func dhcp4(ctx context.Context, l Link, hostname string, o *options) (lease4, error) {
	ctx, cancel := context.WithTimeout(ctx, o.dhcpTimeout)
	defer cancel()
	start := time.Now()
	nonBlockingXIDs()
	// nclient4's own retry and timeout are set out of the way: retransmit decides, so the error can say how
	// many DISCOVERs went out.
	c, err := nclient4.New(l.Name, nclient4.WithRetry(1), nclient4.WithTimeout(o.dhcpTimeout))
	if err != nil {
		return lease4{}, fmt.Errorf("open socket: %w", err)
	}
	defer c.Close()
	mods := []dhcpv4.Modifier{requestedOptions4}
	if hostname != "" {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptHostName(hostname)))
	}
	var ack *dhcpv4.DHCPv4
	offers := 0
	n, err := retransmit(ctx, o.dhcpFirstWait, func(actx context.Context) error {
		offer, err := c.DiscoverOffer(actx, mods...)
		if err != nil {
			return err
		}
		offers++
		o.logf("%s: DHCPv4 offer of %s from %s", l.Name, offer.YourIPAddr, offer.ServerIdentifier())
		lease, err := c.RequestFromOffer(actx, offer, mods...)
		var nak *nclient4.ErrNak
		if errors.As(err, &nak) {
			o.logf("%s: DHCPv4 NAK from %s: %s", l.Name, nak.Nak.ServerIdentifier(), esc.Clip(nak.Nak.Message(), 255))
			return errStartOver // RFC 2131, Section 3.1: after a NAK the client restarts with a DISCOVER
		}
		if err != nil {
			return err
		}
		ack = lease.ACK
		return nil
	})
	if err != nil {
		took := time.Since(start).Round(100 * time.Millisecond)
		if ctx.Err() == nil {
			return lease4{}, err
		}
		if offers == 0 {
			return lease4{}, &timeoutError{what: fmt.Sprintf("no offer within %s (%d DISCOVERs sent)", took, n), err: ErrTimeout}
		}
		return lease4{}, &timeoutError{what: fmt.Sprintf("no ACK within %s (%d offers, %d DISCOVERs sent)", took, offers, n), err: ErrTimeout}
	}
	return leaseFromACK(ack)
}

// netboot6 asks the server for the boot file URL (option 59), where a DHCPv6 server puts an iSCSI root path.
var netboot6 = dhcpv6.WithRequestedOptions(dhcpv6.OptionBootfileURL)

// dhcp6 runs SOLICIT/ADVERTISE/REQUEST/REPLY on link l within o.dhcpTimeout. The client socket is bound to
// the link-local address, so it first waits for that address to leave duplicate address detection.
func dhcp6(ctx context.Context, c *Conn, l Link, o *options) (lease6, error) {
	ctx, cancel := context.WithTimeout(ctx, o.dhcpTimeout)
	defer cancel()
	start := time.Now()
	if _, err := waitAddress(ctx, c, l.Index, func(a Address) bool {
		return a.Prefix.Addr().Is6() && a.Prefix.Addr().IsLinkLocalUnicast() && !a.Tentative()
	}); err != nil {
		return lease6{}, &timeoutError{what: fmt.Sprintf("no usable link-local address within %s", time.Since(start).Round(100*time.Millisecond)), err: ErrTimeout}
	}
	nonBlockingXIDs()
	cl, err := nclient6.New(l.Name, nclient6.WithRetry(1), nclient6.WithTimeout(o.dhcpTimeout))
	if err != nil {
		return lease6{}, fmt.Errorf("open socket: %w", err)
	}
	defer cl.Close()
	var reply *dhcpv6.Message
	advertised := 0
	n, err := retransmit(ctx, o.dhcpFirstWait, func(actx context.Context) error {
		adv, err := cl.Solicit(actx, netboot6)
		if err != nil {
			return err
		}
		advertised++
		r, err := cl.Request(actx, adv, netboot6)
		if err != nil {
			return err
		}
		reply = r
		return nil
	})
	if err != nil {
		took := time.Since(start).Round(100 * time.Millisecond)
		if ctx.Err() == nil {
			return lease6{}, err
		}
		if advertised == 0 {
			return lease6{}, &timeoutError{what: fmt.Sprintf("no advertise within %s (%d SOLICITs sent)", took, n), err: ErrTimeout}
		}
		return lease6{}, &timeoutError{what: fmt.Sprintf("no reply within %s (%d advertises, %d SOLICITs sent)", took, advertised, n), err: ErrTimeout}
	}
	return leaseFromReply(reply)
}
