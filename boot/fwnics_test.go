package boot

import (
	"errors"
	"net"
	"net/netip"
	"reflect"
	"testing"

	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/netcfg"
)

// TestNICSetups checks -N's plan against open-iscsi's net_setup_netdev: the
// table's address even for a NIC the firmware configured by DHCP (no DHCP
// run of our own), never a default route, and a host route to each target,
// on link within the NIC's subnet and through the gateway outside it.
func TestNICSetups(t *testing.T) {
	mac1, _ := net.ParseMAC("52:54:00:12:34:56")
	mac2, _ := net.ParseMAC("52:54:00:12:34:57")
	valid := ibft.FlagBlockValid | ibft.FlagBootSelected
	gw := netip.MustParseAddr("10.0.2.2")
	table := &ibft.Table{
		NICs: []ibft.NIC{
			{Index: 0, Flags: valid, IP: netip.MustParseAddr("10.0.2.15"), PrefixLen: 24, Origin: ibft.OriginDHCP,
				Gateway: gw, MAC: mac1, DHCPServer: gw},
			{Index: 1, Flags: valid, MAC: mac2}, // no address
		},
		Targets: []ibft.Target{
			{Index: 0, Flags: valid, IP: netip.MustParseAddr("10.0.2.2"), Name: "iqn.2025-01.test:disk1", NICAssoc: 0},
			{Index: 1, Flags: valid, IP: netip.MustParseAddr("192.168.7.9"), Name: "iqn.2025-01.test:disk2", NICAssoc: 0},
			{Index: 2, Flags: valid, IP: netip.MustParseAddr("10.0.3.2"), Name: "iqn.2025-01.test:disk3", NICAssoc: 1},
		},
	}
	resolve := func(mac net.HardwareAddr, _ ibft.BDF) (string, error) {
		if mac.String() == mac1.String() {
			return "eth0", nil
		}
		return "", errors.New("no such link")
	}
	got, warns := nicSetups(table, resolve)
	want := []nicSetup{{
		Iface: netcfg.Interface{Name: "eth0", MAC: "52:54:00:12:34:56", Method: netcfg.MethodStatic,
			Addresses: []netip.Prefix{netip.MustParsePrefix("10.0.2.15/24")}, NoDefaultRoute: true},
		Routes: []hostRoute{
			{Target: netip.MustParseAddr("10.0.2.2")},
			{Target: netip.MustParseAddr("192.168.7.9"), Gateway: gw},
		},
		DHCP: true,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("nicSetups:\n got %+v\nwant %+v", got, want)
	}
	if len(warns) != 1 || warns[0] != "ibft: NIC 1 (52:54:00:12:34:57): the table has no address for it" {
		t.Errorf("warnings %q", warns)
	}
}
