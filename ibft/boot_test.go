package ibft

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBootTargets(t *testing.T) {
	tab := fullTable()
	want := []BootTarget{
		{
			Initiator:    "iqn.2025-01.test:full-init",
			Name:         "iqn.2025-01.test:disk-a",
			Addr:         mustAddr("192.0.2.100"),
			Port:         3260,
			LUN:          1,
			BootSelected: true,
			NIC: &BootNIC{
				MAC:      mustMAC("02:00:00:00:00:01"),
				PCIBDF:   NewBDF(0x3b, 0, 1),
				Address:  netip.MustParsePrefix("192.0.2.50/26"),
				Origin:   OriginManual,
				Gateway:  mustAddr("192.0.2.1"),
				DNS:      []netip.Addr{mustAddr("192.0.2.53"), mustAddr("192.0.2.54")},
				VLAN:     100,
				Hostname: "bootbox",
			},
		},
		{
			Initiator:         "iqn.2025-01.test:full-init",
			Name:              "iqn.2025-01.test:disk-b",
			Addr:              mustAddr("2001:db8:0:1::100"),
			Port:              3261,
			LUN:               0x4001_0000_0000_0002,
			CHAP:              CHAPMutual,
			CHAPName:          "user-b",
			CHAPSecret:        "secret-b-123",
			ReverseCHAPName:   "target-b",
			ReverseCHAPSecret: "rsecret-b-456",
			NIC: &BootNIC{
				Index:      1,
				MAC:        mustMAC("02:00:00:00:00:02"),
				PCIBDF:     NewBDF(0x3b, 0, 2),
				Address:    netip.MustParsePrefix("2001:db8:0:1::50/64"),
				Origin:     OriginDHCP,
				DHCP:       true,
				Gateway:    mustAddr("fe80::1"),
				DNS:        []netip.Addr{mustAddr("2001:db8::53")},
				DHCPServer: mustAddr("2001:db8::67"),
			},
		},
	}
	if d := cmp.Diff(want, tab.BootTargets(), cmpOpts...); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}

	tab.Targets[0].Flags = 0
	tab.NICs[1].Flags = 0
	got := tab.BootTargets()
	if len(got) != 1 || got[0].Name != "iqn.2025-01.test:disk-b" || got[0].NIC != nil {
		t.Errorf("with target0 and nic1 invalid: %+v, want disk-b alone without a NIC", got)
	}
}

// TestFixtureSysfsRecords runs the whole path an initramfs takes on the lab
// machine when only the kernel's view is readable: Load from sysfs, resolve
// the NIC by MAC in /sys/class/net, print the records.
func TestFixtureSysfsRecords(t *testing.T) {
	root := fakeNet(t, map[string]string{"lo": "00:00:00:00:00:00", "eth0": "52:54:00:12:34:56"}, nil)
	ipxeSysfs(t, root)
	tab, err := Load(context.Background(), WithRoot(root), WithMemory(bytes.NewReader(nil)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteRecords(&buf, tab.Records(SysResolver(root)), false); err != nil {
		t.Fatal(err)
	}
	want := fixtureSection(t, "iscsistart -f")
	for i, l := range want {
		if l == "node.boot_lun = 01000000" {
			want[i] = "node.boot_lun = 1"
		}
	}
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
