package trace

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

func monotonic() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// processStart returns when the kernel started this process, since boot:
// field 22 (starttime) of /proc/self/stat (proc(5)). It counts
// CLOCK_BOOTTIME, which is CLOCK_MONOTONIC on a machine that never slept.
func processStart() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	return parseStartTime(b)
}
