package main

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/iscsiboot/iscsiboot/core"
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

// TestHostileStringsCLI has targets put newlines and escape sequences in
// what the probe and the discovery print: a TargetName or TargetAddress
// in SendTargets, a TargetAlias, an INQUIRY vendor and product, a
// redirect address. Nothing of it may reach the output raw: no control
// byte, and no line the target forged.
func TestHostileStringsCLI(t *testing.T) {
	for _, tc := range []struct {
		name, mode string
		tgt        *coretest.Target
		code       int
		msg        string // in stdout or stderr
		forged     string // no line may start with it
	}{
		{"newline in a SendTargets TargetName", "--discover", &coretest.Target{DiscoveryKVs: []core.KV{
			{Key: "TargetName", Value: "iqn.2025-01.test:a\n10.6.6.6:3260,1 iqn.2025-01.evil:x"},
			{Key: "TargetAddress", Value: "10.0.0.1:3260,1"}}},
			iscsierr.Login, `TargetName: iSCSI name "iqn.2025-01.test:a\n10.6.6.6:3260,1 iqn.2025-01.evil:x"`, "10.6.6.6"},
		{"newline in a SendTargets TargetAddress", "--discover", &coretest.Target{DiscoveryKVs: []core.KV{
			{Key: "TargetName", Value: "iqn.2025-01.test:a"},
			{Key: "TargetAddress", Value: "10.0.0.1\n10.6.6.6:3260,1"}}},
			iscsierr.Login, `TargetAddress "10.0.0.1\n10.6.6.6:3260,1": host "10.0.0.1\n10.6.6.6" is not`, "10.6.6.6"},
		{"escape sequences in the TargetAlias", "--probe", &coretest.Target{Name: fakeDisk, LUNs: []uint64{0},
			Alias: "\x1b[2J\x1b[HLUN 0: disk EVIL\r\nLUN 1: disk FORGED"},
			0, `warning: TargetAlias "\x1b[2J\x1b[HLUN 0: disk EVIL\r\nLUN 1: disk FORGED" is not printable UTF-8: ignored`, "LUN 1"},
		{"escape sequences in INQUIRY", "--probe", &coretest.Target{Name: fakeDisk, LUNs: []uint64{0},
			Inquiry: "\x1b[2J\x1b[HX" + "Y\nLUN 9: disk FA" + "E\r\x1b["},
			0, `LUN 0: disk "\x1b[2J\x1b[HX" "Y\nLUN 9: disk FA" "E\r\x1b["`, "LUN 9"},
		{"newline in a redirect address", "--probe", &coretest.Target{Name: fakeDisk, Status: 0x0101,
			RedirectTo: "10.6.6.6\nLUN0:3260"},
			iscsierr.Login, `redirect: TargetAddress "10.6.6.6\nLUN0:3260": host "10.6.6.6\nLUN0" is not an IPv4 address or a host name: protocol violation`,
			"LUN0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := runAgainst(t, tc.tgt, tc.mode)
			if code != tc.code || !strings.Contains(out+errs, tc.msg) {
				t.Errorf("code %d stdout %q stderr %q, want %d and %q", code, out, errs, tc.code, tc.msg)
			}
			noControl(t, out+errs)
			for _, line := range strings.Split(out+errs, "\n") {
				if strings.HasPrefix(line, tc.forged) {
					t.Errorf("forged line %q in output:\n%s%s", line, out, errs)
				}
			}
		})
	}
}
