package boot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/iscsiboot/iscsiboot/core/kernel"
	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/iscsiboot/iscsiboot/core"
)

// Session is one logged-in path: a target through one portal.
type Session struct {
	Target  string
	Portal  plan.Portal
	SID     int    // kernel session id, -1 for none
	Device  string // the boot LUN's block device ("sda"), when known
	Already bool   // the kernel had this session before we ran
	Took    time.Duration
	Tries   int // login attempts this path needed, set by Run
}

// LoginFunc logs in to one target through one portal and, when it can,
// waits for the boot LUN's block device. It is the kernel login at boot
// and a user-space one in tests.
type LoginFunc func(ctx context.Context, p *plan.Plan, t *plan.Target, portal plan.Portal) (*Session, error)

// RunOptions tune Run.
type RunOptions struct {
	// Deadline bounds the whole run: every retry of every path
	// (default DefaultDeadline).
	Deadline time.Duration
	// Log receives one progress line per state change.
	Log io.Writer
	// FirstBackoff and MaxBackoff bound the exponential backoff between
	// attempts of one path (defaults 250 ms and 1 s); jitter spreads a
	// fleet booting at once. The ceiling is low because a boot waits on
	// it: a target back at any moment is tried again within a second,
	// and a refused connection costs the target nothing.
	FirstBackoff, MaxBackoff time.Duration
	// Require is RequireAll (the default: every target needs a path) or
	// RequireAny (one target is enough).
	Require string
	// Grace is how long paths still trying may go on once the required
	// targets are up: a dead second portal must not hold a boot whose disk
	// is already there. By default it is as long as the required targets
	// took to come up, within 250 ms and 2 s: paths that started with them
	// and are alive finish in about that time, on a fast network or a slow
	// one.
	Grace time.Duration
	// Route, when set, tells whether the kernel has a route to a portal
	// (dracut's rd.iscsi.testroute): a path is not tried before it has
	// one, and is skipped when it still has none once Settled is closed.
	// It returns an error wrapping errNoRoute when there is none.
	Route func(ctx context.Context, portal plan.Portal) error
	// Settled is closed when no interface is still coming up, so that no
	// missing route will appear; nil means the network is settled already.
	Settled <-chan struct{}
	// Prefix starts each progress line (default "iscsistart", as open-iscsi's
	// tool names itself; our /init and uinit say "iscsiboot").
	Prefix string
	// Offloaded tells that the transport logs in by itself (an HBA with
	// CAP_LOGIN_OFFLOAD, Kernel.Offloaded): nothing of ours logs in, so
	// the progress line says the HBA's own session is looked for.
	Offloaded bool
}

// DefaultDeadline bounds a run when nothing else does (rd.retry,
// --timeout).
const DefaultDeadline = 120 * time.Second

// Policies for RunOptions.Require.
const (
	RequireAll = "all"
	RequireAny = "any"
)

// PathError is one path that did not come up.
type PathError struct {
	Target string
	Portal plan.Portal
	Tries  int
	Err    error
}

// Error names the target and portal once: a login's own error (core's
// "login to TARGET at PORTAL failed ...") already does, and a console line
// that says it twice only makes the reader look twice.
func (e *PathError) Error() string {
	msg := e.Err.Error()
	if !strings.Contains(msg, e.Target) || !strings.Contains(msg, e.Portal.String()) {
		msg = fmt.Sprintf("%s at %s: %s", e.Target, e.Portal, msg)
	}
	if e.Tries == 0 {
		return msg + " (not tried)"
	}
	return fmt.Sprintf("%s (after %d attempts)", msg, e.Tries)
}

func (e *PathError) Unwrap() error { return e.Err }

// Retryable reports whether a login failure may succeed on another try:
// connection failures, timeouts and target errors (status class 0x03),
// but not authentication failures or an unknown target.
func Retryable(err error) bool {
	switch {
	case errors.Is(err, core.ErrAuth), errors.Is(err, core.ErrTargetNotFound), errors.Is(err, kernel.ErrFatal):
		return false
	case errors.Is(err, context.Canceled):
		return false
	}
	var le *core.LoginError
	if errors.As(err, &le) && le.Class == core.StatusInitiatorError {
		return false
	}
	return true
}

// ErrNoFirmwareNIC is iscsistart -N with a table none of whose NICs can
// be set up.
var ErrNoFirmwareNIC = errors.New("ibft: no NIC of the table can be set up")

// NetworkError is a network that could not be configured (iscsistart
// -N): open-iscsi's transport error.
type NetworkError struct{ Err error }

func (e *NetworkError) Error() string { return e.Err.Error() }
func (e *NetworkError) Unwrap() error { return e.Err }

// errNoRoute is a portal the kernel has no route to (rd.iscsi.testroute).
var errNoRoute = errors.New("no route")

