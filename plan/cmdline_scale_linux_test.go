package plan

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestFromCmdlineScales: each word costs the parser the same whatever came
// before it, so 32 times the words take about 32 times as long, not a
// thousand (20,000 ip= words took 5 s when each looked through all the
// interfaces before it). The time is the CPU time of the parsing thread,
// with the garbage collector off, so that other work on a loaded machine
// does not count; the bound leaves a factor of 8 for caches.
func TestFromCmdlineScales(t *testing.T) {
	const small, large = 1000, 32000
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for kind, word := range networkWords {
		t.Run(kind, func(t *testing.T) {
			took := func(n int) time.Duration {
				line := manyWords(n, word)
				best := time.Duration(1<<63 - 1)
				for range 3 {
					runtime.GC()
					start := threadCPU(t)
					FromCmdline(line) // refused: too many; the time is what counts
					best = min(best, threadCPU(t)-start)
				}
				return max(best, time.Microsecond)
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			s, l := took(small), took(large)
			if ratio := float64(l) / float64(s); ratio > 8*large/small {
				t.Errorf("%d %s= words: %v; %d: %v, %.0f times as long: the parser is not linear", small, kind, s, large, l, ratio)
			}
		})
	}
}

// threadCPU is the CPU time the calling thread has used.
func threadCPU(t *testing.T) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ts.Nano())
}
