package boot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/iscsiboot/iscsiboot/core"
)

func twoPortalPlan() *plan.Plan {
	return &plan.Plan{Targets: []plan.Target{
		{Name: "iqn.t:a", TPGT: 1, Portals: []plan.Portal{{Address: "10.0.0.1", Port: 3260}, {Address: "10.0.0.2", Port: 3260}}},
		{Name: "iqn.t:b", TPGT: 1, Portals: []plan.Portal{{Address: "10.0.0.3", Port: 3260}}},
	}}
}

// TestRunDeadPortalDoesNotDelay has one portal refuse every connection
// while the others log in: the live paths finish at once, the dead one is
// retried until the deadline, and the run succeeds because every target has
// a path.
func TestRunDeadPortalDoesNotDelay(t *testing.T) {
	var upAt atomic.Int64
	begin := time.Now()
	login := func(ctx context.Context, p *plan.Plan, tg *plan.Target, portal plan.Portal) (*Session, error) {
		if portal.Address == "10.0.0.2" {
			return nil, syscall.ECONNREFUSED
		}
		upAt.Store(int64(time.Since(begin)))
		return &Session{Target: tg.Name, Portal: portal, SID: 1}, nil
	}
	var log bytes.Buffer
	ss, err := Run(context.Background(), twoPortalPlan(), login, RunOptions{Deadline: 600 * time.Millisecond, FirstBackoff: 50 * time.Millisecond, Log: &log})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(ss) != 2 {
		t.Errorf("sessions %d, want 2", len(ss))
	}
	if d := time.Duration(upAt.Load()); d > 100*time.Millisecond {
		t.Errorf("live paths up after %v", d)
	}
	if !strings.Contains(log.String(), "attempt 1 failed: connection refused; retrying") {
		t.Errorf("no retry line in:\n%s", log.String())
	}
}

