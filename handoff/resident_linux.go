package handoff

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/core/kernel"
	"github.com/iscsiboot/iscsiboot/plan"

	"golang.org/x/sys/unix"
)

// ResidentState is what the resident loop needs of a finished boot, handed
// from /init (or iscsistart --resident) to the process that keeps the
// sessions: the targets with their credentials, the kernel transport's
// handle and each session's connection with its persistent portal.
type ResidentState struct {
	Plan   plan.Plan
	Handle uint64
	Paths  []ResidentPath
}

// ResidentPath is one boot session the resident loop watches.
type ResidentPath struct {
	Target     string
	SID, CID   uint32
	Persistent plan.Portal
	// Map is the dm-multipath map the session's disk (Dev, major:minor)
	// is a path of, if any (ResidentState.SetMaps).
	Map string
	Dev string
}

// ResidentState returns the state for Resident of the sessions a boot
// made, with the persistent portal the kernel shows for each (a permanent
// redirect's, if there was one). Sessions the kernel already had are left
// to whoever made them.
func NewResidentState(k *boot.Kernel, p *plan.Plan, sessions []*boot.Session) ResidentState {
	st := ResidentState{Handle: k.Handle(), Plan: plan.Plan{Initiator: p.Initiator, Params: p.Params, Transport: p.Transport}}
	for _, b := range bootSessions(k, p, sessions) {
		if b.s.Already {
			continue
		}
		if st.Plan.FindTarget(b.t.Name) == nil {
			st.Plan.Targets = append(st.Plan.Targets, *b.t)
		}
		st.Paths = append(st.Paths, ResidentPath{Target: b.t.Name, SID: uint32(b.s.SID), CID: 0, Persistent: b.persistent()})
	}
	return st
}

// IscsidRunning reports the pid of a process named iscsid in the process
// table under proc, an open /proc directory (which keeps working after
// switch_root moved the mount), other than self.
func IscsidRunning(proc *os.File, self int) (int, bool) {
	if _, err := proc.Seek(0, io.SeekStart); err != nil {
		return 0, false
	}
	names, _ := proc.Readdirnames(-1)
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil || pid == self {
			continue
		}
		fd, err := unix.Openat(int(proc.Fd()), n+"/comm", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		var b [32]byte
		m, _ := unix.Read(fd, b[:])
		unix.Close(fd)
		if m > 0 && strings.TrimSpace(string(b[:m])) == "iscsid" {
			return pid, true
		}
	}
	return 0, false
}

// errIscsid ends the resident loop: iscsid runs and has the sessions.
type errIscsid struct{ pid int }

func (e errIscsid) Error() string { return fmt.Sprintf("iscsid is running (pid %d)", e.pid) }

// ResidentOptions tune Resident.
type ResidentOptions struct {
	// Iscsid reports whether iscsid runs, and its pid; polled every Poll.
	Iscsid func() (int, bool)
	// Poll is how often Iscsid is asked (default 200 ms).
	Poll time.Duration
	// AttemptTimeout bounds one login attempt (default: the plan's
	// node.conn[0].timeo.login_timeout, else 15 s, iscsid.conf's
	// login_timeout).
	AttemptTimeout time.Duration
	// Logf receives one line per state change.
	Logf func(format string, args ...any)
	// Relogged, when set, runs after each path is logged in again: the
	// resident loop's caller puts it back in its multipath map.
	Relogged func(ResidentPath)
}

