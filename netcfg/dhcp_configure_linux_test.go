//go:build !dropin

package netcfg

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/google/go-cmp/cmp"
)

func TestConfigureDHCPv4(t *testing.T) {
	tests := []struct {
		name  string
		delay time.Duration // before the server starts
	}{
		{"server up", 0},
		{"server starts after 2s", 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestbed(t, netip.MustParsePrefix("10.0.0.1/24"))
			startDHCP4(t, tb, tt.delay)
			resolv := filepath.Join(t.TempDir(), "resolv.conf")
			res, err := Configure(testContext(t), []Interface{{Name: tb.Link, Method: MethodDHCP}},
				WithResolvConf(resolv), WithDHCPTimeout(10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			want := Result{
				Name:          tb.Link,
				Method:        MethodDHCP,
				Addresses:     mustPrefixes("10.0.0.2/24"),
				Gateway:       netip.MustParseAddr("10.0.0.1"),
				DNS:           []netip.Addr{netip.MustParseAddr("10.0.0.53")},
				Domain:        "example.test",
				Hostname:      "node1",
				MTU:           1400,
				RootPath:      testRootPath,
				InitiatorName: testInitiator,
				ServerAddr:    netip.MustParseAddr("10.0.0.1"),
				LeaseTime:     time.Hour,
			}
			if diff := cmp.Diff([]Result{want}, res, ignoreVarying, cmpAddr, cmpPrefix); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if res[0].Took < tt.delay {
				t.Errorf("took %s, less than the server's delay %s", res[0].Took, tt.delay)
			}
			if diff := cmp.Diff(want.Addresses, hostAddrs(t, tb.host, tb.Link), cmpPrefix); diff != "" {
				t.Errorf("addresses read back (-want +got):\n%s", diff)
			}
			rs := hostRoutes(t, tb.host, tb.Link)
			if len(rs) != 1 || rs[0].Dst.Bits() != 0 || rs[0].Gateway != want.Gateway {
				t.Errorf("routes read back = %+v, want one default via %s", rs, want.Gateway)
			}
			got, err := os.ReadFile(resolv)
			if err != nil {
				t.Fatal(err)
			}
			if want := "# written by iscsiboot\nsearch example.test\nnameserver 10.0.0.53\n"; string(got) != want {
				t.Errorf("resolv.conf = %q, want %q", got, want)
			}
		})
	}
}

func TestConfigureDHCPv4NoServer(t *testing.T) {
	tb := newTestbed(t, netip.MustParsePrefix("10.0.0.1/24"))
	start := time.Now()
	_, err := Configure(testContext(t), []Interface{{Name: tb.Link, Method: MethodDHCP}},
		WithResolvConf(""), WithDHCPTimeout(2500*time.Millisecond), WithDHCPFirstWait(500*time.Millisecond))
	took := time.Since(start)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Configure without a server = %v, want %v", err, ErrTimeout)
	}
	// Waits of 0.5, 1, 1 (cut by the deadline at 2.5 s): three DISCOVERs.
	// The time in the message is measured: on a loaded host it reads 2.6s.
	if want := regexp.MustCompile(`^` + tb.Link + `: DHCPv4: no offer within 2\.[5-9]s \(3 DISCOVERs sent\)$`); !want.MatchString(err.Error()) {
		t.Errorf("error = %q, want one matching %s", err, want)
	}
	if took > 4*time.Second {
		t.Errorf("gave up after %s, want about 2.5s", took)
	}
}

