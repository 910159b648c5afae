package netcfg

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	// ignoreVarying leaves out of Result comparisons what changes from run to run.
	ignoreVarying = cmpopts.IgnoreFields(Result{}, "MAC", "Took", "Uptime")
)

func mustPrefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestConfigureStatic(t *testing.T) {
	tb := newTestbed(t, netip.MustParsePrefix("10.0.1.1/24"))
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	ifc := Interface{
		Name:      tb.Link,
		Method:    MethodStatic,
		Addresses: mustPrefixes("10.0.1.2/24", "2001:db8:1::2/64"),
		Gateway:   netip.MustParseAddr("10.0.1.1"),
		DNS:       []netip.Addr{netip.MustParseAddr("10.0.1.53")},
		Search:    []string{"lab.test"},
		MTU:       1400,
		Hostname:  "node1",
	}
	want := Result{
		Name:      tb.Link,
		Method:    MethodStatic,
		Addresses: ifc.Addresses,
		Gateway:   ifc.Gateway,
		DNS:       ifc.DNS,
		Search:    ifc.Search,
		Hostname:  "node1",
		MTU:       1400,
	}
	// Twice: the second run finds everything in place and must succeed all the same.
	for run := 1; run <= 2; run++ {
		res, err := Configure(testContext(t), []Interface{ifc}, WithResolvConf(resolv), WithCarrierTimeout(5*time.Second))
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if diff := cmp.Diff([]Result{want}, res, ignoreVarying, cmpAddr, cmpPrefix); diff != "" {
			t.Errorf("run %d: results (-want +got):\n%s", run, diff)
		}
	}
	if diff := cmp.Diff(ifc.Addresses, hostAddrs(t, tb.host, tb.Link), cmpPrefix, cmpopts.SortSlices(prefixLess)); diff != "" {
		t.Errorf("addresses read back (-want +got):\n%s", diff)
	}
	l, err := tb.host.LinkByName(testContext(t), tb.Link)
	if err != nil {
		t.Fatal(err)
	}
	if l.MTU != 1400 || !l.Up || !l.Carrier {
		t.Errorf("link = %+v, want MTU 1400, up, carrier", l)
	}
	wantRoutes := []Route{{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: ifc.Gateway, Index: l.Index, Protocol: 3}}
	if diff := cmp.Diff(wantRoutes, hostRoutes(t, tb.host, tb.Link), cmpAddr, cmpPrefix); diff != "" {
		t.Errorf("routes read back (-want +got):\n%s", diff)
	}
	got, err := os.ReadFile(resolv)
	if err != nil {
		t.Fatal(err)
	}
	if want := "# written by iscsiboot\nsearch lab.test\nnameserver 10.0.1.53\n"; string(got) != want {
		t.Errorf("resolv.conf = %q, want %q", got, want)
	}
}

func prefixLess(a, b netip.Prefix) bool { return a.String() < b.String() }

func TestConfigureByMAC(t *testing.T) {
	tb := newTestbed(t)
	l, err := tb.host.LinkByName(testContext(t), tb.Link)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Configure(testContext(t), []Interface{{MAC: l.MAC.String(), Addresses: mustPrefixes("10.0.2.2/24")}},
		WithResolvConf(""))
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Name != tb.Link || res[0].MAC != l.MAC.String() {
		t.Errorf("by MAC %s: got link %s (%s), want %s", l.MAC, res[0].Name, res[0].MAC, tb.Link)
	}
}

func TestConfigureVLAN(t *testing.T) {
	tb := newTestbed(t)
	ifc := Interface{Name: tb.Link, VLAN: 100, Addresses: mustPrefixes("10.0.100.2/24")}
	for run := 1; run <= 2; run++ {
		res, err := Configure(testContext(t), []Interface{ifc}, WithResolvConf(""))
		if run == 1 && errors.Is(err, errNoVLANSupport) {
			// A kernel without 8021q (built in or loadable) cannot make the link: what can be checked here is
			// that the operator gets the reason in one line. TestAddVLANRequest covers the request itself.
			want := tb.Link + ": VLAN: add VLAN " + tb.Link + ".100: kernel has no 802.1Q VLAN support (module 8021q)"
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error = %q, want it to start with %q", err, want)
			}
			t.Logf("this kernel has no 802.1Q support; VLAN read-back not exercised: %v", err)
			return
		}
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if want := tb.Link + ".100"; res[0].Name != want {
			t.Fatalf("run %d: configured %s, want %s", run, res[0].Name, want)
		}
	}
	ctx := testContext(t)
	parent, err := tb.host.LinkByName(ctx, tb.Link)
	if err != nil {
		t.Fatal(err)
	}
	v, err := tb.host.LinkByName(ctx, tb.Link+".100")
	if err != nil {
		t.Fatal(err)
	}
	want := Link{Index: v.Index, Name: tb.Link + ".100", MAC: parent.MAC, MTU: parent.MTU, Up: true, Carrier: true,
		Kind: "vlan", Parent: parent.Index, VLANID: 100}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("VLAN link read back (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ifc.Addresses, hostAddrs(t, tb.host, v.Name), cmpPrefix); diff != "" {
		t.Errorf("VLAN addresses (-want +got):\n%s", diff)
	}
	// The parent by MAC is the NIC, not the VLAN that shares its address.
	if l, err := tb.host.LinkByMAC(ctx, parent.MAC); err != nil || l.Index != parent.Index {
		t.Errorf("LinkByMAC(%s) = %s, %v; want %s", parent.MAC, l.Name, err, parent.Name)
	}
	// A link of the VLAN's name that is something else is an error, not silently taken.
	if _, err := tb.host.AddVLAN(ctx, parent, 100, ""); err != nil {
		t.Errorf("AddVLAN again: %v", err)
	}
	other := Link{Index: parent.Index, Name: parent.Name}
	if err := deleteLink(ctx, tb.host, v.Index); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.host.AddVLAN(ctx, other, 200, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.host.AddVLAN(ctx, Link{Index: 1, Name: parent.Name}, 200, ""); !errors.Is(err, errVLANMismatch) {
		t.Errorf("AddVLAN on another parent with a taken name = %v, want %v", err, errVLANMismatch)
	}
}

