package plan

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden JSON files in testdata")

func TestMerge(t *testing.T) {
	flags := &Plan{
		Initiator: "iqn.2000-01.flags:i",
		Targets:   []Target{{Name: t0, TPGT: 1, Portals: []Portal{{Address: "10.0.0.9", Port: 3260}}, Source: SourceFlags}},
		Params:    map[string]string{"node.session.timeo.replacement_timeout": "5"},
	}
	cmdline := &Plan{
		Initiator:  "iqn.2000-01.cmdline:i",
		Targets:    []Target{tgt(t1, "10.0.0.1", 3260)},
		Interfaces: []Interface{{Name: "eth0", Method: MethodDHCP}},
		Params:     map[string]string{"node.session.timeo.replacement_timeout": "30", "node.session.initial_login_retry_max": "4"},
		WaitNet:    true,
		Warnings:   []string{"from the cmdline"},
	}
	firmware := &Plan{
		Initiator: "iqn.2000-01.ibft:i",
		Targets: []Target{
			{Name: t0, TPGT: 1, LUN: 3, Portals: []Portal{{Address: "10.0.0.2", Port: 3260}}, Iface: "eth0", Auth: chap("fw", "fwpass123456"), Source: SourceIBFT},
			{Name: "iqn.2009-06.dracut:target2", TPGT: 1, Portals: []Portal{{Address: "10.0.0.2", Port: 3260}}, Source: SourceIBFT},
		},
		Interfaces: []Interface{
			{Name: "eth0", MAC: "52:54:00:12:34:56", Method: MethodStatic, Addresses: []netip.Prefix{pfx("10.0.0.5/24")}},
			{Name: "eth1", MAC: "52:54:00:12:34:57", Method: MethodDHCP},
		},
		Firmware: true,
		Warnings: []string{"from the firmware"},
	}
	want := &Plan{
		Initiator: "iqn.2000-01.flags:i",
		Targets: []Target{
			// The flags' target, its empty fields filled from the iBFT.
			{Name: t0, TPGT: 1, Portals: []Portal{{Address: "10.0.0.9", Port: 3260}}, Iface: "eth0", Auth: chap("fw", "fwpass123456"), Source: SourceFlags},
			tgt(t1, "10.0.0.1", 3260),
			{Name: "iqn.2009-06.dracut:target2", TPGT: 1, Portals: []Portal{{Address: "10.0.0.2", Port: 3260}}, Source: SourceIBFT},
		},
		Interfaces: []Interface{
			{Name: "eth0", Method: MethodDHCP},
			{Name: "eth1", MAC: "52:54:00:12:34:57", Method: MethodDHCP},
		},
		Params: map[string]string{
			"node.session.timeo.replacement_timeout": "5",
			"node.session.initial_login_retry_max":   "4",
			"node.conn[0].timeo.noop_out_interval":   "0",
			"node.conn[0].timeo.noop_out_timeout":    "0",
		},
		Firmware: true,
		WaitNet:  true,
		Warnings: []string{"from the cmdline", "from the firmware"},
	}
	got := Merge(flags, cmdline, firmware)
	if diff := cmp.Diff(want, got, cmpNetip); diff != "" {
		t.Errorf("Merge (-want +got):\n%s", diff)
	}
	if flags.Targets[0].Iface != "" || len(cmdline.Params) != 2 {
		t.Errorf("Merge changed its inputs: %+v, %+v", flags.Targets[0], cmdline.Params)
	}
}

// TestMergeMultipath: a firmware table (or command line) naming one target
// twice, through two portals, is one target with both portals, each a path
// Run logs in through; a source of higher precedence naming the target
// still decides its portals.
func TestMergeMultipath(t *testing.T) {
	fw := &Plan{Targets: []Target{
		{Name: t0, TPGT: 1, LUN: 1, Portals: []Portal{{Address: "10.0.0.2", Port: 1}}, Source: SourceIBFT},
		{Name: t0, TPGT: 1, LUN: 1, Portals: []Portal{{Address: "10.0.0.3", Port: 3260}}, Source: SourceIBFT},
		{Name: t0, TPGT: 1, LUN: 1, Portals: []Portal{{Address: "10.0.0.2", Port: 1}}, Source: SourceIBFT},
	}}
	got := Merge(nil, nil, fw)
	want := []Portal{{Address: "10.0.0.2", Port: 1}, {Address: "10.0.0.3", Port: 3260}}
	if len(got.Targets) != 1 || !slices.Equal(got.Targets[0].Portals, want) {
		t.Errorf("targets %+v, want one with portals %v", got.Targets, want)
	}
	if len(fw.Targets[0].Portals) != 1 {
		t.Errorf("Merge changed its input: %+v", fw.Targets[0])
	}
	flags := &Plan{Targets: []Target{{Name: t0, TPGT: 1, Portals: []Portal{{Address: "10.0.0.9", Port: 3260}}}}}
	if got := Merge(flags, nil, fw); len(got.Targets) != 1 || len(got.Targets[0].Portals) != 1 || got.Targets[0].Portals[0].Address != "10.0.0.9" {
		t.Errorf("flags over a multipath table: %+v", got.Targets)
	}
}

