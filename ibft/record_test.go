package ibft

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/iscsiboot/iscsiboot/core"

	"github.com/google/go-cmp/cmp"
)

func fullResolver(mac net.HardwareAddr, _ BDF) (string, error) {
	switch mac.String() {
	case "02:00:00:00:00:01":
		return "eth0", nil
	case "02:00:00:00:00:02":
		return "eth1", nil
	}
	return "", errNoInterface
}

const fullRecords = `# BEGIN RECORD 2.1.8
iface.initiatorname = iqn.2025-01.test:full-init
iface.transport_name = tcp
iface.hwaddress = 02:00:00:00:00:01
iface.bootproto = STATIC
iface.ipaddress = 192.0.2.50
iface.prefix_len = 26
iface.subnet_mask = 255.255.255.192
iface.gateway = 192.0.2.1
iface.primary_dns = 192.0.2.53
iface.secondary_dns = 192.0.2.54
iface.vlan_id = 100
iface.net_ifacename = eth0
node.name = iqn.2025-01.test:disk-a
node.conn[0].address = 192.0.2.100
node.conn[0].port = 3260
node.boot_lun = 1
# END RECORD
# BEGIN RECORD 2.1.8
iface.initiatorname = iqn.2025-01.test:full-init
iface.transport_name = tcp
iface.hwaddress = 02:00:00:00:00:02
iface.bootproto = DHCP
iface.ipaddress = 2001:0db8:0000:0001:0000:0000:0000:0050
iface.prefix_len = 64
iface.subnet_mask = 255.255.255.255
iface.gateway = fe80:0000:0000:0000:0000:0000:0000:0001
iface.primary_dns = 2001:0db8:0000:0000:0000:0000:0000:0053
iface.vlan_id = 0
iface.net_ifacename = eth1
node.name = iqn.2025-01.test:disk-b
node.conn[0].address = 2001:0db8:0000:0001:0000:0000:0000:0100
node.conn[0].port = 3261
node.session.auth.username = user-b
node.session.auth.password = %s
node.session.auth.username_in = target-b
node.session.auth.password_in = %s
node.boot_lun = 4611967493404098562
# END RECORD
`

