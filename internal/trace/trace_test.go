package trace

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAppendLine(t *testing.T) {
	tests := []struct {
		t    time.Duration
		step string
		n    int
		want string
	}{
		{2*time.Second + 345678*time.Microsecond, "netlink open", -1, "iscsiboot-trace[2.345678] netlink open\n"},
		{7 * time.Microsecond, "login PDU", 2, "iscsiboot-trace[0.000007] login PDU 2\n"},
		{1234 * time.Second, "main entered", -1, "iscsiboot-trace[1234.000000] main entered\n"},
	}
	for _, tt := range tests {
		if got := string(appendLine(nil, tt.t, tt.step, tt.n)); got != tt.want {
			t.Errorf("appendLine(%v, %q, %d) = %q, want %q", tt.t, tt.step, tt.n, got, tt.want)
		}
	}
}

func TestParseStartTime(t *testing.T) {
	// Fields 3-21 are filler; field 22 is starttime.
	stat := func(name, start string) string {
		return "412 (" + name + ") S" + strings.Repeat(" 0", 18) + " " + start + " 1000 20"
	}
	tests := []struct {
		stat string
		want time.Duration
		ok   bool
	}{
		{stat("iscsistart", "212"), 2120 * time.Millisecond, true},
		{stat("a) b (c", "5"), 50 * time.Millisecond, true}, // a name with spaces and parentheses
		{stat("init", "x"), 0, false},
		{stat("init", "99999999999999999999"), 0, false},
		{"412 (init) S 1 2", 0, false},
		{"no parenthesis", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseStartTime([]byte(tt.stat))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseStartTime(%q) = %v, %v; want %v, %v", tt.stat, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseStartTime(f *testing.F) {
	f.Add([]byte("1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 212 1000 20"))
	f.Add([]byte("1 ((x) S"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, ok := parseStartTime(b); ok && d < 0 {
			t.Errorf("parseStartTime(%q) = %v, a negative time", b, d)
		}
	})
}

// capture points the trace at a buffer for the test, with on as given.
func capture(t *testing.T, enabled bool) *bytes.Buffer {
	var b bytes.Buffer
	oldOut, oldOn := out, on
	out, on = &b, enabled
	t.Cleanup(func() { out, on = oldOut, oldOn })
	return &b
}

func TestOffPrintsNothing(t *testing.T) {
	b := capture(t, false)
	Mark("netlink open")
	MarkN("login PDU", 1)
	if b.Len() != 0 {
		t.Errorf("trace off printed %q", b.String())
	}
	if n := testing.AllocsPerRun(100, func() { Mark("x"); MarkN("y", 3) }); n != 0 {
		t.Errorf("a step with the trace off allocates %v times", n)
	}
}

func TestStart(t *testing.T) {
	t.Setenv(Env, "1")
	b := capture(t, false)
	Start()
	MarkN("login PDU", 1)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	var steps []string
	var last float64
	for _, l := range lines {
		at, step, ok := strings.Cut(strings.TrimPrefix(l, prefix), "] ")
		sec, err := strconv.ParseFloat(at, 64)
		if !strings.HasPrefix(l, prefix) || !ok || err != nil {
			t.Fatalf("line %q is not %s<seconds>] <step>", l, prefix)
		}
		// The process started before main, to the clock tick.
		if sec < last {
			t.Errorf("%q at %.6f, before the step above it at %.6f", step, sec, last)
		}
		last = sec
		steps = append(steps, step)
	}
	want := []string{"main entered", "login PDU 1"}
	if processStartKnown {
		want = append([]string{"process start"}, want...)
	}
	if strings.Join(steps, ",") != strings.Join(want, ",") {
		t.Errorf("steps %q, want %q", steps, want)
	}
}

func TestStartOff(t *testing.T) {
	for _, v := range []string{"", "0", "yes"} {
		t.Setenv(Env, v)
		b := capture(t, false)
		Start()
		Mark("x")
		if b.Len() != 0 || On() {
			t.Errorf("%s=%q: trace on (%q)", Env, v, b.String())
		}
	}
}
