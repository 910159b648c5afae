package main

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/core"
)

// TestBootStorm is a fleet of diskless machines powering on together:
// every one logs in to the same tgtd at once (the user-space --probe path,
// through boot.Run's retry policy), all must succeed, and the login times
// and the retries the jitter needed are reported. ISCSIBOOT_STORM sets the
// fleet size (make bench uses 200); make test runs 50.
func TestBootStorm(t *testing.T) {
	n := 50
	if v, err := strconv.Atoi(os.Getenv("ISCSIBOOT_STORM")); err == nil && v > 0 {
		n = v
	}
	host, port := startTgtd(t)
	portNo, _ := strconv.Atoi(port)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	login := func(ctx context.Context, p *plan.Plan, tg *plan.Target, portal plan.Portal) (*boot.Session, error) {
		cfg, err := plan.LoginConfig(p, tg, portal)
		if err != nil {
			return nil, boot.Fatal(err)
		}
		h := fnv.New32a()
		h.Write([]byte(p.Initiator))
		cfg.ISID = core.ISID(h.Sum32())
		begin := time.Now()
		s, _, err := core.LoginRedirected(ctx, dialTCP, closeTCP, cfg)
		if err != nil {
			return nil, err
		}
		defer closeTCP(s.Transport())
		if err := s.Logout(ctx); err != nil {
			return nil, err
		}
		return &boot.Session{Target: tg.Name, Portal: portal, SID: -1, Took: time.Since(begin)}, nil
	}
	var (
		mu      sync.Mutex
		times   []time.Duration
		retries int
		failed  []string
		wg      sync.WaitGroup
	)
	begin := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &plan.Plan{Initiator: fmt.Sprintf("iqn.2025-01.test:node%03d", i), Params: plan.DefaultParams(),
				Targets: []plan.Target{{Name: iqnPlain, TPGT: 1, Portals: []plan.Portal{{Address: host, Port: portNo}}}}}
			var log bytes.Buffer
			start := time.Now()
			ss, err := boot.Run(ctx, p, login, boot.RunOptions{Deadline: 90 * time.Second, Log: &log})
			took := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			for _, s := range ss {
				retries += s.Tries - 1
			}
			if err != nil {
				failed = append(failed, err.Error())
				return
			}
			times = append(times, took)
		}()
	}
	wg.Wait()
	wall := time.Since(begin)
	if len(failed) > 0 {
		t.Fatalf("%d of %d logins failed, first: %s", len(failed), n, failed[0])
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	pct := func(p float64) time.Duration { return times[int(p*float64(len(times)-1))] }
	t.Logf("boot storm: %d concurrent logins to one tgtd, all succeeded in %v; login p50 %v, p99 %v, max %v; %d retries",
		n, wall.Round(time.Millisecond), pct(0.5).Round(time.Microsecond), pct(0.99).Round(time.Microsecond),
		times[len(times)-1].Round(time.Microsecond), retries)
	if !net.ParseIP(host).IsLoopback() {
		t.Fatalf("storm aimed at %s, not loopback", host)
	}
}
