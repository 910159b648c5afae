package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iscsiboot/iscsiboot/core/coretest"
	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
)

// Names of the fake targets' tests.
const (
	fakeInit = "iqn.2025-01.test:init"
	fakeDisk = "iqn.2025-01.test:disk"
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
		{[]string{"-p", "70000"}, iscsierr.Invalid, `invalid value "70000" for -p/--port: want a TCP port, 1 to 65535`},
		{[]string{"-p", "x"}, iscsierr.Invalid, `invalid value "x" for -p/--port: want a TCP port`},
		{[]string{"-g", "-3"}, iscsierr.Invalid, `invalid value "-3" for -g/--tgpt/--tpgt: want a target portal group tag`},
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

// TestFlagErrors: every bad option names the option by all its names and
// the value as given, says what was expected, and exits with 7. The flag
// package said only "value out of range" for -d 99999999999999999999.
func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		kind string
		args []string
		msg  string
	}{
		{"int out of range", []string{"-d", "99999999999999999999"}, `invalid value "99999999999999999999" for -d/--debug: out of range`},
		{"int syntax", []string{"--debug=x"}, `invalid value "x" for -d/--debug: want an integer`},
		{"duration syntax", []string{"--timeout", "5"}, `invalid value "5" for --timeout: want a duration such as 30s or 2m`},
		{"duration not positive", []string{"--timeout=-5s"}, `invalid value "-5s" for --timeout: want a positive duration`},
		{"bool misuse, short", []string{"-v=maybe"}, `invalid value "maybe" for -v/--version: want true or false`},
		{"bool misuse, long", []string{"--fwparam_print=2"}, `invalid value "2" for -f/--fwparam_print: want true or false`},
		{"bool misuse, long only", []string{"--json=yes"}, `invalid value "yes" for --json: want true or false`},
		{"port", []string{"--port=0"}, `invalid value "0" for -p/--port: want a TCP port, 1 to 65535`},
		{"tpgt", []string{"--tpgt", "x"}, `invalid value "x" for -g/--tgpt/--tpgt: want a target portal group tag, 0 to 65535`},
		{"choice", []string{"--require", "some"}, `invalid value "some" for --require: want all or any`},
		{"param", []string{"--param", "node.session.timeo.replacement_timeout"}, `invalid value "node.session.timeo.replacement_timeout" for -P/--param: `},
		{"missing value, int", []string{"-d"}, `missing value for -d/--debug`},
		{"missing value, string", []string{"--ibft-file"}, `missing value for --ibft/--ibft-file`},
		{"missing value, custom", []string{"-i", "iqn.2025-01.test:i", "-p"}, `missing value for -p/--port`},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			out, errs, code := runCLI(t, tc.args...)
			if code != iscsierr.Invalid || !strings.HasPrefix(errs, "iscsistart: "+tc.msg) || strings.Count(errs, "\n") != 1 || out != "" {
				t.Errorf("%q: code %d stderr %q stdout %q; want code %d and one line %q", tc.args, code, errs, out, iscsierr.Invalid, tc.msg)
			}
		})
	}
}