// Fatal wraps err so Run does not retry it: a local failure no retry can
// mend (a missing kernel module, an invalid parameter).
func Fatal(err error) error { return kernel.Fatal(err) }

// Run logs in to every portal of every target of p in parallel, each path
// retried with backoff under one deadline (and at most p.loginTries times),
// so a dead portal or target never delays a live one. It returns the
// sessions that came up and, when a target has none, an error joining every
// failed path.
func Run(ctx context.Context, p *plan.Plan, login LoginFunc, o RunOptions) ([]*Session, error) {
	if len(p.Targets) == 0 {
		return nil, fmt.Errorf("no target to log in to")
	}
	if o.Deadline <= 0 {
		o.Deadline = DefaultDeadline
	}
	if o.FirstBackoff <= 0 {
		o.FirstBackoff = firstBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = maxBackoff
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	switch o.Require {
	case "":
		o.Require = RequireAll
	case RequireAll, RequireAny:
	default:
		return nil, fmt.Errorf("require policy %q: want %q or %q", o.Require, RequireAll, RequireAny)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Deadline)
	defer cancel()
	// Paths run under pathsCtx, which ends a grace period after the
	// required targets are up.
	pathsCtx, cancelPaths := context.WithCancel(ctx)
	defer cancelPaths()
	var graceOnce sync.Once
	begin := time.Now()
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		sessions []*Session
		failed   = map[string][]error{}
		upTarget = map[string]bool{}
	)
	satisfied := func() bool { // with mu held
		if o.Require == RequireAny {
			return len(upTarget) > 0
		}
		for _, t := range p.Targets {
			if !upTarget[t.Name] {
				return false
			}
		}
		return true
	}
	maxTries := p.LoginTries()
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(o.Log, "%s: [%6.3f] "+format+"\n", append([]any{cmp.Or(o.Prefix, "iscsistart"), time.Since(begin).Seconds()}, args...)...)
	}
	for i := range p.Targets {
		t := &p.Targets[i]
		for _, portal := range t.Portals {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if o.Route != nil {
					if err := awaitRoute(pathsCtx, o.Route, o.Settled, portal); err != nil {
						logf("%s at %s: skipped: %v (rd.iscsi.testroute=0 logs in without this test)", t.Name, portal, err)
						mu.Lock()
						defer mu.Unlock()
						failed[t.Name] = append(failed[t.Name], &PathError{Target: t.Name, Portal: portal, Err: err})
						return
					}
				}
				var q quietRepeats
				b := backoff{first: o.FirstBackoff, max: o.MaxBackoff, retryable: Retryable, maxTries: maxTries}
				s, tries, err := retry(pathsCtx, b, func(ctx context.Context, try int) (*Session, error) {
					switch {
					case try == 1 && o.Offloaded:
						logf("Looking for the HBA's own session to %s %s,%d", t.Name, portal, t.TPGT)
					case try == 1:
						logf("Logging into %s %s,%d", t.Name, portal, t.TPGT)
					}
					return login(ctx, p, t, portal)
				}, func(err error, try int, wait time.Duration) {
					if note, ok := q.show(err, time.Now()); ok {
						logf("%s at %s: attempt %d failed: %v%s; retrying in %.2fs", t.Name, portal, try, err, note, wait.Seconds())
					}
				})
				switch {
				case err != nil && pathsCtx.Err() != nil && ctx.Err() == nil:
					logf("%s at %s: given up after %d attempts, the boot targets are up through other paths", t.Name, portal, tries)
				case err != nil && tries == maxTries && Retryable(err):
					logf("%s at %s: given up after %d attempts, the most the plan allows (login retry max)", t.Name, portal, tries)
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed[t.Name] = append(failed[t.Name], &PathError{Target: t.Name, Portal: portal, Tries: tries, Err: err})
					return
				}
				s.Tries = tries
				sessions = append(sessions, s)
				upTarget[t.Name] = true
				if satisfied() {
					graceOnce.Do(func() { time.AfterFunc(grace(o.Grace, time.Since(begin)), cancelPaths) })
				}
			}()
		}
	}
	wg.Wait()
	sort.Slice(sessions, func(i, j int) bool {
		if sessions[i].Target != sessions[j].Target {
			return sessions[i].Target < sessions[j].Target
		}
		return sessions[i].Portal.String() < sessions[j].Portal.String()
	})
	if o.Require == RequireAny && len(sessions) > 0 {
		return sessions, nil
	}
	var errs []error
	for _, t := range p.Targets {
		if !upTarget[t.Name] {
			errs = append(errs, failed[t.Name]...)
		}
	}
	return sessions, errors.Join(errs...)
}

// routePoll is how often awaitRoute looks for a route while interfaces are
// still coming up.
const routePoll = 100 * time.Millisecond