func TestMergeDefaults(t *testing.T) {
	got := Merge(nil, nil, nil)
	want := &Plan{Params: DefaultParams()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Merge(nil, nil, nil) (-want +got):\n%s", diff)
	}
}

// TestJSON compares whole plans with the field names the design fixes.
// Run with -update to rewrite the files after a deliberate change.
func TestJSON(t *testing.T) {
	tests := []struct {
		file    string
		cmdline string
	}{
		{"plan-chap.json", "rd.iscsi.initiator=iqn.1994-05.com.redhat:client netroot=iscsi:alice:alicepass12:tgt:tgtpass1234@10.0.2.2::3260:1:iqn.2009-06.dracut:target0 ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:none:10.0.2.3 ifname=eth0:52:54:00:12:34:56"},
		{"plan-firmware.json", "netroot=iscsi rd.iscsi.firmware=1 rd.iscsi.ibft rd.iscsi.param=node.session.timeo.replacement_timeout=30 rd.iscsi.param=discovery.sendtargets.auth.password=paramsecret1"},
		{"plan-ipv6-vlan.json", "root=iscsi:[2001:db8::2]::::iqn.2009-06.dracut:target0 vlan=eth0.7:eth0 ip=[2001:db8::10]::[2001:db8::1]:64::eth0.7:none rd.iscsi.bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := FromCmdline(tt.cmdline)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := Merge(nil, p, nil).WriteJSON(&b); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("JSON of %q (-want +got):\n%s", tt.cmdline, diff)
			}
		})
	}
}

// TestNoSecretLeaks checks that no password, in any source, reaches JSON,
// a formatted value or an error message.
func TestNoSecretLeaks(t *testing.T) {
	const secret = "S3cr3tPw"
	good := []string{
		"netroot=iscsi:alice:" + secret + "@10.0.0.1::::iqn.2009-06.dracut:target0",
		"netroot=iscsi:alice:" + secret + ":tgt:" + secret + "x@10.0.0.1::::iqn.2009-06.dracut:target0",
		"rd.iscsi.target.name=" + t0 + " rd.iscsi.target.ip=10.0.0.1 rd.iscsi.username=a rd.iscsi.password=" + secret +
			" rd.iscsi.in.username=b rd.iscsi.in.password=" + secret,
		"iscsi_target_name=" + t0 + " iscsi_target_ip=10.0.0.1 iscsi_username=a iscsi_password=" + secret,
		"ISCSI_TARGET_NAME=" + t0 + " ISCSI_TARGET_IP=10.0.0.1 ISCSI_USERNAME=a ISCSI_PASSWORD=" + secret,
		"rd.iscsi.param=node.session.auth.password=" + secret + " rd.iscsi.param=node.session.auth.password_in=" + secret +
			" rd.iscsi.param=node.session.auth.username=a rd.iscsi.param=node.session.auth.username_in=b netroot=iscsi:10.0.0.1::::" + t0,
		"netroot=iscsi:alice:" + secret + "@@10.0.0.1::::iqn.2009-06.dracut:target0",
		"rd.iscsi.firmware rd.iscsi.param=discovery.sendtargets.auth.password=" + secret,
	}
	bad := []string{
		"netroot=iscsi:alice:" + secret + "@10.0.0.1::99999::iqn.2009-06.dracut:target0",
		"netroot=iscsi:alice:" + secret + ":tgt@10.0.0.1::::iqn.2009-06.dracut:target0",
		"netroot=iscsi:" + secret + "@10.0.0.1::::iqn.2009-06.dracut:target0",
		"netroot=iscsi:alice:" + secret + "@[10.0.0.1::::iqn.2009-06.dracut:target0",
		"root=iscsi:alice:" + secret + "@10.0.0.1:::",
		"iscsiroot=alice:" + secret + "@10.0.0.1::::iqn.2009-06.dracut:target0:iqn.2009-06.x:y",
		"rd.iscsi.password=" + secret,
		"rd.iscsi.username=a rd.iscsi.in.password=" + secret,
		"iscsi_in_password=" + secret,
		"rd.iscsi.param=node.session.auth.password" + secret,
		"ISCSI_TARGET_NAME=" + t0 + " ISCSI_TARGET_IP=10.0.0.1 ISCSI_PASSWORD=" + secret,
		"rd.iscsi.param=node.session.auth.password=" + secret,
		"rd.iscsi.param=node.session.auth.username=a rd.iscsi.param=node.session.auth.password_in=" + secret,
		"netroot=iscsi:alice:" + secret + "@10.0.0.1:iqn.2009-06.dracut:target0",
	}
	check := func(what, s string) {
		t.Helper()
		if strings.Contains(s, secret) {
			t.Errorf("%s shows the password: %s", what, s)
		}
	}
	for _, c := range good {
		p, err := FromCmdline(c)
		if err != nil {
			t.Fatalf("FromCmdline(%q): %v", c, err)
		}
		m := Merge(nil, p, nil)
		var b bytes.Buffer
		if err := m.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		check("JSON", b.String())
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			check(verb, fmt.Sprintf(verb, *m))
			for _, tg := range m.Targets {
				check(verb, fmt.Sprintf(verb, tg))
				check(verb, fmt.Sprintf(verb, tg.Auth.Password))
			}
		}
		for _, tg := range m.Targets {
			check("Auth.String", tg.Auth.String())
			if tg.Auth.Method != "" && !strings.HasPrefix(tg.Auth.Password.Reveal(), secret) {
				t.Errorf("%q: the plan lost the password the login needs: %v", c, tg.Auth)
			}
		}
	}
	for _, c := range bad {
		_, err := FromCmdline(c)
		if err == nil {
			t.Errorf("FromCmdline(%q) succeeded, want an error", c)
			continue
		}
		check("error", err.Error())
	}
	_, err := TargetFromRootPath("iscsi:alice:"+secret+"@10.0.0.1::0::iqn.2009-06.dracut:target0", netip.Addr{})
	if err == nil {
		t.Fatal("TargetFromRootPath accepted port 0")
	}
	check("root-path error", err.Error())
}

