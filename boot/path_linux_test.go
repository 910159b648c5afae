package boot

import (
	"net"
	"net/netip"
	"testing"

	"github.com/iscsiboot/iscsiboot/core/kernel"
	"github.com/iscsiboot/iscsiboot/netcfg"
	"github.com/iscsiboot/iscsiboot/plan"
)

// TestKernelPath: netcfg's path as struct iscsi_path holds it.
func TestKernelPath(t *testing.T) {
	src, dst := netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("10.78.0.9")
	mac, _ := net.ParseMAC("02:00:00:00:00:07")
	for _, tt := range []struct {
		in   netcfg.Path
		want kernel.Path
	}{
		{netcfg.Path{Src: src, Dst: dst, MTU: 1400, MAC: mac, VLAN: 7}, kernel.Path{Src: src, Dst: dst, MTU: 1400, MAC: [6]byte{2, 0, 0, 0, 0, 7}, VLAN: 7}},
		{netcfg.Path{Src: src, Dst: dst, MTU: 65536, MAC: net.HardwareAddr{}}, kernel.Path{Src: src, Dst: dst, MTU: 0xffff}},
	} {
		if got := kernelPath(tt.in); got != tt.want {
			t.Errorf("kernelPath(%+v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// TestKernelLoginHostNet: the offload host's iface network comes from the
// plan's static interface: ip='s address, mask and gateway, vlan='s id;
// none from DHCP, and none when two static interfaces leave it open.
func TestKernelLoginHostNet(t *testing.T) {
	for _, tt := range []struct {
		cmdline string
		params  map[string]string // -P
		want    *kernel.HostNet
	}{
		{"ip=192.0.2.7::192.0.2.1:255.255.255.0::eth0:none netroot=iscsi:192.0.2.9::::iqn.2025-01.test:disk",
			nil, &kernel.HostNet{Address: netip.MustParsePrefix("192.0.2.7/24"), Gateway: netip.MustParseAddr("192.0.2.1")}},
		{"vlan=eth0.100:eth0 ip=10.1.2.3::10.1.0.1:255.255.240.0::eth0.100:none netroot=iscsi:10.1.0.9::::iqn.2025-01.test:disk",
			nil, &kernel.HostNet{Address: netip.MustParsePrefix("10.1.2.3/20"), Gateway: netip.MustParseAddr("10.1.0.1"), VLAN: 100}},
		{"ip=eth0:dhcp netroot=iscsi:192.0.2.9::::iqn.2025-01.test:disk", nil, nil},
		{"ip=eth0:dhcp netroot=iscsi:192.0.2.9::::iqn.2025-01.test:disk",
			map[string]string{"iface.ipaddress": "192.0.2.70", "iface.subnet_mask": "255.255.255.128", "iface.gateway": "192.0.2.1", "iface.vlan_id": "7"},
			&kernel.HostNet{Address: netip.MustParsePrefix("192.0.2.70/25"), Gateway: netip.MustParseAddr("192.0.2.1"), VLAN: 7}},
		{"ip=192.0.2.7:::255.255.255.0::eth0:none ip=198.51.100.7:::255.255.255.0::eth1:none netroot=iscsi:192.0.2.9::::iqn.2025-01.test:disk", nil, nil},
	} {
		p, err := plan.FromCmdline(tt.cmdline)
		if err != nil {
			t.Fatalf("%s: %v", tt.cmdline, err)
		}
		p.Initiator = "iqn.2025-01.test:init"
		if tt.params != nil {
			p.Params = tt.params
		}
		l, err := KernelLogin(p, &p.Targets[0], p.Targets[0].Portals[0])
		if err != nil {
			t.Fatal(err)
		}
		if (l.HostNet == nil) != (tt.want == nil) || (l.HostNet != nil && *l.HostNet != *tt.want) {
			t.Errorf("%s: HostNet %+v, want %+v", tt.cmdline, l.HostNet, tt.want)
		}
	}
}