// Resident keeps the boot sessions of st logged in until open-iscsi's
// iscsid runs, for the time between the initramfs and iscsid's start: a
// connection the target drops then would leave the root's I/O queued, and
// iscsid, whose program is on that root, might never start. It waits for
// the kernel's connection errors on the sessions and logs in again on each
// (Kernel.Reopen), every failure retried with backoff (250 ms to 1 s,
// jittered), as iscsid retries within the replacement timeout. It returns
// nil once iscsid runs (it stops at once, even in the middle of a login:
// iscsid recovers what it finds), ctx's error when ctx ends. A session
// that is never dropped costs nothing but the 200 ms poll for iscsid.
func Resident(ctx context.Context, k *boot.Kernel, st ResidentState, o ResidentOptions) error {
	if o.Poll <= 0 {
		o.Poll = 200 * time.Millisecond
	}
	if n, err := strconv.Atoi(st.Plan.Params["node.conn[0].timeo.login_timeout"]); o.AttemptTimeout <= 0 && err == nil && n > 0 {
		o.AttemptTimeout = time.Duration(n) * time.Second
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 15 * time.Second
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if o.Iscsid != nil {
		go func() {
			t := time.NewTicker(o.Poll)
			defer t.Stop()
			for {
				if pid, ok := o.Iscsid(); ok {
					cancel(errIscsid{pid})
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	done := func(err error) error {
		var ie errIscsid
		if errors.As(context.Cause(ctx), &ie) {
			logf("%v: the sessions are its now; resident loop done", ie)
			return nil
		}
		return err
	}
	paths := st.Paths
	if len(paths) == 0 {
		return nil
	}
	logf("watching %d session(s) until iscsid runs", len(paths))
	conns := make([][2]uint32, len(paths))
	for i, p := range paths {
		conns[i] = [2]uint32{p.SID, p.CID}
	}
	// Each path is logged in again on its own: the paths of a multipath
	// map fail together, and one that stays down must not hold the others.
	// An error on a path already being logged in again is the same outage.
	var (
		mu   sync.Mutex
		busy = map[[2]uint32]bool{}
		wg   sync.WaitGroup
	)
	defer func() { cancel(nil); wg.Wait() }()
	// Failures before this loop listened come first.
	missed := missedConnErrors(k, kernel.Sysfs{Root: "/"}, paths)
	for {
		var ce *kernel.ConnError
		var err error
		if len(missed) > 0 {
			ce, missed = missed[0], missed[1:]
		} else if ce, err = k.WaitConnError(ctx, conns); err != nil {
			return done(err)
		}
		var path ResidentPath
		for _, p := range paths {
			if p.SID == ce.SID && p.CID == ce.CID {
				path = p
			}
		}
		t := st.Plan.FindTarget(path.Target)
		key := [2]uint32{ce.SID, ce.CID}
		mu.Lock()
		skip := t == nil || busy[key]
		busy[key] = busy[key] || !skip
		mu.Unlock()
		if skip {
			continue
		}
		logf("session %d (%s at %s): %s; logging in again", ce.SID, path.Target, path.Persistent, ce.Code)
		wg.Add(1)
		go func() {
			defer wg.Done()
			begin := time.Now()
			err := reopenUntil(ctx, k, &st.Plan, t, path, o.AttemptTimeout, logf)
			mu.Lock()
			delete(busy, key)
			mu.Unlock()
			if err != nil { // ctx ended: the loop above returns
				return
			}
			logf("session %d: logged in again after %.2fs", ce.SID, time.Since(begin).Seconds())
			if o.Relogged != nil {
				o.Relogged(path)
			}
		}()
	}
}

// reopenUntil runs Reopen until it succeeds or ctx ends, each attempt
// bounded by attempt, with Run's backoff between attempts (boot.Reattempt).
func reopenUntil(ctx context.Context, k *boot.Kernel, p *plan.Plan, t *plan.Target, path ResidentPath, attempt time.Duration, logf func(string, ...any)) error {
	return boot.Reattempt(ctx, func(ctx context.Context) error {
		actx, cancel := context.WithTimeout(ctx, attempt)
		defer cancel()
		return k.Reopen(actx, p, t, path.SID, path.CID, path.Persistent)
	}, func(err error, try int, note string, wait time.Duration) {
		logf("session %d: attempt %d failed: %v%s; retrying in %.2fs", path.SID, try, err, note, wait.Seconds())
	})
}