func TestSecretFormat(t *testing.T) {
	for _, tt := range []struct {
		s    Secret
		verb string
		want string
	}{
		{"pw", "%v", "<redacted>"},
		{"pw", "%s", "<redacted>"},
		{"pw", "%q", `"<redacted>"`},
		{"pw", "%#v", "<redacted>"},
		{"pw", "%10d", "<redacted>"},
		{"", "%v", ""},
		{"", "%q", `""`},
	} {
		if got := fmt.Sprintf(tt.verb, tt.s); got != tt.want {
			t.Errorf("Sprintf(%q, %q) = %q, want %q", tt.verb, string(tt.s), got, tt.want)
		}
	}
}

func TestTargetFromRootPath(t *testing.T) {
	srv := netip.MustParseAddr("10.0.2.2")
	tests := []struct {
		in   string
		want Target
		err  error
	}{
		{"iscsi:10.0.2.3::::iqn.2009-06.dracut:target0", Target{Name: t0, TPGT: 1, Portals: []Portal{{Address: "10.0.2.3", Port: 3260}}, Source: SourceDHCP}, nil},
		{"iscsi:::::iqn.2009-06.dracut:target0", Target{Name: t0, TPGT: 1, Portals: []Portal{{Address: "10.0.2.2", Port: 3260}}, Source: SourceDHCP}, nil},
		{"iscsi:::3261:1:iqn.2009-06.dracut:target0", Target{Name: t0, TPGT: 1, LUN: 1, Portals: []Portal{{Address: "10.0.2.2", Port: 3261}}, Source: SourceDHCP}, nil},
		{"iscsi:[fd00::1]:6:3260:0:iqn.2009-06.dracut:target0", Target{Name: t0, TPGT: 1, Portals: []Portal{{Address: "fd00::1", Port: 3260}}, Source: SourceDHCP}, nil},
		{"iscsi:u:secretpass12@10.0.2.3::::iqn.2009-06.dracut:target0", Target{Name: t0, TPGT: 1, Portals: []Portal{{Address: "10.0.2.3", Port: 3260}}, Auth: chap("u", "secretpass12"), Source: SourceDHCP}, nil},
		{"/export/root", Target{}, errSyntax},
		{"iscsi:10.0.2.3:iqn.2009-06.dracut:target0", Target{}, errFields},
	}
	for _, tt := range tests {
		got, err := TargetFromRootPath(tt.in, srv)
		if !errors.Is(err, tt.err) {
			t.Errorf("TargetFromRootPath(%q) error %v, want %v", tt.in, err, tt.err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("TargetFromRootPath(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	if _, err := TargetFromRootPath("iscsi:::::iqn.2009-06.dracut:target0", netip.Addr{}); !errors.Is(err, errMissing) {
		t.Errorf("empty server and no DHCP server: error %v, want %v", err, errMissing)
	}
}

func TestPortalString(t *testing.T) {
	for _, tt := range []struct {
		p    Portal
		want string
	}{
		{Portal{Address: "10.0.0.1", Port: 3260}, "10.0.0.1:3260"},
		{Portal{Address: "2001:db8::1", Port: 3260}, "[2001:db8::1]:3260"},
		{Portal{Address: "san.example.com", Port: 860}, "san.example.com:860"},
	} {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}
