//go:build !linux

package trace

import "time"

// Elsewhere the trace has no clock of the kernel's to line up with.
func monotonic() time.Duration { return time.Duration(time.Now().UnixNano()) }

func processStart() (time.Duration, bool) { return 0, false }
