package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/iscsiboot/iscsiboot/core/coretest"
	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
)

// runCLI runs the command as main would and returns stdout, stderr and the
// exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	if err != nil {
		errb.WriteString("iscsistart: " + err.Error() + "\n")
	}
	return out.String(), errb.String(), iscsierr.Code(err)
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--bogus"}, iscsierr.Invalid, "unknown option -bogus"},
		{[]string{"-p", "70000"}, iscsierr.Invalid, `invalid port "70000"`},
		{[]string{"-p", "x"}, iscsierr.Invalid, `invalid port "x"`},
		{[]string{"-g", "-3"}, iscsierr.Invalid, `invalid target portal group tag "-3"`},
		{[]string{"-P", "node.session.timeo.replacement_timeout"}, iscsierr.Invalid, "missing value"},
		{[]string{"--probe", "-t", "iqn.x", "-a", "127.0.0.1"}, iscsierr.Invalid, "InitiatorName not set (-i)"},
		{[]string{"--probe", "-i", "iqn.i", "-a", "127.0.0.1"}, iscsierr.Invalid, "TargetName not set (-t)"},
		{[]string{"--probe", "-i", "iqn.i", "-t", "iqn.t"}, iscsierr.Invalid, "IP Address not set (-a)"},
		{[]string{"--probe", "-i", "iqn.i", "-t", "iqn.t", "-a", "127.0.0.1", "-P", "node.conn[0].iscsi.HeaderDigest=MD5"},
			iscsierr.Invalid, "HeaderDigest"},
		{[]string{"-f", "--ibft", "/nonexistent/table"}, iscsierr.NoObjsFound, "/nonexistent/table"},
		{[]string{"stray"}, iscsierr.Invalid, `unexpected argument "stray"`},
	} {
		out, errs, code := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: code %d stderr %q stdout %q; want code %d and one line with %q", tc.args, code, errs, out, tc.code, tc.msg)
		}
	}
}

func TestUnknownParamWarns(t *testing.T) {
	_, errs, _ := runCLI(t, "--plan", "--cmdline", "ip=dhcp", "-P", "node.session.timeo.replacment_timeout=5",
		"-P", "node.session.timeo.replacement_timeout=5")
	if !strings.Contains(errs, "unknown parameter node.session.timeo.replacment_timeout") ||
		strings.Contains(errs, "unknown parameter node.session.timeo.replacement_timeout") {
		t.Errorf("stderr %q", errs)
	}
}

func TestHelpAndVersion(t *testing.T) {
	out, _, code := runCLI(t, "-h")
	if code != 0 || !strings.Contains(out, "--initiatorname") || !strings.Contains(out, "--probe") {
		t.Errorf("help: %d %q", code, out)
	}
	out, _, code = runCLI(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "iscsistart version ") {
		t.Errorf("version: %d %q", code, out)
	}
}

// TestFirmwarePrint compares -f on the iPXE table with what open-iscsi's
// iscsistart printed for it (ibft/testdata/ipxe-ibft.txt), but for the
// interface name, which depends on this machine, and the LUN, which
// open-iscsi prints lossily from sysfs (01000000) and we print exactly.
func TestFirmwarePrint(t *testing.T) {
	out, errs, code := runCLI(t, "-f", "--ibft", "../../ibft/testdata/ipxe-ibft.bin")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	for _, line := range []string{"# BEGIN RECORD 2.1.8", "iface.initiatorname = iqn.2025-01.test:init",
		"iface.bootproto = DHCP", "node.name = iqn.2025-01.test:disk1", "node.conn[0].address = 10.0.2.2",
		"node.boot_lun = 1", "# END RECORD"} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("missing %q in\n%s", line, out)
		}
	}
}

func TestPlanNoSecrets(t *testing.T) {
	out, errs, code := runCLI(t, "--plan", "--cmdline",
		"netroot=iscsi:alice:s3cret-pw-1234:bob:t4rget-pw-5678@10.0.2.2::3260::1:iqn.2025-01.test:disk1 ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:none",
		"-P", "node.session.timeo.replacement_timeout=30")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	for _, want := range []string{`"name": "iqn.2025-01.test:disk1"`, `"password": "<redacted>"`,
		`"node.session.timeo.replacement_timeout": "30"`, `"addresses": [`, `"10.0.2.15/24"`} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out+errs, "s3cret") || strings.Contains(out+errs, "t4rget") {
		t.Errorf("secret in output:\n%s%s", out, errs)
	}
}

