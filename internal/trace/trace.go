package trace

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// Env is the environment variable that turns the trace on with "1".
const Env = "ISCSIBOOT_TRACE"

// prefix starts every line of the trace.
const prefix = "iscsiboot-trace["

var (
	on bool // set once by Start, before any goroutine marks

	mu  sync.Mutex
	out io.Writer = os.Stderr
	buf []byte
)

// On reports whether the trace is on.
func On() bool { return on }

// Start turns the trace on when the environment asks for it, and then
// prints the process's start (the kernel's record of it, to the clock
// tick of 10 ms) and main's entry: the time between them is the Go
// runtime's start and every package's init. main calls it first.
func Start() {
	if os.Getenv(Env) != "1" {
		return
	}
	on = true
	if t, ok := processStart(); ok {
		write(t, "process start", -1)
	}
	Mark("main entered")
}

// Mark prints step with the time now, when the trace is on.
func Mark(step string) {
	if on {
		write(monotonic(), step, -1)
	}
}

// MarkN prints step and n ("login PDU 2") with the time now, when the
// trace is on.
func MarkN(step string, n int) {
	if on {
		write(monotonic(), step, n)
	}
}

func write(t time.Duration, step string, n int) {
	mu.Lock()
	defer mu.Unlock()
	buf = appendLine(buf[:0], t, step, n)
	out.Write(buf)
}

// appendLine appends "iscsiboot-trace[S.UUUUUU] step[ n]\n" to b.
func appendLine(b []byte, t time.Duration, step string, n int) []byte {
	us := t.Microseconds()
	b = append(b, prefix...)
	b = strconv.AppendInt(b, us/1e6, 10)
	b = append(b, '.')
	frac := strconv.AppendInt(nil, 1e6+us%1e6, 10)
	b = append(b, frac[1:]...)
	b = append(b, "] "...)
	b = append(b, step...)
	if n >= 0 {
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, '\n')
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on
// every architecture Linux has (include/asm-generic/param.h).
const clockTicks = 100

// parseStartTime reads starttime from the contents of /proc/<pid>/stat.
// The command name (field 2) is in parentheses and may hold spaces and
// parentheses itself, so the fields count from the last ')'.
func parseStartTime(stat []byte) (time.Duration, bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(stat[i+1:])
	const starttime = 22 - 3 // fields after the name start at field 3
	if len(f) <= starttime {
		return 0, false
	}
	ticks, err := strconv.ParseUint(string(f[starttime]), 10, 63)
	if err != nil || ticks > uint64(1<<62)/uint64(time.Second) {
		return 0, false
	}
	return time.Duration(ticks) * time.Second / clockTicks, true
}