// awaitRoute waits until route finds a route to the portal: at once when
// there is one, else until the network settles, when a route still missing
// will not come, or ctx ends. It returns route's last error.
func awaitRoute(ctx context.Context, route func(context.Context, plan.Portal) error, settled <-chan struct{}, portal plan.Portal) error {
	t := time.NewTicker(routePoll)
	defer t.Stop()
	for {
		err := route(ctx, portal)
		if err == nil {
			return nil
		}
		if settled == nil {
			return err
		}
		select {
		case <-settled:
			return route(ctx, portal) // one last look: the last interface may have brought it
		case <-ctx.Done():
			return err
		case <-t.C:
		}
	}
}

// Reattempt runs f until it succeeds or ctx ends, with Run's backoff
// between attempts and every failure retried, as iscsid retries within the
// replacement timeout. fail hears of each failure worth a line: one that
// repeats the one before is told once per 10 s, with a note of how many
// attempts the line stands for.
func Reattempt(ctx context.Context, f func(context.Context) error, fail func(err error, try int, note string, wait time.Duration)) error {
	var q quietRepeats
	b := backoff{first: firstBackoff, max: maxBackoff, retryable: func(error) bool { return true }}
	_, _, err := retry(ctx, b, func(ctx context.Context, _ int) (*Session, error) { return nil, f(ctx) },
		func(err error, try int, wait time.Duration) {
			if note, ok := q.show(err, time.Now()); ok {
				fail(err, try, note, wait)
			}
		})
	return err
}

// quietRepeats keeps a path that fails the same way at every attempt (a
// dead portal, retried every second until the deadline) to one console
// line per repeatInterval, not one per attempt: a line when the failure
// changes, else a reminder that counts the attempts it stood for.
type quietRepeats struct {
	last     string
	lastShow time.Time
	hidden   int
}

// repeatInterval is how often a failure that does not change is printed.
const repeatInterval = 10 * time.Second

// show tells whether to print err now, and a note for the line.
func (q *quietRepeats) show(err error, now time.Time) (string, bool) {
	msg := err.Error()
	if msg != q.last || now.Sub(q.lastShow) >= repeatInterval {
		note := ""
		if msg == q.last && q.hidden > 0 {
			note = fmt.Sprintf(" (and %d more times since the last line)", q.hidden)
		}
		q.last, q.lastShow, q.hidden = msg, now, 0
		return note, true
	}
	q.hidden++
	return "", false
}

// grace is RunOptions.Grace, or its default for required targets that
// took this long to come up.
func grace(set, took time.Duration) time.Duration {
	if set > 0 {
		return set
	}
	return min(max(took, 250*time.Millisecond), 2*time.Second)
}

// The default backoff between attempts of one path: from firstBackoff,
// doubling, to at most maxBackoff.
const (
	firstBackoff = 250 * time.Millisecond
	maxBackoff   = time.Second
)

// backoff says how retry waits between attempts, which failures it
// retries, and how many attempts it makes at most (0: no bound).
type backoff struct {
	first, max time.Duration
	retryable  func(error) bool
	maxTries   int
}

// retry runs f until it succeeds, fails in a way b does not retry, has made
// b.maxTries attempts, or ctx ends, and returns how many attempts it made.
// Before each retry it tells onRetry the failure and the wait.
func retry(ctx context.Context, b backoff, f func(context.Context, int) (*Session, error), onRetry func(error, int, time.Duration)) (*Session, int, error) {
	wait := b.first
	for try := 1; ; try++ {
		s, err := f(ctx, try)
		if err == nil {
			return s, try, nil
		}
		if !b.retryable(err) || ctx.Err() != nil || try == b.maxTries {
			return nil, try, err
		}
		// Jitter over the upper half of the wait: a fleet that lost its
		// target together does not come back in lock step.
		d := wait/2 + rand.N(wait/2+1)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			return nil, try, err
		}
		onRetry(err, try, d)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, try, err
		}
		wait = min(2*wait, b.max)
	}
}

// Summary prints the sessions as a table: target, portal, session, device,
// time.
func Summary(w io.Writer, sessions []*Session) {
	fmt.Fprintf(w, "%-40s %-22s %-8s %-8s %s\n", "TARGET", "PORTAL", "SESSION", "DEVICE", "TIME")
	for _, s := range sessions {
		sid, dev, took := "-", s.Device, fmt.Sprintf("%.0f ms", float64(s.Took.Microseconds())/1000)
		if s.SID >= 0 {
			sid = fmt.Sprint(s.SID)
		}
		if dev == "" {
			dev = "-"
		}
		if s.Tries > 1 {
			took += fmt.Sprintf(" (%d attempts)", s.Tries)
		}
		if s.Already {
			took = "already logged in"
		}
		fmt.Fprintf(w, "%-40s %-22s %-8s %-8s %s\n", s.Target, s.Portal, sid, dev, took)
	}
}
