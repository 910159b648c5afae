package trace

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

func monotonic() time.Duration { return clock(unix.CLOCK_MONOTONIC) }

func clock(id int32) time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(id, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// processStart returns when the kernel started this process on
// CLOCK_MONOTONIC: field 22 (starttime) of /proc/self/stat (proc(5))
// counts CLOCK_BOOTTIME, which runs ahead of CLOCK_MONOTONIC by the time
// the machine slept.
func processStart() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	t, ok := parseStartTime(b)
	if !ok {
		return 0, false
	}
	slept := clock(unix.CLOCK_BOOTTIME) - monotonic()
	return t - slept, true
}
