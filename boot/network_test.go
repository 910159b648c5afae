package boot

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/google/go-cmp/cmp"
	"github.com/iscsiboot/iscsiboot/netcfg"
)

// TestNetInterfaces: every interface field of the plan reaches netcfg, or
// the interface is one netcfg is not asked to configure.
func TestNetInterfaces(t *testing.T) {
	links := []string{"eth0", "eth1"}
	tests := []struct {
		name    string
		cmdline string
		want    []netcfg.Interface
	}{
		{"ip=dhcp is every card", "ip=dhcp",
			[]netcfg.Interface{{Name: "eth0", Method: plan.MethodDHCP}, {Name: "eth1", Method: plan.MethodDHCP}}},
		{"static, with MTU, MAC to set and host name", "ip=10.0.0.2::10.0.0.1:24:node1:eth0:none:9000:52:54:00:aa:bb:cc",
			[]netcfg.Interface{{Name: "eth0", Method: plan.MethodStatic, Addresses: []netip.Prefix{pfx("10.0.0.2/24")}, Gateway: addr("10.0.0.1"),
				MTU: 9000, SetMAC: "52:54:00:aa:bb:cc", Hostname: "node1"}}},
		{"either6 and link6 are IPv6 autoconfiguration", "ip=eth0:either6 ip=eth1:link6",
			[]netcfg.Interface{{Name: "eth0", Method: netcfg.MethodAuto6}, {Name: "eth1", Method: netcfg.MethodAuto6}}},
		{"ifname= finds the link by MAC", "ifname=bootnet:52:54:00:12:34:56 ip=bootnet:dhcp",
			[]netcfg.Interface{{Name: "bootnet", MAC: "52:54:00:12:34:56", Method: plan.MethodDHCP}}},
		{"vlan= is made on its parent, with its name", "vlan=vlan0005:eth1 ip=vlan0005:dhcp",
			[]netcfg.Interface{{Name: "eth1", Method: plan.MethodDHCP, VLAN: 5, VLANName: "vlan0005"}}},
		{"vlan= on a parent that ifname= names", "vlan=bootnet.7:bootnet ifname=bootnet:52:54:00:12:34:56 ip=10.0.7.2::10.0.7.1:24::bootnet.7:none",
			[]netcfg.Interface{{Name: "bootnet", MAC: "52:54:00:12:34:56", Method: plan.MethodStatic, Addresses: []netip.Prefix{pfx("10.0.7.2/24")},
				Gateway: addr("10.0.7.1"), VLAN: 7, VLANName: "bootnet.7"}}},
		{"names alone and the firmware's are not configured here", "ifname=bootnet:52:54:00:12:34:56 vlan=vlan5:eth0 rd.iscsi.ibft", nil},
		{"bootdev: only the boot device takes DHCP's default route", "bootdev=eth1 ip=eth0:dhcp ip=eth1:dhcp",
			[]netcfg.Interface{{Name: "eth0", Method: plan.MethodDHCP, NoDefaultRoute: true}, {Name: "eth1", Method: plan.MethodDHCP}}},
		{"bootdev names a VLAN", "bootdev=vlan5 vlan=vlan5:eth0 ip=vlan5:dhcp ip=eth1:dhcp",
			[]netcfg.Interface{{Name: "eth0", Method: plan.MethodDHCP, VLAN: 5, VLANName: "vlan5"}, {Name: "eth1", Method: plan.MethodDHCP, NoDefaultRoute: true}}},
		{"bootdev among every card", "bootdev=eth1 ip=dhcp",
			[]netcfg.Interface{{Name: "eth0", Method: plan.MethodDHCP, NoDefaultRoute: true}, {Name: "eth1", Method: plan.MethodDHCP}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := plan.FromCmdline(tt.cmdline)
			if err != nil {
				t.Fatal(err)
			}
			got, err := netInterfaces(p, links)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpNetip); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.cmdline, diff)
			}
		})
	}
}

// TestNetInterfacesBootDevUnknown: a bootdev= that names no configured
// interface fails the boot before the network is touched.
func TestNetInterfacesBootDevUnknown(t *testing.T) {
	p, err := plan.FromCmdline("bootdev=eth2 ip=eth0:dhcp ip=eth1:dhcp")
	if err != nil {
		t.Fatal(err)
	}
	_, err = netInterfaces(p, nil)
	if err == nil || !strings.Contains(err.Error(), "bootdev=eth2: no interface of that name is configured") {
		t.Errorf("err %v, want bootdev=eth2 named", err)
	}
}

// TestAddSoftRoCEFails: a soft-RoCE device that cannot be added stops the boot as a network error
// (open-iscsi's transport error, exit 4) naming the device, and nothing is tried after it.
func TestAddSoftRoCEFails(t *testing.T) {
	var lines []string
	logf := func(format string, args ...any) { lines = append(lines, format) }
	err := AddSoftRoCE(context.Background(), &plan.Plan{SoftRoCE: []string{"a/b", "eth0"}}, logf)
	var ne *NetworkError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), "a/b: soft-RoCE: ") {
		t.Fatalf("AddSoftRoCE = %v, want a *NetworkError naming a/b", err)
	}
	if len(lines) != 0 {
		t.Errorf("logged %q after a failure", lines)
	}
	if err := AddSoftRoCE(context.Background(), &plan.Plan{}, logf); err != nil || len(lines) != 0 {
		t.Errorf("no rd.iscsi.rxe: AddSoftRoCE = %v, logged %q; want nothing done", err, lines)
	}
}
