package boot

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The kernel's random pool may not be ready this early in a boot, on
// machines (and emulated CPUs) without a hardware RNG. DHCP's transaction
// ids come from u-root's reader, which polls getrandom without blocking
// and so spins forever when nothing else asks: only a blocking getrandom
// makes the kernel gather jitter entropy and initialize the pool (seen in
// QEMU TCG: DHCP stuck, crng never done). WarmRandom starts one early.
var random = struct {
	once  sync.Once
	ready chan struct{}
	took  time.Duration
}{ready: make(chan struct{})}

// WarmRandom starts a blocking getrandom in the background, once; call it
// as early as possible so the wait overlaps other work.
func WarmRandom() {
	random.once.Do(func() {
		go func() {
			begin := time.Now()
			var b [1]byte
			for {
				if _, err := unix.Getrandom(b[:], 0); err != unix.EINTR {
					break
				}
			}
			random.took = time.Since(begin)
			close(random.ready)
		}()
	})
}

// waitRandom waits until the pool is ready and says how long the wait was
// since WarmRandom.
func waitRandom() time.Duration {
	WarmRandom()
	<-random.ready
	return random.took
}