// TestOptionNames: an option's names are the flag names that set one
// variable, short first.
func TestOptionNames(t *testing.T) {
	names := optionNames(newFlagSet(&options{}))
	for name, want := range map[string]string{
		"d": "-d/--debug", "debug": "-d/--debug", "g": "-g/--tgpt/--tpgt", "tpgt": "-g/--tgpt/--tpgt",
		"b": "-b/--fwparam_connect", "P": "-P/--param", "W": "-W/--password_in", "w": "-w/--password",
		"ibft": "--ibft/--ibft-file", "cmdline": "--cmdline", "timeout": "--timeout", "probe": "--probe",
	} {
		if names[name] != want {
			t.Errorf("names of %s = %q, want %q", name, names[name], want)
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

// TestParamsFromTable: every -P and rd.iscsi.param goes through the table
// of session values. An unknown name is really ignored (it is not in the
// plan), a bad value is exit 7 with one line naming the parameter, the
// value and the range, and a secret's value is never shown.
func TestParamsFromTable(t *testing.T) {
	out, errs, code := runCLI(t, "--plan", "--cmdline", "ip=dhcp", "-P", "node.session.timeo.replacment_timeout=5")
	if code != 0 || strings.Contains(out, "replacment") || !strings.Contains(errs, "ignored") {
		t.Errorf("unknown -P: code %d, stdout %q, stderr %q: want it warned about and left out of the plan", code, out, errs)
	}
	out, errs, code = runCLI(t, "--plan", "--cmdline", "ip=dhcp rd.iscsi.param=node.session.timeo.replacment_timeout=5")
	if code != 0 || strings.Contains(strings.ReplaceAll(out, `"rd.iscsi.param: unknown parameter node.session.timeo.replacment_timeout`, ""), "replacment") ||
		!strings.Contains(out, "unknown parameter node.session.timeo.replacment_timeout ignored") {
		t.Errorf("unknown rd.iscsi.param: code %d, stdout %q, stderr %q: want one warning and no param", code, out, errs)
	}
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"--plan", "--cmdline", "ip=dhcp rd.iscsi.param=node.session.timeo.replacement_timeout=abc"},
			"node.session.timeo.replacement_timeout: want a whole number from 0 to 2147483647"},
		{[]string{"--plan", "--cmdline", "ip=dhcp", "-P", "node.session.timeo.replacement_timeout=abc"},
			"node.session.timeo.replacement_timeout=abc: want a whole number from 0 to 2147483647"},
		{[]string{"--plan", "--cmdline", "ip=dhcp", "-P", "node.conn[0].timeo.noop_out_interval=-1"},
			"node.conn[0].timeo.noop_out_interval=-1: want a whole number"},
		{[]string{"--plan", "--cmdline", "ip=dhcp", "-P", "node.session.iscsi.FastAbort=maybe"},
			"node.session.iscsi.FastAbort=maybe: want Yes, No"},
		{[]string{"--plan", "--cmdline", "ip=dhcp", "-P", "node.conn[0].iscsi.MaxRecvDataSegmentLength=1"},
			"MaxRecvDataSegmentLength=1: want a number from 512 to 16777215"},
		{[]string{"--plan", "--cmdline", "ip=dhcp", "-P", "node.session.cmds_max=100000"},
			"node.session.cmds_max=100000: want a whole number from 16 to 4096"},
		{[]string{"-b", "--ibft", "../../ibft/testdata/ipxe-ibft.bin", "-P", "node.session.auth.authmethod=Foo"},
			"node.session.auth.authmethod=Foo: want None, CHAP"},
		{[]string{"-b", "-P", "node.session.auth.authmethod=Foo"}, "authmethod=Foo"},
		{[]string{"--plan", "--cmdline", "ip=dhcp", "-P", "node.session.auth.password=se\ncret!"},
			"node.session.auth.password=<redacted>: a control character"},
		{[]string{"--plan", "--cmdline", "ip=dhcp", "-P", "node.name=iqn.2025-01.x:y"},
			"node.name=iqn.2025-01.x:y: set by the session itself"},
	} {
		out, errs, code := runCLI(t, tc.args...)
		if code != iscsierr.Invalid || !strings.Contains(errs, tc.says) || strings.Count(errs, "\n") != 1 || strings.Contains(errs+out, "se\ncret") {
			t.Errorf("%q: code %d, stderr %q, stdout %q; want exit 7 and one line with %q", tc.args, code, errs, out, tc.says)
		}
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

// TestFirmwarePrintTooBig: -f --ibft of a file larger than any table (a
// valid table with trailing bytes past 64 KiB, or /dev/zero, which has no
// end) stops reading at the bound and exits 7 with one line naming the file.
func TestFirmwarePrintTooBig(t *testing.T) {
	fx, err := os.ReadFile("../../ibft/testdata/ipxe-ibft.bin")
	if err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(big, append(fx, make([]byte, 64<<10)...), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{big, "/dev/zero"} {
		out, errs, code := runCLI(t, "-f", "--ibft", p)
		if code != iscsierr.Invalid || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, p+": ") || !strings.Contains(errs, "65536") {
			t.Errorf("-f --ibft %s: code %d stdout %q stderr %q; want code %d and one line naming the file and the bound", p, code, out, errs, iscsierr.Invalid)
		}
	}
}

// hostileTable is a table with one CHAP target, marshaled and then
// changed by edit (the raw bytes; the checksum is fixed after it).
func hostileTable(t *testing.T, name string, edit func(b []byte)) string {
	t.Helper()
	tab := &ibft.Table{
		Initiator: &ibft.Initiator{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, Name: "iqn.2025-01.test:init"},
		NICs: []ibft.NIC{{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, IP: netip.MustParseAddr("10.0.2.15"),
			PrefixLen: 24, MAC: net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}}},
		Targets: []ibft.Target{{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, IP: netip.MustParseAddr("10.0.2.2"),
			Port: 3260, Name: name, CHAPType: ibft.CHAPOneWay, CHAPName: "alice", CHAPSecret: "hostile-pw-4711"}},
	}
	b, err := tab.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	edit(b)
	var sum byte
	for _, c := range b {
		sum += c
	}
	b[9] -= sum
	p := filepath.Join(t.TempDir(), "table.bin")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFirmwareHostileTable: a table whose target name is its CHAP secret
// (the name's offset points at the secret), whose target name forges a
// password line, whose target in use is at 0.0.0.0 or whose NIC is on VLAN
// 65535 is refused by -f and --plan with exit 7 and one line naming the
// field, and the secret appears nowhere.
func TestFirmwareHostileTable(t *testing.T) {
	// iBFT 1.03, Sections 3.4, 3.6 and 3.7: nic0's offset is at 48+10 and
	// target0's at 48+12; in the NIC, the VLAN at 88; in the target, the
	// address at 6, the name's length and offset at 34, the secret's at 42.
	nic := func(b []byte) int { return int(binary.LittleEndian.Uint16(b[48+10:])) }
	tgt := func(b []byte) int { return int(binary.LittleEndian.Uint16(b[48+12:])) }
	const name = "iqn.2025-01.test:disk1"
	for _, tc := range []struct {
		name, field string
		table       string
	}{
		{"name is the secret", "target0.target_name", hostileTable(t, name, func(b []byte) {
			copy(b[tgt(b)+34:tgt(b)+38], b[tgt(b)+42:tgt(b)+46])
		})},
		{"forged password line", "target0.target_name", hostileTable(t, name+"\nnode.session.auth.password = forged", func([]byte) {})},
		{"target at 0.0.0.0", "target0.ip_addr", hostileTable(t, name, func(b []byte) { clear(b[tgt(b)+6+12 : tgt(b)+6+16]) })},
		{"vlan 65535", "nic0.vlan", hostileTable(t, name, func(b []byte) { binary.LittleEndian.PutUint16(b[nic(b)+88:], 0xffff) })},
	} {
		for _, args := range [][]string{{"-f", "--ibft", tc.table}, {"-f", "--show-secrets", "--ibft", tc.table}, {"--plan", "--cmdline", "quiet", "--ibft", tc.table}} {
			out, errs, code := runCLI(t, args...)
			if code != iscsierr.Invalid || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.field+" = ") {
				t.Errorf("%s: %v: code %d stdout %q stderr %q; want code %d and one line naming %s", tc.name, args, code, out, errs, iscsierr.Invalid, tc.field)
			}
			if strings.Contains(out+errs, "hostile-pw") || strings.Contains(out, "forged") {
				t.Errorf("%s: %v: secret or forged line in the output:\n%s%s", tc.name, args, out, errs)
			}
		}
	}
}

// TestFirmwarePortZero: for a target whose port field is 0, -f prints the
// port --plan logs in to (3260), not 0.
func TestFirmwarePortZero(t *testing.T) {
	p := hostileTable(t, "iqn.2025-01.test:disk1", func(b []byte) {
		tgt := int(binary.LittleEndian.Uint16(b[48+12:]))
		binary.LittleEndian.PutUint16(b[tgt+22:], 0) // iBFT 1.03, Section 3.7: the port at 22
	})
	out, errs, code := runCLI(t, "-f", "--ibft", p)
	if code != 0 || !strings.Contains(out, "node.conn[0].port = 3260\n") {
		t.Errorf("-f: code %d stderr %q, want port 3260 in\n%s", code, errs, out)
	}
	out, errs, code = runCLI(t, "--plan", "--cmdline", "quiet", "--ibft", p)
	if code != 0 || !strings.Contains(out, `"port": 3260`) {
		t.Errorf("--plan: code %d stderr %q, want port 3260 in\n%s", code, errs, out)
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
		{"ok", &coretest.Target{Name: fakeDisk, LUNs: []uint64{0, 1}}, nil, 0, ""},
		{"auth", &coretest.Target{Name: fakeDisk, CHAPUser: "u", CHAPSecret: "good-secret-1"},
			[]string{"-u", "u", "-w", "bad-secret-22"}, iscsierr.LoginAuthFailed, "0201 authentication failure"},
		{"not found", &coretest.Target{Name: "iqn.2025-01.test:other"}, nil, iscsierr.FatalLogin, "0203 target not found"},
		{"target error", &coretest.Target{Name: fakeDisk, Status: 0x0302}, nil, iscsierr.Login, "0302 out of resources"},
		{"dropped", &coretest.Target{Name: fakeDisk, DropAfterPDUs: 1}, nil, iscsierr.Trans, "EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, err := tc.tgt.Start()
			if err != nil {
				t.Fatal(err)
			}
			defer tc.tgt.Close()
			host, port, _ := strings.Cut(addr, ":")
			args := append([]string{"--probe", "-i", fakeInit, "-t", fakeDisk, "-a", host, "-p", port, "--timeout", "5s"}, tc.args...)
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
