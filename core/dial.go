package core

import (
	"context"
	"errors"
	"fmt"
)

// Dialer opens a transport to a portal (host:port). The user-space probe
// dials TCP; a boot dials TCP and hands the socket to the kernel.
type Dialer func(ctx context.Context, addr string) (Transport, error)

// MaxRedirects bounds how many redirects one login follows, so two
// targets pointing at each other cannot keep a boot busy forever.
const MaxRedirects = 8

// LoginRedirected logs in at cfg.Portal and follows temporary and
// permanent redirects (RFC 7143, Section 11.13.5) up to MaxRedirects hops.
// It returns the session and the portal that accepted it; close is called
// on every transport that did not end in a session.
func LoginRedirected(ctx context.Context, dial Dialer, closeT func(Transport), cfg Config) (*Session, string, error) {
	portal := cfg.Portal
	for hop := 0; ; hop++ {
		cfg.Portal = portal
		t, err := dial(ctx, portal)
		if err != nil {
			return nil, portal, err
		}
		s, err := Login(ctx, t, &cfg)
		if err == nil {
			return s, portal, nil
		}
		closeT(t)
		var re *RedirectError
		if !errors.As(err, &re) {
			return nil, portal, err
		}
		if hop == MaxRedirects {
			return nil, portal, &LoginError{Target: cfg.TargetName, Portal: portal, Stage: StageSecurity,
				Err: fmt.Errorf("more than %d redirects (last to %s): %w", MaxRedirects, re.Address, ErrRetryable)}
		}
		portal = re.Address
	}
}