func TestWriteRecordsFull(t *testing.T) {
	for _, show := range []bool{false, true} {
		t.Run(fmt.Sprint("showSecrets=", show), func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteRecords(&buf, fullTable().Records(fullResolver), show); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf(fullRecords, "<redacted>", "<redacted>")
			if show {
				want = fmt.Sprintf(fullRecords, "secret-b-123", "rsecret-b-456")
			}
			if d := cmp.Diff(strings.Split(want, "\n"), strings.Split(buf.String(), "\n")); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestRecordsRules(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Table)
		check  func(t *testing.T, recs []Record)
	}{
		{"target without flags is left out", func(tab *Table) { tab.Targets[0].Flags = 0 }, func(t *testing.T, recs []Record) {
			if len(recs) != 1 || recs[0].NodeName != "iqn.2025-01.test:disk-b" {
				t.Errorf("records %+v, want only disk-b", recs)
			}
		}},
		{"target without name is left out", func(tab *Table) { tab.Targets[1].Name = "" }, func(t *testing.T, recs []Record) {
			if len(recs) != 1 || recs[0].NodeName != "iqn.2025-01.test:disk-a" {
				t.Errorf("records %+v, want only disk-a", recs)
			}
		}},
		{"nic-assoc naming no nic", func(tab *Table) { tab.Targets[1].NICAssoc = 5 }, func(t *testing.T, recs []Record) {
			if len(recs) != 1 {
				t.Errorf("%d records, want 1", len(recs))
			}
		}},
		{"invalid nic", func(tab *Table) { tab.NICs[0].Flags = 0 }, func(t *testing.T, recs []Record) {
			if len(recs) != 1 || recs[0].NodeName != "iqn.2025-01.test:disk-b" {
				t.Errorf("records %+v, want only disk-b", recs)
			}
		}},
		{"dhcp server makes it DHCP whatever the origin", func(tab *Table) {
			tab.NICs[0].DHCPServer = mustAddr("192.0.2.67")
		}, func(t *testing.T, recs []Record) {
			if recs[0].BootProto != "DHCP" {
				t.Errorf("bootproto %q, want DHCP", recs[0].BootProto)
			}
		}},
		{"chap name without secret", func(tab *Table) { tab.Targets[1].CHAPSecret = "" }, func(t *testing.T, recs []Record) {
			if recs[1].Username != "user-b" || recs[1].Password != "" {
				t.Errorf("username %q password set %v", recs[1].Username, recs[1].Password != "")
			}
		}},
		{"secret without chap name is hidden like sysfs hides it", func(tab *Table) { tab.Targets[1].CHAPName = "" }, func(t *testing.T, recs []Record) {
			if recs[1].Password != "" {
				t.Error("password printed without a CHAP name")
			}
		}},
		{"no prefix, no mask", func(tab *Table) { tab.NICs[0].PrefixLen = 0 }, func(t *testing.T, recs []Record) {
			if recs[0].PrefixLen != 0 || recs[0].SubnetMask != "" {
				t.Errorf("prefix %d mask %q", recs[0].PrefixLen, recs[0].SubnetMask)
			}
		}},
		{"unresolved interface keeps the record", func(tab *Table) { tab.NICs[0].MAC = mustMAC("02:00:00:00:00:09") }, func(t *testing.T, recs []Record) {
			if len(recs) != 2 || recs[0].NetIfaceName != "" {
				t.Errorf("records %+v", recs)
			}
		}},
		{"no initiator structure, no records", func(tab *Table) { tab.Initiator = nil }, func(t *testing.T, recs []Record) {
			if len(recs) != 0 {
				t.Errorf("%d records, want none", len(recs))
			}
		}},
		{"offload transport", func(tab *Table) { tab.Transport = "qla4xxx"; tab.Initiator.ISID = "400001370000" }, func(t *testing.T, recs []Record) {
			if recs[0].TransportName != "qla4xxx" || recs[0].ISID != "400001370000" {
				t.Errorf("transport %q isid %q", recs[0].TransportName, recs[0].ISID)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := fullTable()
			tt.mutate(tab)
			tt.check(t, tab.Records(fullResolver))
		})
	}
}

func TestKernelMask(t *testing.T) {
	for prefix, want := range map[uint8]string{
		1: "128.0.0.0", 8: "255.0.0.0", 24: "255.255.255.0", 31: "255.255.255.254", 32: "255.255.255.255",
		48: "255.255.0.0", 64: "255.255.255.255",
	} {
		if got := kernelMask(prefix); got != want {
			t.Errorf("kernelMask(%d) = %s, want %s", prefix, got, want)
		}
	}
}

func TestWriteRecordsJSON(t *testing.T) {
	for _, show := range []bool{false, true} {
		var buf bytes.Buffer
		if err := WriteRecordsJSON(&buf, fullTable().Records(fullResolver), show); err != nil {
			t.Fatal(err)
		}
		var got []map[string]any
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("%v\n%s", err, buf.String())
		}
		if len(got) != 2 {
			t.Fatalf("%d records, want 2", len(got))
		}
		pw := "<redacted>"
		if show {
			pw = "secret-b-123"
		}
		want := map[string]any{
			"iface.initiatorname":           "iqn.2025-01.test:full-init",
			"iface.transport_name":          "tcp",
			"iface.hwaddress":               "02:00:00:00:00:02",
			"iface.bootproto":               "DHCP",
			"iface.ipaddress":               "2001:0db8:0000:0001:0000:0000:0000:0050",
			"iface.prefix_len":              float64(64),
			"iface.subnet_mask":             "255.255.255.255",
			"iface.gateway":                 "fe80:0000:0000:0000:0000:0000:0000:0001",
			"iface.primary_dns":             "2001:0db8:0000:0000:0000:0000:0000:0053",
			"iface.vlan_id":                 "0",
			"iface.net_ifacename":           "eth1",
			"node.name":                     "iqn.2025-01.test:disk-b",
			"node.conn[0].address":          "2001:0db8:0000:0001:0000:0000:0000:0100",
			"node.conn[0].port":             float64(3261),
			"node.session.auth.username":    "user-b",
			"node.session.auth.password":    pw,
			"node.session.auth.username_in": "target-b",
			"node.session.auth.password_in": strings.Replace(pw, "secret-b-123", "rsecret-b-456", 1),
			"node.boot_lun":                 float64(4611967493404098562),
		}
		if d := cmp.Diff(want, got[1]); d != "" {
			t.Errorf("showSecrets=%v (-want +got):\n%s", show, d)
		}
		if !show && strings.Contains(buf.String(), "secret-b") {
			t.Error("JSON leaks a CHAP secret")
		}
	}
}

// TestSecretsRedacted: fmt and encoding/json never show a secret held in
// the table types, however they are printed.
func TestSecretsRedacted(t *testing.T) {
	tab := fullTable()
	var j bytes.Buffer
	enc := json.NewEncoder(&j)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tab); err != nil {
		t.Fatal(err)
	}
	bt := tab.BootTargets()
	for _, s := range []string{
		fmt.Sprint(tab.Targets), fmt.Sprintf("%+v", tab.Targets[1]), fmt.Sprintf("%#v", tab.Targets[1]),
		fmt.Sprintf("%v", bt), fmt.Sprintf("%+v", bt[1]), fmt.Sprintf("%s", tab.Targets[1].CHAPSecret),
		fmt.Sprintf("%x", tab.Targets[1].CHAPSecret), j.String(),
	} {
		if strings.Contains(s, "secret-b") {
			t.Errorf("secret shown in %q", s)
		}
		if !strings.Contains(s, "<redacted>") && !strings.HasPrefix(s, "3c") {
			t.Errorf("no <redacted> marker in %q", s)
		}
	}
}

// TestPortZero: a target whose port field is 0 is reached on 3260, and
// the records "iscsistart -f" prints say so, as the boot targets do; the
// table keeps the 0 so that it marshals back the same.
func TestPortZero(t *testing.T) {
	tab := fullTable()
	tab.Targets[0].Port = 0
	b, err := tab.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Targets[0].Port != 0 {
		t.Errorf("table port %d, want the raw 0", got.Targets[0].Port)
	}
	recs, bts := got.Records(nil), got.BootTargets()
	if recs[0].Port != core.DefaultPort || bts[0].Port != core.DefaultPort || recs[1].Port != 3261 || bts[1].Port != 3261 {
		t.Errorf("record ports %d, %d and boot target ports %d, %d; want 3260, 3261 in both", recs[0].Port, recs[1].Port, bts[0].Port, bts[1].Port)
	}
	var buf bytes.Buffer
	if err := WriteRecords(&buf, recs, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "node.conn[0].port = 3260\n") || strings.Contains(buf.String(), "node.conn[0].port = 0\n") {
		t.Errorf("records:\n%s", buf.String())
	}
}
