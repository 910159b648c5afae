package ibft

import (
	"bufio"
	"bytes"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// cmpOpts compares the netip types, whose fields cmp cannot see.
var cmpOpts = []cmp.Option{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// ipxeTable is what testdata/ipxe-ibft.txt's "decoded raw table" section
// says the iPXE fixture holds.
func ipxeTable() *Table {
	return &Table{
		Header: Header{Signature: "iBFT", OEMID: "FENSYS", OEMTableID: "iPXE"},
		Initiator: &Initiator{
			Flags: FlagBlockValid | FlagBootSelected,
			Name:  "iqn.2025-01.test:init",
		},
		NICs: []NIC{{
			Flags:      FlagBlockValid | FlagBootSelected,
			IP:         mustAddr("10.0.2.15"),
			PrefixLen:  24,
			Origin:     OriginDHCP,
			Gateway:    mustAddr("10.0.2.2"),
			PrimaryDNS: mustAddr("10.0.2.3"),
			DHCPServer: mustAddr("10.0.2.2"),
			MAC:        mustMAC("52:54:00:12:34:56"),
			PCIBDF:     NewBDF(0, 3, 0),
		}},
		Targets: []Target{{
			Flags: FlagBlockValid | FlagBootSelected,
			IP:    mustAddr("10.0.2.2"),
			Port:  3260,
			LUN:   LUN{0, 1},
			Name:  "iqn.2025-01.test:disk1",
		}},
	}
}

func readFixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/ipxe-ibft.bin")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtureSection returns the lines of one "## " section of ipxe-ibft.txt.
func fixtureSection(t *testing.T, title string) []string {
	t.Helper()
	f, err := os.Open("testdata/ipxe-ibft.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## "+title
			continue
		}
		if in && line != "" {
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		t.Fatalf("fixture has no section %q", title)
	}
	return out
}

func TestFixtureParse(t *testing.T) {
	got, err := Parse(readFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(ipxeTable(), got, cmpOpts...); d != "" {
		t.Errorf("Parse(ipxe-ibft.bin) mismatch (-want +got):\n%s", d)
	}
	if n := got.Targets[0].LUN.Int(); n != 1 {
		t.Errorf("LUN.Int() = %d, want 1", n)
	}
	if s := got.Targets[0].LUN.sysfsString(); s != "01000000" {
		t.Errorf("sysfs LUN = %q, want the kernel's 01000000", s)
	}
}

func TestFixtureRecords(t *testing.T) {
	tab, err := Parse(readFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	res := func(mac net.HardwareAddr, _ BDF) (string, error) {
		if mac.String() == "52:54:00:12:34:56" {
			return "eth0", nil
		}
		return "", errNoInterface
	}
	var buf bytes.Buffer
	if err := WriteRecords(&buf, tab.Records(res), false); err != nil {
		t.Fatal(err)
	}
	want := fixtureSection(t, "iscsistart -f")
	for i, l := range want {
		// The one deliberate difference: the real LUN, not sysfs's string.
		if l == "node.boot_lun = 01000000" {
			want[i] = "node.boot_lun = 1"
		}
	}
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("records differ from open-iscsi's (-want +got):\n%s", d)
	}
}