func TestRunRetriesThenSucceeds(t *testing.T) {
	var tries atomic.Int32
	login := func(ctx context.Context, p *plan.Plan, tg *plan.Target, portal plan.Portal) (*Session, error) {
		if tries.Add(1) < 3 {
			return nil, &core.LoginError{Target: tg.Name, Class: 3, Detail: 1, Err: core.ErrRetryable}
		}
		return &Session{Target: tg.Name, Portal: portal}, nil
	}
	p := &plan.Plan{Targets: []plan.Target{{Name: "iqn.t:a", Portals: []plan.Portal{{Address: "10.0.0.1", Port: 3260}}}}}
	if _, err := Run(context.Background(), p, login, RunOptions{Deadline: 5 * time.Second, FirstBackoff: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if n := tries.Load(); n != 3 {
		t.Errorf("%d tries, want 3", n)
	}
}

// TestRunFatalIsFast: a wrong password is not retried.
func TestRunFatalIsFast(t *testing.T) {
	var tries atomic.Int32
	login := func(ctx context.Context, p *plan.Plan, tg *plan.Target, portal plan.Portal) (*Session, error) {
		tries.Add(1)
		return nil, &core.LoginError{Target: tg.Name, Class: 2, Detail: 1, Err: core.ErrAuth}
	}
	p := &plan.Plan{Targets: []plan.Target{{Name: "iqn.t:a", Portals: []plan.Portal{{Address: "10.0.0.1", Port: 3260}}}}}
	begin := time.Now()
	_, err := Run(context.Background(), p, login, RunOptions{Deadline: 5 * time.Second})
	var pe *PathError
	if !errors.As(err, &pe) || !errors.Is(err, core.ErrAuth) || pe.Tries != 1 || tries.Load() != 1 {
		t.Fatalf("err %v tries %d", err, tries.Load())
	}
	if !strings.Contains(err.Error(), "iqn.t:a at 10.0.0.1:3260") {
		t.Errorf("error does not name the path: %v", err)
	}
	if time.Since(begin) > time.Second {
		t.Errorf("fatal failure took %v", time.Since(begin))
	}
	// A login error that names the target and portal itself is not prefixed with them again.
	named := &PathError{Target: "iqn.t:a", Portal: plan.Portal{Address: "10.0.0.1", Port: 3260}, Tries: 3,
		Err: &core.LoginError{Target: "iqn.t:a", Portal: "10.0.0.1:3260", Class: 2, Detail: 3, Err: core.ErrTargetNotFound}}
	if got := named.Error(); strings.Count(got, "iqn.t:a") != 1 || strings.Count(got, "10.0.0.1:3260") != 1 || !strings.HasSuffix(got, "(after 3 attempts)") {
		t.Errorf("PathError over a LoginError: %q, want the target and portal once", got)
	}
}

func TestRunDeadTargetFailsByDeadline(t *testing.T) {
	login := func(ctx context.Context, p *plan.Plan, tg *plan.Target, portal plan.Portal) (*Session, error) {
		if tg.Name == "iqn.t:b" {
			return nil, syscall.ECONNREFUSED
		}
		return &Session{Target: tg.Name, Portal: portal}, nil
	}
	begin := time.Now()
	ss, err := Run(context.Background(), twoPortalPlan(), login, RunOptions{Deadline: 300 * time.Millisecond, FirstBackoff: 20 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "iqn.t:b at 10.0.0.3:3260") || len(ss) != 2 {
		t.Fatalf("sessions %d err %v", len(ss), err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Errorf("took %v with a 300ms deadline", d)
	}
}

// TestRunGraceEndsDeadPaths: once every target is up, a portal that keeps
// refusing is given up after the grace period, not the whole deadline.
func TestRunGraceEndsDeadPaths(t *testing.T) {
	login := func(ctx context.Context, p *plan.Plan, tg *plan.Target, portal plan.Portal) (*Session, error) {
		if portal.Address == "10.0.0.2" {
			return nil, syscall.ECONNREFUSED
		}
		return &Session{Target: tg.Name, Portal: portal}, nil
	}
	var log bytes.Buffer
	begin := time.Now()
	ss, err := Run(context.Background(), twoPortalPlan(), login, RunOptions{Deadline: 30 * time.Second,
		FirstBackoff: 20 * time.Millisecond, Grace: 200 * time.Millisecond, Log: &log})
	if err != nil || len(ss) != 2 {
		t.Fatalf("sessions %d, err %v", len(ss), err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("run took %v: the dead portal held it", d)
	}
	if !strings.Contains(log.String(), "10.0.0.2:3260: given up after") {
		t.Errorf("no give-up line:\n%s", log.String())
	}
}

// TestRunDefaultGrace: by default a dead portal is given up as long after
// the targets are up as they took, at least 250 ms: a fast boot is not held
// for seconds by a path that will not come.
func TestRunDefaultGrace(t *testing.T) {
	login := func(ctx context.Context, p *plan.Plan, tg *plan.Target, portal plan.Portal) (*Session, error) {
		if portal.Address == "10.0.0.2" {
			<-ctx.Done() // a portal that never answers
			return nil, ctx.Err()
		}
		return &Session{Target: tg.Name, Portal: portal}, nil
	}
	begin := time.Now()
	ss, err := Run(context.Background(), twoPortalPlan(), login, RunOptions{Deadline: 30 * time.Second})
	if err != nil || len(ss) != 2 {
		t.Fatalf("sessions %d, err %v", len(ss), err)
	}
	if d := time.Since(begin); d < 250*time.Millisecond || d > 750*time.Millisecond {
		t.Errorf("run took %v, want the 250 ms grace", d)
	}
	for _, tc := range []struct{ set, took, want time.Duration }{
		{0, 10 * time.Millisecond, 250 * time.Millisecond},
		{0, 900 * time.Millisecond, 900 * time.Millisecond},
		{0, 30 * time.Second, 2 * time.Second},
		{5 * time.Second, time.Millisecond, 5 * time.Second},
	} {
		if got := grace(tc.set, tc.took); got != tc.want {
			t.Errorf("grace(%v, %v) = %v, want %v", tc.set, tc.took, got, tc.want)
		}
	}
}

// TestQuietRepeats: a path failing the same way prints once per interval,
// a changed failure at once.
func TestQuietRepeats(t *testing.T) {
	var q quietRepeats
	t0 := time.Unix(1000, 0)
	refused, timeout := errors.New("connection refused"), errors.New("i/o timeout")
	steps := []struct {
		err  error
		at   time.Duration
		show bool
		note string
	}{
		{refused, 0, true, ""},
		{refused, time.Second, false, ""},
		{refused, 2 * time.Second, false, ""},
		{timeout, 3 * time.Second, true, ""},
		{timeout, 4 * time.Second, false, ""},
		{timeout, 13 * time.Second, true, " (and 1 more times since the last line)"},
		{refused, 14 * time.Second, true, ""},
	}
	for i, st := range steps {
		note, show := q.show(st.err, t0.Add(st.at))
		if show != st.show || note != st.note {
			t.Errorf("step %d: show %v %q, want %v %q", i, show, note, st.show, st.note)
		}
	}
}

// TestRunTriesCounted: a session says how many attempts its path took,
// whatever the console showed of them.
func TestRunTriesCounted(t *testing.T) {
	var n atomic.Int32
	login := func(ctx context.Context, p *plan.Plan, tg *plan.Target, portal plan.Portal) (*Session, error) {
		if n.Add(1) <= 3 {
			return nil, syscall.ECONNREFUSED
		}
		return &Session{Target: tg.Name, Portal: portal}, nil
	}
	p := &plan.Plan{Targets: []plan.Target{{Name: "iqn.t:a", Portals: []plan.Portal{{Address: "10.0.0.1", Port: 3260}}}}}
	var log bytes.Buffer
	ss, err := Run(context.Background(), p, login, RunOptions{Deadline: 5 * time.Second, FirstBackoff: 5 * time.Millisecond, Log: &log})
	if err != nil || len(ss) != 1 || ss[0].Tries != 4 {
		t.Fatalf("sessions %+v, err %v; want one after 4 tries", ss, err)
	}
	if c := strings.Count(log.String(), "; retrying in"); c != 1 {
		t.Errorf("%d retry lines for one unchanged failure, want 1:\n%s", c, log.String())
	}
}

func TestRunRequireAny(t *testing.T) {
	login := func(ctx context.Context, p *plan.Plan, tg *plan.Target, portal plan.Portal) (*Session, error) {
		if tg.Name == "iqn.t:b" {
			return nil, &core.LoginError{Target: tg.Name, Class: 2, Detail: 3, Err: core.ErrTargetNotFound}
		}
		return &Session{Target: tg.Name, Portal: portal}, nil
	}
	ss, err := Run(context.Background(), twoPortalPlan(), login, RunOptions{Deadline: 5 * time.Second, Require: RequireAny, Grace: 10 * time.Millisecond})
	if err != nil || len(ss) == 0 {
		t.Fatalf("any: sessions %d err %v", len(ss), err)
	}
	if _, err := Run(context.Background(), twoPortalPlan(), login, RunOptions{Deadline: 5 * time.Second, Grace: 10 * time.Millisecond}); !errors.Is(err, core.ErrTargetNotFound) {
		t.Fatalf("all: err %v, want the missing target's", err)
	}
	if _, err := Run(context.Background(), twoPortalPlan(), login, RunOptions{Require: "most"}); err == nil {
		t.Fatal("policy \"most\" accepted")
	}
}

// TestRunLoginRetryMax: rd.iscsi.login_retry_max (or the record's
// node.session.initial_login_retry_max, which wins) bounds the attempts of
// each path: a dead portal is given up after that many, long before the
// deadline.
func TestRunLoginRetryMax(t *testing.T) {
	tests := []struct {
		name      string
		retryMax  int
		param     string
		wantTries int
	}{
		{"rd.iscsi.login_retry_max", 3, "", 3},
		{"the record param wins", 5, "2", 2},
		{"one attempt", 1, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tries atomic.Int32
			login := func(ctx context.Context, p *plan.Plan, tg *plan.Target, portal plan.Portal) (*Session, error) {
				tries.Add(1)
				return nil, syscall.ECONNREFUSED
			}
			p := &plan.Plan{LoginRetryMax: tt.retryMax, Params: map[string]string{},
				Targets: []plan.Target{{Name: "iqn.t:a", Portals: []plan.Portal{{Address: "10.0.0.1", Port: 3260}}}}}
			if tt.param != "" {
				p.Params["node.session.initial_login_retry_max"] = tt.param
			}
			var log bytes.Buffer
			begin := time.Now()
			_, err := Run(context.Background(), p, login, RunOptions{Deadline: 10 * time.Second, FirstBackoff: 10 * time.Millisecond, Log: &log})
			var pe *PathError
			if !errors.As(err, &pe) || pe.Tries != tt.wantTries || int(tries.Load()) != tt.wantTries {
				t.Fatalf("err %v, %d tries; want %d", err, tries.Load(), tt.wantTries)
			}
			if d := time.Since(begin); d > 2*time.Second {
				t.Errorf("gave up after %v, want at once", d)
			}
			if want := fmt.Sprintf("given up after %d attempts, the most the plan allows", tt.wantTries); !strings.Contains(log.String(), want) {
				t.Errorf("no %q in:\n%s", want, log.String())
			}
		})
	}
}

func TestLoginTries(t *testing.T) {
	tests := []struct {
		retryMax int
		params   map[string]string
		want     int
	}{
		{0, nil, 0},
		{4, nil, 4},
		{4, map[string]string{"node.session.initial_login_retry_max": "8"}, 8},
		{4, map[string]string{"node.session.initial_login_retry_max": "0"}, 0},
		{4, map[string]string{"node.session.initial_login_retry_max": "-1"}, 4},
		{4, map[string]string{"node.session.initial_login_retry_max": "many"}, 4},
	}
	for _, tt := range tests {
		p := &plan.Plan{LoginRetryMax: tt.retryMax, Params: tt.params}
		if got := p.LoginTries(); got != tt.want {
			t.Errorf("LoginRetryMax %d, params %v: %d tries, want %d", tt.retryMax, tt.params, got, tt.want)
		}
	}
}

// TestRunRouteTest: with a route test (rd.iscsi.testroute, the default), a
// path is not tried before the kernel has a route to its portal; it waits
// while interfaces are still coming up and is skipped, untried, once they
// all are. Its attempts (here, one) are not spent on a network that is not
// there yet.
func TestRunRouteTest(t *testing.T) {
	const portal = "192.0.2.1"
	tests := []struct {
		name        string
		routeAfter  time.Duration // -1: never
		settleAfter time.Duration // -1: settled from the start (nil channel)
		wantTried   bool
	}{
		{"route at once", 0, -1, true},
		{"route with a later interface", 300 * time.Millisecond, 600 * time.Millisecond, true},
		{"route with the last interface", 300 * time.Millisecond, 300 * time.Millisecond, true},
		{"no route once settled", -1, 200 * time.Millisecond, false},
		{"no route, settled from the start", -1, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			begin := time.Now()
			var routeUp atomic.Bool
			if tt.routeAfter == 0 {
				routeUp.Store(true)
			}
			var settled chan struct{}
			if tt.settleAfter >= 0 {
				settled = make(chan struct{})
				time.AfterFunc(tt.settleAfter, func() {
					if tt.routeAfter == tt.settleAfter {
						routeUp.Store(true)
					}
					close(settled)
				})
			}
			if tt.routeAfter > 0 && tt.routeAfter != tt.settleAfter {
				time.AfterFunc(tt.routeAfter, func() { routeUp.Store(true) })
			}
			route := func(ctx context.Context, p plan.Portal) error {
				if p.Address == portal && !routeUp.Load() {
					return fmt.Errorf("%w to %s", errNoRoute, p.Address)
				}
				return nil
			}
			var tries atomic.Int32
			login := func(ctx context.Context, p *plan.Plan, tg *plan.Target, pt plan.Portal) (*Session, error) {
				tries.Add(1)
				if !routeUp.Load() {
					return nil, syscall.ENETUNREACH
				}
				return &Session{Target: tg.Name, Portal: pt}, nil
			}
			p := &plan.Plan{LoginRetryMax: 1, Targets: []plan.Target{{Name: "iqn.t:a", Portals: []plan.Portal{{Address: portal, Port: 3260}}}}}
			var log bytes.Buffer
			_, err := Run(context.Background(), p, login, RunOptions{Deadline: 10 * time.Second, Log: &log, Route: route, Settled: settled})
			if tt.wantTried {
				if err != nil || tries.Load() != 1 {
					t.Fatalf("err %v after %d attempts; want logged in at the first\n%s", err, tries.Load(), log.String())
				}
				return
			}
			var pe *PathError
			if !errors.As(err, &pe) || !errors.Is(err, errNoRoute) || pe.Tries != 0 || tries.Load() != 0 {
				t.Fatalf("err %v, %d attempts; want skipped for no route, untried", err, tries.Load())
			}
			if want := "iqn.t:a at 192.0.2.1:3260: no route to 192.0.2.1 (not tried)"; err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			if want := "skipped: no route to 192.0.2.1 (rd.iscsi.testroute=0 logs in without this test)"; !strings.Contains(log.String(), want) {
				t.Errorf("no %q in:\n%s", want, log.String())
			}
			if d := time.Since(begin); d > 2*time.Second {
				t.Errorf("skipped after %v, want as soon as the network settled", d)
			}
		})
	}
}