func TestConfigureNoCarrier(t *testing.T) {
	tb := newTestbed(t)
	ctx := testContext(t)
	if err := setDown(ctx, tb.peer, tb.peerLink(t).Index); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := Configure(ctx, []Interface{{Name: tb.Link, Method: MethodDHCP}},
		WithCarrierTimeout(700*time.Millisecond), WithResolvConf(""))
	took := time.Since(start)
	if !errors.Is(err, ErrNoCarrier) {
		t.Fatalf("Configure with the peer down = %v, want %v", err, ErrNoCarrier)
	}
	if want := tb.Link + ": no carrier after 700ms"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if took < 700*time.Millisecond || took > 3*time.Second {
		t.Errorf("gave up after %s, want about 700ms", took)
	}
}

func TestConfigureErrors(t *testing.T) {
	tests := []struct {
		name string
		ifs  []Interface
		want error
		msg  string
	}{
		{"no such link", []Interface{{Name: "nosuch0"}}, ErrLinkNotFound, `nosuch0: link not found: no link named "nosuch0"`},
		{"no such MAC", []Interface{{MAC: "02:00:00:00:00:99"}}, ErrLinkNotFound, "02:00:00:00:00:99: link not found: no link with MAC 02:00:00:00:00:99"},
		{"bad method", []Interface{{Name: "lo", Method: "bootp"}}, errBadMethod, `lo: check: unknown method "bootp", want static, dhcp, dhcp6 or auto6`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Configure(testContext(t), tt.ifs, WithResolvConf(""))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Configure = %v, want %v", err, tt.want)
			}
			var ie *InterfaceError
			if !errors.As(err, &ie) {
				t.Errorf("error %T is not an *InterfaceError", err)
			}
			if err.Error() != tt.msg {
				t.Errorf("error = %q, want %q", err, tt.msg)
			}
		})
	}
}

// TestHostRoute is -N's host route to a target, twice (the second call
// finds it there): through the table's gateway for a target off the
// NIC's prefix, on link for one in it. For IPv6 the gateway is what
// firmware that learnt it from a router advertisement records, the
// router's link-local address.
func TestHostRoute(t *testing.T) {
	for _, tc := range []struct {
		name               string
		host, addr         string // the testbed's host side (or none), the NIC's address
		target, gw, onLink string
		bits               int
	}{
		{"IPv4", "10.0.1.1/24", "10.0.1.2/24", "192.0.2.10", "10.0.1.1", "10.0.1.77", 32},
		{"IPv6", "", "2001:db8:1::15/64", "2001:db8:9::10", "fe80::1", "2001:db8:1::77", 128},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tb *testbed
			if tc.host != "" {
				tb = newTestbed(t, netip.MustParsePrefix(tc.host))
			} else {
				tb = newTestbed(t)
			}
			ctx := testContext(t)
			if _, err := Configure(ctx, []Interface{{Name: tb.Link, Addresses: mustPrefixes(tc.addr)}}, WithResolvConf("")); err != nil {
				t.Fatal(err)
			}
			target, gw, onLink := netip.MustParseAddr(tc.target), netip.MustParseAddr(tc.gw), netip.MustParseAddr(tc.onLink)
			for run := 1; run <= 2; run++ {
				if err := HostRoute(ctx, tb.Link, target, gw); err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				if err := HostRoute(ctx, tb.Link, onLink, netip.Addr{}); err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
			}
			l, err := tb.host.LinkByName(ctx, tb.Link)
			if err != nil {
				t.Fatal(err)
			}
			want := []Route{
				{Dst: netip.PrefixFrom(onLink, tc.bits), Index: l.Index, Protocol: 3},
				{Dst: netip.PrefixFrom(target, tc.bits), Gateway: gw, Index: l.Index, Protocol: 3},
			}
			if diff := cmp.Diff(want, hostRoutes(t, tb.host, tb.Link), cmpAddr, cmpPrefix,
				cmpopts.SortSlices(func(a, b Route) bool { return a.Dst.String() < b.Dst.String() })); diff != "" {
				t.Errorf("routes read back (-want +got):\n%s", diff)
			}
			if err := HostRoute(ctx, "nosuch2", target, gw); !errors.Is(err, ErrLinkNotFound) {
				t.Errorf("HostRoute(nosuch2) = %v, want %v", err, ErrLinkNotFound)
			}
		})
	}
}

