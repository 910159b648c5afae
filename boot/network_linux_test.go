package boot

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/iscsiboot/iscsiboot/internal/nstest"
	"github.com/iscsiboot/iscsiboot/netcfg"
)

// TestRouteTo runs in the test's private network namespace, where only lo
// is up: the loopback addresses have a route, nothing else has.
func TestRouteTo(t *testing.T) {
	nstest.Require(t)
	tests := []struct {
		addr string
		want error
	}{
		{"127.0.0.1", nil},
		{"::1", nil},
		{"192.0.2.1", errNoRoute},
		{"2001:db8::1", errNoRoute},
		{"san.example", nil}, // host names are not tested
	}
	for _, tt := range tests {
		err := RouteTo(context.Background(), plan.Portal{Address: tt.addr, Port: 3260})
		if !errors.Is(err, tt.want) {
			t.Errorf("RouteTo(%s) = %v, want %v", tt.addr, err, tt.want)
		}
	}
}

// TestTargetsFromDHCPBootDev: with bootdev=, only the boot device's lease
// gives the root and the initiator name, as in dracut.
func TestTargetsFromDHCPBootDev(t *testing.T) {
	leases := []netcfg.Result{
		{Name: "eth0", RootPath: "iscsi:10.0.0.1::::iqn.2009-06.dracut:target0", InitiatorName: "iqn.2009-06.dracut:eth0"},
		{Name: "eth1", RootPath: "iscsi:10.0.1.1::::iqn.2009-06.dracut:target1", InitiatorName: "iqn.2009-06.dracut:eth1"},
		{Name: "eth2"},
	}
	tests := []struct {
		bootdev   string
		targets   []string
		initiator string
		err       string
	}{
		{"", []string{t0, t1}, "iqn.2009-06.dracut:eth0", ""},
		{"eth1", []string{t1}, "iqn.2009-06.dracut:eth1", ""},
		{"eth2", nil, "", "netroot=dhcp, but bootdev=eth2 got no iSCSI root-path (DHCPv4 option 17, DHCPv6 option 59) from DHCP"},
	}
	for _, tt := range tests {
		p := &plan.Plan{DHCPRootPath: true, BootDev: tt.bootdev}
		err := TargetsFromDHCP(p, leases, func(string, ...any) {})
		var names []string
		for _, tg := range p.Targets {
			names = append(names, tg.Name)
		}
		if strings.Join(names, " ") != strings.Join(tt.targets, " ") || p.Initiator != tt.initiator ||
			(err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) {
			t.Errorf("bootdev=%q: targets %v, initiator %q, err %v; want %v, %q, %q", tt.bootdev, names, p.Initiator, err, tt.targets, tt.initiator, tt.err)
		}
	}
}

// TestTargetsFromDHCPv6: a DHCPv6 lease's root path (option 59) names
// its portal in brackets and comes with no server address: the target is
// the bracketed one, and the line says the root came by DHCPv6.
func TestTargetsFromDHCPv6(t *testing.T) {
	leases := []netcfg.Result{{Name: "eth0", Method: netcfg.MethodDHCP6, RootPath: "iscsi:[2001:db8::1]::3261:1:" + t0}}
	p := &plan.Plan{DHCPRootPath: true}
	var lines []string
	if err := TargetsFromDHCP(p, leases, func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }); err != nil {
		t.Fatal(err)
	}
	if len(p.Targets) != 1 || len(p.Targets[0].Portals) != 1 || p.Targets[0].Portals[0] != (plan.Portal{Address: "2001:db8::1", Port: 3261}) {
		t.Fatalf("targets %+v, want %s at [2001:db8::1]:3261", p.Targets, t0)
	}
	if want := "eth0: root-path " + t0 + " from dhcp6"; !slices.Contains(lines, want) {
		t.Errorf("lines %q, want %q", lines, want)
	}
}

// fakeConfigure brings each interface up after the delay its name asks
// for ("slow" 500 ms, others at once), as netcfg.Configure would: onUp as
// each is up, then every result.
func fakeConfigure(t *testing.T) {
	fakeLinks(t)
	orig := configure
	t.Cleanup(func() { configure = orig })
	configure = func(ctx context.Context, ifs []netcfg.Interface, o netOptions) ([]netcfg.Result, error) {
		res := make([]netcfg.Result, len(ifs))
		done := make(chan int)
		for i, ifc := range ifs {
			go func() {
				if strings.HasPrefix(ifc.Name, "slow") {
					time.Sleep(500 * time.Millisecond)
				}
				res[i] = netcfg.Result{Name: ifc.Name, Method: ifc.Method, Addresses: ifc.Addresses}
				o.onUp(res[i])
				done <- i
			}()
		}
		for range ifs {
			<-done
		}
		return res, nil
	}
}