// TestPlanIgnoredWords: dracut words the boot does not act on are warned
// about in --plan and left unset, so the plan never describes what will
// not happen.
func TestPlanIgnoredWords(t *testing.T) {
	out, errs, code := runCLI(t, "--plan", "--cmdline", "rd.neednet=1 rd.iscsi.mp netroot=iscsi:10.0.2.2::::iqn.2025-01.test:disk1")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	for _, want := range []string{`"need_net": false`, `"multipath": false`, `"rd.neednet=1: ignored: `, `"rd.iscsi.mp: ignored: `} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %s:\n%s", want, out)
		}
	}
}

// TestPlanAuthParams: CHAP given as -P record names is the flags target's
// authentication (as -u/-w would be), redacted in --plan, and left out of
// the plan's params, where it would reach node records as plain text.
func TestPlanAuthParams(t *testing.T) {
	out, errs, code := runCLI(t, "--plan", "--cmdline", "", "-i", "iqn.2025-01.test:i", "-t", "iqn.2025-01.test:t",
		"-a", "127.0.0.1", "-g", "1", "-P", "node.session.auth.authmethod=CHAP", "-P", "node.session.auth.username=alice",
		"-P", "node.session.auth.password=pw-secret-9876", "-P", "node.session.auth.chap_algs=SHA256,MD5")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	for _, want := range []string{`"method": "CHAP"`, `"username": "alice"`, `"password": "<redacted>"`,
		`"node.session.auth.chap_algs": "SHA256,MD5"`} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, `"node.session.auth.username"`) || strings.Contains(out+errs, "pw-secret") {
		t.Errorf("auth left in params or secret shown:\n%s%s", out, errs)
	}
	_, errs, code = runCLI(t, "--plan", "--cmdline", "", "-i", "iqn.2025-01.test:i", "-t", "iqn.2025-01.test:t",
		"-a", "127.0.0.1", "-P", "node.session.auth.authmethod=Kerberos")
	if code != iscsierr.Invalid || !strings.Contains(errs, "node.session.auth.authmethod=Kerberos") {
		t.Errorf("authmethod=Kerberos: code %d, %q", code, errs)
	}
}

// TestProbeFakeTarget covers the exit codes of the probe against faults a
// real target does not produce on demand.
func TestProbeFakeTarget(t *testing.T) {
	for _, tc := range []struct {
		name string
		tgt  *coretest.Target
		args []string
		code int
		msg  string
	}{
		{"ok", &coretest.Target{Name: "iqn.t", LUNs: []uint64{0, 1}}, nil, 0, ""},
		{"auth", &coretest.Target{Name: "iqn.t", CHAPUser: "u", CHAPSecret: "good-secret-1"},
			[]string{"-u", "u", "-w", "bad-secret-22"}, iscsierr.LoginAuthFailed, "0201 authentication failure"},
		{"not found", &coretest.Target{Name: "iqn.other"}, nil, iscsierr.FatalLogin, "0203 target not found"},
		{"target error", &coretest.Target{Name: "iqn.t", Status: 0x0302}, nil, iscsierr.Login, "0302 out of resources"},
		{"dropped", &coretest.Target{Name: "iqn.t", DropAfterPDUs: 1}, nil, iscsierr.Trans, "EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, err := tc.tgt.Start()
			if err != nil {
				t.Fatal(err)
			}
			defer tc.tgt.Close()
			host, port, _ := strings.Cut(addr, ":")
			args := append([]string{"--probe", "-i", "iqn.i", "-t", "iqn.t", "-a", host, "-p", port, "--timeout", "5s"}, tc.args...)
			out, errs, code := runCLI(t, args...)
			if code != tc.code || !strings.Contains(errs, tc.msg) {
				t.Errorf("code %d stderr %q stdout %q, want %d %q", code, errs, out, tc.code, tc.msg)
			}
			if strings.Contains(out+errs, "secret-") {
				t.Errorf("secret in output")
			}
		})
	}
}
