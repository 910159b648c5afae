package plan

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSettingsTable holds the table to what open-iscsi and the open-iscsi
// README say: the root-disk values are the only ones that differ from
// open-iscsi's defaults, and each names a kernel parameter where the
// kernel keeps one.
func TestSettingsTable(t *testing.T) {
	want := map[string]string{
		"node.session.timeo.replacement_timeout": "86400",
		"node.conn[0].timeo.noop_out_interval":   "0",
		"node.conn[0].timeo.noop_out_timeout":    "0",
	}
	if diff := cmp.Diff(want, DefaultParams()); diff != "" {
		t.Errorf("DefaultParams (-want +got):\n%s", diff)
	}
	seen := map[string]bool{}
	for _, s := range Settings {
		if seen[s.Name] {
			t.Errorf("%s twice in the table", s.Name)
		}
		seen[s.Name] = true
		if s.Settable() && s.Default() != "" {
			if err := s.Check(s.Default()); err != nil {
				t.Errorf("%s: its own default is refused: %v", s.Name, err)
			}
		}
	}
}

func TestCheckParam(t *testing.T) {
	for _, c := range []struct {
		name, value string
		known       bool
		says        string // "" for a good value
	}{
		{"node.session.timeo.replacement_timeout", "30", true, ""},
		{"node.session.timeo.replacement_timeout", "abc", true, "node.session.timeo.replacement_timeout=abc: want a whole number from 0 to 2147483647"},
		{"node.session.timeo.replacement_timeout", "99999999999", true, "from 0 to 2147483647"},
		{"node.session.timeo.replacement_timeout", "1\n2", true, `="1\n2": want`},
		{"node.session.iscsi.FastAbort", "No", true, ""},
		{"node.session.scan", "sometimes", true, "want auto, manual"},
		{"node.conn[0].iscsi.HeaderDigest", "CRC32C,None", true, ""},
		{"node.conn[0].iscsi.HeaderDigest", "MD5", true, "want None, CRC32C"},
		{"node.session.iscsi.ERL", "2", true, "only 0"},
		{"node.session.iscsi.FirstBurstLength", "100", true, "from 512"},
		{"node.session.auth.chap_algs", "SHA256,MD5", true, ""},
		{"node.session.auth.chap_algs", "SHA512", true, "want a list of MD5"},
		{"node.session.auth.password", "a\x00b", true, "<redacted>: a control character"},
		{"node.session.auth.password", strings.Repeat("p", 300), true, "<redacted>: 300 bytes"},
		{"node.session.xmit_thread_priority", "-5", true, ""},
		{"node.tpgt", "1", true, "set by the session itself"},
		{"iface.transport_name", "iser", true, ""},
		{"iface.transport_name", "tpc", true, "want tcp, iser"},
		{"node.session.timeo.replacment_timeout", "5", false, ""},
		{"iface.hwaddress", "52:54:00:12:34:56", false, ""},
	} {
		known, err := CheckParam(c.name, c.value)
		if known != c.known {
			t.Errorf("CheckParam(%q, %q) known %v, want %v", c.name, c.value, known, c.known)
		}
		switch {
		case c.says == "" && err != nil:
			t.Errorf("CheckParam(%q, %q) = %v, want nil", c.name, c.value, err)
		case c.says != "" && (!errors.Is(err, errParamValue) || !strings.Contains(err.Error(), c.says)):
			t.Errorf("CheckParam(%q, %q) = %v, want one saying %q", c.name, c.value, err, c.says)
		case err != nil && strings.Contains(c.name, "password") && strings.Contains(err.Error(), c.value):
			t.Errorf("CheckParam(%q) shows the secret: %v", c.name, err)
		}
	}
}

// TestCheckIfaceParams: -P's offload iface settings.
func TestCheckIfaceParams(t *testing.T) {
	for _, c := range []struct {
		name, value string
		ok          bool
	}{
		{"iface.ipaddress", "192.0.2.7", true},
		{"iface.ipaddress", "fd00::7", false},
		{"iface.ipaddress", "0.0.0.0", false},
		{"iface.ipaddress", "192.0.2.7\n", false},
		{"iface.subnet_mask", "255.255.255.0", true},
		{"iface.subnet_mask", "255.0.255.0", false},
		{"iface.subnet_mask", "24", false},
		{"iface.gateway", "192.0.2.1", true},
		{"iface.vlan_id", "4094", true},
		{"iface.vlan_id", "4095", false},
	} {
		known, err := CheckParam(c.name, c.value)
		if !known || (err == nil) != c.ok {
			t.Errorf("CheckParam(%q, %q) = %v, %v; want known, ok %v", c.name, c.value, known, err, c.ok)
		}
		if err != nil && (strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), c.name)) {
			t.Errorf("error %q: want one line naming %s", err, c.name)
		}
	}
}
