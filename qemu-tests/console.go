package qemutests

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Line is one line of the guest's serial console.
type Line struct {
	Host time.Duration // when the host read it, from QEMU's start
	Text string        // without the line ending
}

// Mark is a step the guest stamped with its own clock: a console line "ISCSIBOOT[<uptime>] <Text>".
type Mark struct {
	Uptime time.Duration // the guest's /proc/uptime when it printed the line
	Host   time.Duration // when the host read the line, from QEMU's start
	Text   string
}

// markPrefix starts every timestamped line of GuestScript.
const markPrefix = "ISCSIBOOT["

// parseMark reads a "ISCSIBOOT[12.34] text" line; ok is false for any other line.
func parseMark(l Line) (m Mark, ok bool) {
	i := strings.Index(l.Text, markPrefix)
	if i < 0 {
		return Mark{}, false
	}
	rest := l.Text[i+len(markPrefix):]
	up, text, ok := strings.Cut(rest, "] ")
	if !ok {
		return Mark{}, false
	}
	sec, err := strconv.ParseFloat(up, 64)
	if err != nil || sec < 0 {
		return Mark{}, false
	}
	return Mark{Uptime: time.Duration(sec * float64(time.Second)), Host: l.Host, Text: text}, true
}

// console collects the lines of a stream as they arrive and lets readers wait for one.
type console struct {
	start time.Time
	log   io.Writer // every line, prefixed with its host time

	mu      sync.Mutex
	lines   []Line
	closed  bool
	changed chan struct{} // closed and replaced whenever lines or closed change
}

func newConsole(start time.Time, log io.Writer) *console {
	return &console{start: start, log: log, changed: make(chan struct{})}
}

// read consumes r until EOF or an error. Serial consoles end lines with \r\n; the \r is dropped.
func (c *console) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := Line{Host: time.Since(c.start), Text: strings.TrimRight(sc.Text(), "\r")}
		fmt.Fprintf(c.log, "%8.3f %s\n", l.Host.Seconds(), l.Text)
		c.mu.Lock()
		c.lines = append(c.lines, l)
		c.notifyLocked()
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.closed = true
	c.notifyLocked()
	c.mu.Unlock()
}

func (c *console) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// find returns the first line containing s. done reports that no more lines will come; wake is closed when
// that changes.
func (c *console) find(s string) (l Line, found, done bool, wake <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.lines {
		if strings.Contains(l.Text, s) {
			return l, true, c.closed, c.changed
		}
	}
	return Line{}, false, c.closed, c.changed
}

// snapshot returns a copy of the lines so far.
func (c *console) snapshot() []Line {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Line(nil), c.lines...)
}

// marks returns the timestamped steps among lines, in console order.
func marks(lines []Line) []Mark {
	var ms []Mark
	for _, l := range lines {
		if m, ok := parseMark(l); ok {
			ms = append(ms, m)
		}
	}
	return ms
}

// FormatMarks renders marks as an aligned table for test logs and benchmarks.
func FormatMarks(ms []Mark) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%9s %9s  %s\n", "guest s", "host s", "step")
	for _, m := range ms {
		fmt.Fprintf(&b, "%9.3f %9.3f  %s\n", m.Uptime.Seconds(), m.Host.Seconds(), m.Text)
	}
	return b.String()
}
