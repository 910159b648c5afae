package main

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/iscsiboot/iscsiboot/core/coretest"
	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
)

// runAgainst starts tgt on loopback and runs the command with mode
// ("--probe" or "--discover") and the address of tgt.
func runAgainst(t *testing.T, tgt *coretest.Target, mode string) (string, string, int) {
	t.Helper()
	addr, err := tgt.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tgt.Close)
	host, port, _ := strings.Cut(addr, ":")
	args := []string{mode, "-a", host, "-p", port, "--timeout", "10s"}
	if mode == "--probe" {
		args = append(args, "-i", fakeInit, "-t", fakeDisk)
	}
	return runCLI(t, args...)
}

// TestEndlessContinueCLI: a target that keeps the C bit set in every
// answer ends the probe or the discovery at once with exit code 5
// (ISCSI_ERR_LOGIN) and one line naming the protocol violation, long
// before the 10 s timeout.
func TestEndlessContinueCLI(t *testing.T) {
	for _, tc := range []struct {
		name, mode string
		tgt        *coretest.Target
		msg        string
	}{
		{"probe login without text", "--probe", &coretest.Target{Name: fakeDisk, EndlessContinue: true}, "C bit and no text"},
		{"probe login a byte at a time", "--probe", &coretest.Target{Name: fakeDisk, EndlessContinue: true, ContinueBytes: 1},
			"did not finish after 32 login PDUs"},
		{"discovery login without text", "--discover", &coretest.Target{EndlessContinue: true}, "C bit and no text"},
		{"SendTargets without text", "--discover", &coretest.Target{EndlessText: true}, "F=0) with no text"},
		{"SendTargets a byte at a time", "--discover", &coretest.Target{EndlessText: true, ContinueBytes: 1},
			"still continuing after 128 PDUs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			begin := time.Now()
			out, errs, code := runAgainst(t, tc.tgt, tc.mode)
			if took := time.Since(begin); took > time.Second {
				t.Errorf("took %v", took)
			}
			if code != iscsierr.Login || !strings.Contains(errs, tc.msg) || !strings.Contains(errs, "protocol violation") ||
				strings.Count(errs, "\n") != 1 {
				t.Errorf("code %d stderr %q stdout %q, want %d and one line with %q", code, errs, out, iscsierr.Login, tc.msg)
			}
		})
	}
}

// TestForgedKeyInName: an initiator name holding a NUL and a key of its
// own is refused before anything reaches the target, with exit code 7
// (ISCSI_ERR_INVAL) and one escaped line.
func TestForgedKeyInName(t *testing.T) {
	tgt := &coretest.Target{Name: fakeDisk}
	addr, err := tgt.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	host, port, _ := strings.Cut(addr, ":")
	out, errs, code := runCLI(t, "--probe", "-i", fakeInit+"\x00AuthMethod=None", "-t", fakeDisk, "-a", host, "-p", port,
		"--timeout", "5s")
	if code != iscsierr.Invalid || !strings.Contains(errs, `"iqn.2025-01.test:init\x00AuthMethod=None"`) ||
		strings.Count(errs, "\n") != 1 {
		t.Errorf("code %d stderr %q stdout %q, want %d and one escaped line", code, errs, out, iscsierr.Invalid)
	}
	noControl(t, out+errs)
	if n := tgt.PDUs(); n != 0 {
		t.Errorf("target read %d PDUs, want none", n)
	}
}

// noControl fails t if s holds a control character other than the line
// ends of its own lines.
func noControl(t *testing.T, s string) {
	t.Helper()
	if i := strings.IndexFunc(s, func(r rune) bool { return r != '\n' && (unicode.IsControl(r) || r == utf8.RuneError) }); i >= 0 {
		t.Errorf("control character at byte %d of output %q", i, s)
	}
}
