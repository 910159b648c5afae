package boot

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/iscsiboot/iscsiboot/core/kernel"
	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/internal/esc"
	"github.com/iscsiboot/iscsiboot/netcfg"
	"github.com/iscsiboot/iscsiboot/plan"
)

// TestTargetsFromDHCPHostile: a DHCP lease's initiator name (option 203)
// and root path (option 17) come from any machine on the segment. One with
// a line break, a NUL (a forged login key) or an escape sequence is dropped
// with a warning that names the option and shows the value escaped; it
// never becomes the plan's initiator or a target.
func TestTargetsFromDHCPHostile(t *testing.T) {
	const good = "iscsi:10.0.0.1::3260:1:iqn.2025-01.test:disk1"
	for _, tc := range []struct {
		name      string
		lease     netcfg.Result
		option    string
		initiator string // the plan's initiator after the step
		targets   int
	}{
		{"initiator with newline", netcfg.Result{Name: "eth0", RootPath: good, InitiatorName: "iqn.2025-01.test:a\nInitiatorName=iqn.2025-01.evil:x"}, "option 203", "", 1},
		{"initiator with NUL", netcfg.Result{Name: "eth0", RootPath: good, InitiatorName: "iqn.2025-01.test:a\x00TargetName=iqn.2025-01.evil:x"}, "option 203", "", 1},
		{"initiator not an iSCSI name", netcfg.Result{Name: "eth0", RootPath: good, InitiatorName: "root"}, "option 203", "", 1},
		{"root path with newline", netcfg.Result{Name: "eth0", RootPath: good + "\nx", InitiatorName: "iqn.2025-01.test:init"}, "option 17", "iqn.2025-01.test:init", 0},
		{"root path with escape", netcfg.Result{Name: "eth0", RootPath: "iscsi:10.0.0.1::3260:1:iqn.2025-01.test:\x1b[2J"}, "option 17", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log []string
			logf := func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)) }
			p := &plan.Plan{DHCPRootPath: true}
			err := TargetsFromDHCP(p, []netcfg.Result{tc.lease}, logf)
			if p.Initiator != tc.initiator || len(p.Targets) != tc.targets {
				t.Errorf("initiator %q, %d targets; want %q, %d", p.Initiator, len(p.Targets), tc.initiator, tc.targets)
			}
			if (err != nil) != (tc.targets == 0) {
				t.Errorf("error %v with %d targets", err, tc.targets)
			}
			bad := tc.lease.InitiatorName
			if tc.option == "option 17" {
				bad = tc.lease.RootPath
			}
			found := false
			for _, l := range log {
				if strings.ContainsAny(l, "\n\x00\x1b") {
					t.Errorf("log line %q holds a control byte", l)
				}
				if strings.HasPrefix(l, "warning: eth0: DHCP "+tc.option+" ") && strings.Contains(l, esc.String(bad)) {
					found = true
				}
			}
			if !found {
				t.Errorf("no warning naming %s and %q in %q", tc.option, bad, log)
			}
		})
	}
	// A good lease still gives both.
	p := &plan.Plan{DHCPRootPath: true}
	if err := TargetsFromDHCP(p, []netcfg.Result{{Name: "eth0", RootPath: good, InitiatorName: "iqn.2025-01.test:init", ServerAddr: netip.MustParseAddr("10.0.0.1")}}, func(string, ...any) {}); err != nil || p.Initiator != "iqn.2025-01.test:init" || len(p.Targets) != 1 {
		t.Errorf("good lease: %v, initiator %q, targets %v", err, p.Initiator, p.Targets)
	}
}

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

// TestKernelLoginHostNetIBFT: an iBFT's static NIC, the interface of its
// target, gives the offload host its iface network (bnx2i booted with
// -b and -P iface.transport_name=bnx2i).
func TestKernelLoginHostNetIBFT(t *testing.T) {
	mac, _ := net.ParseMAC("00:10:18:00:00:01")
	tab := &ibft.Table{
		Initiator: &ibft.Initiator{Name: "iqn.2025-01.test:init"},
		NICs: []ibft.NIC{{Flags: 3, IP: netip.MustParseAddr("192.0.2.7"), PrefixLen: 24, Origin: ibft.OriginManual,
			Gateway: netip.MustParseAddr("192.0.2.1"), VLAN: 12, MAC: mac}},
		Targets: []ibft.Target{{Flags: 3, IP: netip.MustParseAddr("192.0.2.9"), Port: 3260, Name: "iqn.2025-01.test:disk"}},
	}
	p, err := plan.FromIBFT(tab, func(net.HardwareAddr, ibft.BDF) (string, error) { return "eth0", nil })
	if err != nil {
		t.Fatal(err)
	}
	l, err := KernelLogin(p, &p.Targets[0], p.Targets[0].Portals[0])
	if err != nil {
		t.Fatal(err)
	}
	want := kernel.HostNet{Address: netip.MustParsePrefix("192.0.2.7/24"), Gateway: netip.MustParseAddr("192.0.2.1"), VLAN: 12}
	if l.HostNet == nil || *l.HostNet != want {
		t.Errorf("HostNet %+v, want %+v (plan interfaces %+v)", l.HostNet, want, p.Interfaces)
	}
}
