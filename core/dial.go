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
	var s *Session
	last := cfg.Portal
	err := FollowRedirects(cfg.Portal, cfg.TargetName, func(at, _ string) error {
		last = at
		cfg.Portal = at
		t, err := dial(ctx, at)
		if err != nil {
			return err
		}
		if s, err = Login(ctx, t, &cfg); err != nil {
			closeT(t)
		}
		return err
	})
	return s, last, err
}

// FollowRedirects runs attempt at portal (host:port), and again at each
// portal a login redirects to (status 0x0101, 0x0102), up to MaxRedirects
// hops: the one redirect loop of every login, in user space and through
// the kernel. The persistent portal it passes is where iscsid reconnects
// after a failure: the original one through a temporary redirect, the new
// one after a permanent redirect (as open-iscsi does).
func FollowRedirects(portal, target string, attempt func(at, persistent string) error) error {
	at, persistent := portal, portal
	for hop := 0; ; hop++ {
		err := attempt(at, persistent)
		var re *RedirectError
		if !errors.As(err, &re) {
			return err
		}
		if hop == MaxRedirects {
			return &LoginError{Target: target, Portal: at, Stage: StageSecurity,
				Err: fmt.Errorf("more than %d redirects (last to %s): %w", MaxRedirects, re.Address, ErrRetryable)}
		}
		at = re.Address
		if re.Permanent {
			persistent = at
		}
	}
}