// TestNetworkForLogins: the logins start with the first interface up
// (dracut's default), and only once every one is up with rd.iscsi.waitnet,
// netroot=dhcp, or a portal named by a host name.
func TestNetworkForLogins(t *testing.T) {
	fakeConfigure(t)
	tests := []struct {
		name    string
		cmdline string
		waitAll bool
	}{
		{"the first interface", "netroot=iscsi:10.0.0.1::::" + t0, false},
		{"rd.iscsi.waitnet", "rd.iscsi.waitnet netroot=iscsi:10.0.0.1::::" + t0, true},
		{"netroot=dhcp", "netroot=dhcp", true},
		{"a host name portal", "netroot=iscsi:san.example::::" + t0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := plan.FromCmdline(tt.cmdline + " ip=10.0.0.2::10.0.0.1:24::fast0:none ip=10.0.1.2::10.0.1.1:24::slow0:none")
			if err != nil {
				t.Fatal(err)
			}
			begin := time.Now()
			nw, err := StartNetwork(context.Background(), p, t.TempDir(), true, func(string, ...any) {})
			if err != nil {
				t.Fatal(err)
			}
			up, err := nw.ForLogins(p)
			took := time.Since(begin)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.waitAll && (took < 500*time.Millisecond || len(up) != 2):
				t.Errorf("logins may start after %v with %d interfaces up; want both, after slow0's 500ms", took, len(up))
			case !tt.waitAll && took > 300*time.Millisecond:
				t.Errorf("logins may start after %v; want at once, with fast0", took)
			}
			if got, err := nw.wait(); err != nil || len(got) != 2 {
				t.Errorf("at the end: %d interfaces up, %v; want 2", len(got), err)
			}
		})
	}
}

// TestNetworkNoneUp: when every interface fails, the logins do not start.
func TestNetworkNoneUp(t *testing.T) {
	fakeLinks(t)
	orig := configure
	t.Cleanup(func() { configure = orig })
	configure = func(ctx context.Context, ifs []netcfg.Interface, o netOptions) ([]netcfg.Result, error) {
		return make([]netcfg.Result, len(ifs)), errors.New("eth0: no carrier after 10s")
	}
	p, err := plan.FromCmdline("ip=eth0:dhcp netroot=iscsi:10.0.0.1::::" + t0)
	if err != nil {
		t.Fatal(err)
	}
	nw, err := StartNetwork(context.Background(), p, t.TempDir(), true, func(string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nw.ForLogins(p); err == nil || !strings.Contains(err.Error(), "no interface came up") {
		t.Errorf("forLogins = %v, want no interface up", err)
	}
}

// TestNetworkHandoffBootDev: open-iscsi.interface names the boot device
// (bootdev=), whatever order the interfaces come in.
func TestNetworkHandoffBootDev(t *testing.T) {
	fakeConfigure(t)
	for _, bootdev := range []string{"eth0", "eth1"} {
		p, err := plan.FromCmdline("bootdev=" + bootdev + " ip=10.0.0.2::10.0.0.1:24::eth0:none ip=10.0.1.2::10.0.1.1:24::eth1:none")
		if err != nil {
			t.Fatal(err)
		}
		root := t.TempDir()
		nw, err := StartNetwork(context.Background(), p, root, true, func(string, ...any) {})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nw.wait(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(root, "run", "initramfs", "open-iscsi.interface"))
		if err != nil || string(b) != bootdev+"\n" {
			t.Errorf("bootdev=%s: open-iscsi.interface %q (%v)", bootdev, b, err)
		}
		for _, dev := range []string{"eth0", "eth1"} {
			if _, err := os.Stat(filepath.Join(root, "run", "net-"+dev+".conf")); err != nil {
				t.Errorf("bootdev=%s: %v", bootdev, err)
			}
		}
	}
}

// TestNetworkOptions: nameserver= reaches netcfg for every boot, and the
// boot sets the host name (ip=...:<hostname>: or DHCP) as dracut does,
// while iscsistart -N leaves it alone.
func TestNetworkOptions(t *testing.T) {
	fakeLinks(t)
	var got netOptions
	orig := configure
	t.Cleanup(func() { configure = orig })
	configure = func(ctx context.Context, ifs []netcfg.Interface, o netOptions) ([]netcfg.Result, error) {
		got = o
		return []netcfg.Result{{Name: ifs[0].Name, Addresses: ifs[0].Addresses, Hostname: ifs[0].Hostname}}, nil
	}
	p, err := plan.FromCmdline("nameserver=10.0.0.53 nameserver=[2001:db8::53] ip=10.0.0.2::10.0.0.1:24:node1:eth0:none")
	if err != nil {
		t.Fatal(err)
	}
	for _, boot := range []bool{true, false} {
		nw, err := StartNetwork(context.Background(), p, t.TempDir(), boot, func(string, ...any) {})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nw.wait(); err != nil {
			t.Fatal(err)
		}
		want := []netip.Addr{addr("10.0.0.53"), addr("2001:db8::53")}
		if !slices.Equal(got.nameservers, want) || got.setHostname != boot {
			t.Errorf("boot %v: name servers %v, set host name %v; want %v, %v", boot, got.nameservers, got.setHostname, want, boot)
		}
	}
}