// TestConfigureNameservers: nameserver= servers go into resolv.conf after the interfaces' own, and alone when
// the interfaces have none.
func TestConfigureNameservers(t *testing.T) {
	extra := []netip.Addr{netip.MustParseAddr("10.9.9.9"), netip.MustParseAddr("2001:db8::53")}
	tests := []struct {
		name string
		dns  []netip.Addr
		want string
	}{
		{"after the interface's", []netip.Addr{netip.MustParseAddr("10.0.1.53"), netip.MustParseAddr("10.9.9.9")},
			"# written by iscsiboot\nnameserver 10.0.1.53\nnameserver 10.9.9.9\nnameserver 2001:db8::53\n"},
		{"alone", nil, "# written by iscsiboot\nnameserver 10.9.9.9\nnameserver 2001:db8::53\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestbed(t)
			resolv := filepath.Join(t.TempDir(), "resolv.conf")
			ifc := Interface{Name: tb.Link, Addresses: mustPrefixes("10.0.1.2/24"), DNS: tt.dns}
			res, err := Configure(testContext(t), []Interface{ifc}, WithResolvConf(resolv), WithNameservers(extra))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.dns, res[0].DNS, cmpAddr); diff != "" {
				t.Errorf("the interface's own DNS changed (-want +got):\n%s", diff)
			}
			got, err := os.ReadFile(resolv)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("resolv.conf = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestConfigureSetMAC: ip=...:<macaddr> puts the address on the link before it goes up.
func TestConfigureSetMAC(t *testing.T) {
	tb := newTestbed(t)
	const mac = "02:00:00:0a:0b:0c"
	res, err := Configure(testContext(t), []Interface{{Name: tb.Link, SetMAC: mac, Addresses: mustPrefixes("10.0.4.2/24")}},
		WithResolvConf(""))
	if err != nil {
		t.Fatal(err)
	}
	l, err := tb.host.LinkByName(testContext(t), tb.Link)
	if err != nil {
		t.Fatal(err)
	}
	if l.MAC.String() != mac || res[0].MAC != mac {
		t.Errorf("link MAC %s, result MAC %s; want %s", l.MAC, res[0].MAC, mac)
	}
	if _, err := Configure(testContext(t), []Interface{{Name: tb.Link, SetMAC: "02:00:00:0a:0b"}}, WithResolvConf("")); !errors.Is(err, errBadMAC) {
		t.Errorf("a 5-byte SetMAC = %v, want %v", err, errBadMAC)
	}
}

// TestRenameLink: ifname=<name>:<MAC> renames the link with that MAC, and a second run finds it named.
func TestRenameLink(t *testing.T) {
	tb := newTestbed(t)
	ctx := testContext(t)
	l, err := tb.host.LinkByName(ctx, tb.Link)
	if err != nil {
		t.Fatal(err)
	}
	name := "boot" + tb.Link
	for run := 1; run <= 2; run++ {
		if err := RenameLink(ctx, l.MAC.String(), name); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	t.Cleanup(func() { _ = tb.host.SetName(context.Background(), l.Index, tb.Link) }) // so the testbed's cleanup finds it
	got, err := tb.host.LinkByIndex(ctx, l.Index)
	if err != nil || got.Name != name {
		t.Fatalf("link %d is %q (%v), want %q", l.Index, got.Name, err, name)
	}
	res, err := Configure(ctx, []Interface{{Name: name, MAC: l.MAC.String(), Addresses: mustPrefixes("10.0.5.2/24")}}, WithResolvConf(""))
	if err != nil || res[0].Name != name {
		t.Errorf("configured %q (%v), want %q", res[0].Name, err, name)
	}
	tests := []struct {
		name, mac, to string
		want          error
	}{
		{"no such MAC", "02:00:00:00:00:99", "bootnet", ErrLinkNotFound},
		{"bad name", l.MAC.String(), "a/b", errBadName},
		{"bad MAC", "zz", "bootnet", errBadMAC},
	}
	for _, tt := range tests {
		if err := RenameLink(ctx, tt.mac, tt.to); !errors.Is(err, tt.want) {
			t.Errorf("%s: RenameLink(%s, %q) = %v, want %v", tt.name, tt.mac, tt.to, err, tt.want)
		}
	}
}
