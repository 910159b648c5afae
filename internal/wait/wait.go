// Package wait is the one polling loop of the boot: look, and look again
// every interval until the thing is there or the context ends. Sysfs,
// netlink and /dev have no event for most of what a boot waits on (a
// disk's capacity read, an HBA's session, an address past duplicate
// address detection, an RDMA port ACTIVE), so it polls, always bounded.
// It imports only the standard library.
package wait

import (
	"context"
	"time"
)

// Until calls done at once and then every interval until it reports true,
// and returns nil then, or ctx's error once ctx ends first. done runs on
// the caller's goroutine; what it found it leaves in the caller's
// variables.
func Until(ctx context.Context, interval time.Duration, done func() bool) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if done() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