func TestConfigureDHCPv6(t *testing.T) {
	tb := newTestbed(t)
	startDHCP6(t, tb)
	res, err := Configure(testContext(t), []Interface{{Name: tb.Link, Method: MethodDHCP6}},
		WithResolvConf(""), WithDHCPTimeout(15*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := Result{
		Name:      tb.Link,
		Method:    MethodDHCP6,
		Addresses: mustPrefixes("2001:db8::100/128"),
		DNS:       []netip.Addr{netip.MustParseAddr("2001:db8::53")},
		Search:    []string{"lab.test"},
		LeaseTime: 2 * time.Hour,
		RootPath:  testRootPath6,
		BootFile:  testRootPath6,
	}
	if diff := cmp.Diff([]Result{want}, res, ignoreVarying, cmpAddr, cmpPrefix); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.Addresses, hostAddrs(t, tb.host, tb.Link), cmpPrefix); diff != "" {
		t.Errorf("addresses read back (-want +got):\n%s", diff)
	}
}

func TestConfigureParallel(t *testing.T) {
	a := newTestbed(t, netip.MustParsePrefix("10.0.0.1/24"))
	startDHCP4(t, a, 0)
	b := newTestbed(t)
	res, err := Configure(testContext(t), []Interface{
		{Name: a.Link, Method: MethodDHCP},
		{Name: b.Link, Addresses: mustPrefixes("10.0.3.2/24")},
		{Name: "nosuch1"},
	}, WithResolvConf(""))
	if !errors.Is(err, ErrLinkNotFound) || strings.Contains(err.Error(), a.Link) || strings.Contains(err.Error(), b.Link) {
		t.Fatalf("Configure = %v, want only nosuch1 to fail", err)
	}
	if len(res) != 3 || res[0].RootPath != testRootPath || res[1].Addresses[0] != netip.MustParsePrefix("10.0.3.2/24") {
		t.Errorf("results = %+v, want the DHCP lease first and the static address second", res)
	}
}

// TestConfigureDHCPv4NoDefaultRoute: an interface that is not the boot device (bootdev=) takes its address from
// DHCP but not the default route.
func TestConfigureDHCPv4NoDefaultRoute(t *testing.T) {
	tb := newTestbed(t, netip.MustParsePrefix("10.0.0.1/24"))
	startDHCP4(t, tb, 0)
	res, err := Configure(testContext(t), []Interface{{Name: tb.Link, Method: MethodDHCP, NoDefaultRoute: true}},
		WithResolvConf(""), WithDHCPTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(mustPrefixes("10.0.0.2/24"), hostAddrs(t, tb.host, tb.Link), cmpPrefix); diff != "" {
		t.Errorf("addresses read back (-want +got):\n%s", diff)
	}
	if rs := hostRoutes(t, tb.host, tb.Link); len(rs) != 0 || res[0].Gateway.IsValid() {
		t.Errorf("routes %+v, gateway %v; want no default route", rs, res[0].Gateway)
	}
}

// TestConfigureOnUp: WithOnUp hears of an interface as soon as it is configured, while another still waits for
// its DHCP server.
func TestConfigureOnUp(t *testing.T) {
	slow := newTestbed(t, netip.MustParsePrefix("10.0.0.1/24"))
	startDHCP4(t, slow, 2*time.Second)
	fast := newTestbed(t)
	begin := time.Now()
	var mu sync.Mutex
	upAt := map[string]time.Duration{}
	res, err := Configure(testContext(t), []Interface{
		{Name: slow.Link, Method: MethodDHCP},
		{Name: fast.Link, Addresses: mustPrefixes("10.0.6.2/24")},
	}, WithResolvConf(""), WithDHCPTimeout(10*time.Second), WithOnUp(func(r Result) {
		mu.Lock()
		defer mu.Unlock()
		upAt[r.Name] = time.Since(begin)
	}))
	if err != nil {
		t.Fatal(err)
	}
	done := time.Since(begin)
	if len(upAt) != 2 || upAt[fast.Link] > time.Second || upAt[slow.Link] < 2*time.Second || done < upAt[slow.Link] {
		t.Errorf("up at %v, done at %v; want %s within 1s, %s after the server's 2s", upAt, done, fast.Link, slow.Link)
	}
	if res[0].Name != slow.Link || res[1].Name != fast.Link {
		t.Errorf("results %+v, want in the order asked", res)
	}
}

// TestConfigureDHCPv4Hostile: a DHCP server sends an initiator name with a line break or a NUL (a forged
// login key) and a host name and domain with control bytes. None of it reaches the Result, resolv.conf or the
// hand-off files; each value is named, escaped, in one warning line; the lease itself still configures the
// link.
func TestConfigureDHCPv4Hostile(t *testing.T) {
	opt := func(code uint8, v string) dhcpv4.Modifier {
		return dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.GenericOptionCode(code), []byte(v)))
	}
	tests := []struct {
		name string
		opts map[uint8]string // option code -> value
	}{
		{"newlines", map[uint8]string{
			optionISCSIInitiator: "iqn.2025-01.test:a\nInitiatorName=iqn.2025-01.evil:x",
			12:                   "node1\nIPV4GATEWAY=192.0.2.66",
			15:                   "example.test\nnameserver 192.0.2.66",
		}},
		{"NUL and escapes", map[uint8]string{
			optionISCSIInitiator: "iqn.2025-01.test:a\x00TargetName=iqn.2025-01.evil:x",
			12:                   "node1\x1b[2J",
			15:                   "example\x00test",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestbed(t, netip.MustParsePrefix("10.0.0.1/24"))
			var mods []dhcpv4.Modifier
			for code, v := range tt.opts {
				mods = append(mods, opt(code, v))
			}
			startDHCP4(t, tb, 0, mods...)
			var mu sync.Mutex
			var log []string
			logf := func(f string, a ...any) {
				mu.Lock()
				defer mu.Unlock()
				log = append(log, fmt.Sprintf(f, a...))
			}
			resolv := filepath.Join(t.TempDir(), "resolv.conf")
			res, err := Configure(testContext(t), []Interface{{Name: tb.Link, Method: MethodDHCP}},
				WithResolvConf(resolv), WithDHCPTimeout(10*time.Second), WithLogf(logf))
			if err != nil {
				t.Fatal(err)
			}
			want := Result{
				Name:       tb.Link,
				Method:     MethodDHCP,
				Addresses:  mustPrefixes("10.0.0.2/24"),
				Gateway:    netip.MustParseAddr("10.0.0.1"),
				DNS:        []netip.Addr{netip.MustParseAddr("10.0.0.53")},
				MTU:        1400,
				RootPath:   testRootPath,
				ServerAddr: netip.MustParseAddr("10.0.0.1"),
				LeaseTime:  time.Hour,
			}
			if diff := cmp.Diff([]Result{want}, res, ignoreVarying, cmpAddr, cmpPrefix); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			for code, v := range tt.opts {
				found := false
				for _, l := range log {
					if strings.HasPrefix(l, fmt.Sprintf("%s: warning: DHCPv4 option %d (", tb.Link, code)) && strings.Contains(l, strconv.Quote(v)) {
						found = true
					}
				}
				if !found {
					t.Errorf("no warning for option %d %q in %q", code, v, log)
				}
			}
			root := t.TempDir()
			if err := WriteHandoff(root, res[0]); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(resolv)
			if err != nil {
				t.Fatal(err)
			}
			if want := "# written by iscsiboot\nnameserver 10.0.0.53\n"; string(got) != want {
				t.Errorf("resolv.conf = %q, want %q", got, want)
			}
			got, err = os.ReadFile(filepath.Join(root, "run", "net-"+tb.Link+".conf"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), "\nHOSTNAME=''\nDNSDOMAIN=''\n") || strings.Count(string(got), "\n") != 17 ||
				strings.ContainsAny(string(got), "\x00\x1b") {
				t.Errorf("net conf holds DHCP strings:\n%s", got)
			}
		})
	}
}
