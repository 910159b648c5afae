//go:build !dropin

package netcfg

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/rfc1035label"
)

func TestLeaseFromACK(t *testing.T) {
	base := []dhcpv4.Modifier{
		dhcpv4.WithMessageType(dhcpv4.MessageTypeAck),
		dhcpv4.WithYourIP(net.IPv4(10, 0, 0, 2)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(10, 0, 0, 1))),
	}
	tests := []struct {
		name string
		mods []dhcpv4.Modifier
		want lease4
	}{
		{
			name: "everything",
			mods: []dhcpv4.Modifier{
				dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
				dhcpv4.WithOption(dhcpv4.OptRouter(net.IPv4(10, 0, 0, 1))),
				dhcpv4.WithOption(dhcpv4.OptDNS(net.IPv4(10, 0, 0, 53), net.IPv4(0, 0, 0, 0))),
				dhcpv4.WithOption(dhcpv4.OptDomainName("example.test")),
				dhcpv4.WithOption(dhcpv4.OptDomainSearch(&rfc1035label.Labels{Labels: []string{"lab.test"}})),
				dhcpv4.WithOption(dhcpv4.OptHostName("node1")),
				dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.OptionInterfaceMTU, []byte{0x05, 0x78})),
				dhcpv4.WithOption(dhcpv4.OptRootPath("iscsi:10.0.0.1::3260:1:iqn.2025-01.test:disk1")),
				dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.GenericOptionCode(203), []byte("iqn.2025-01.test:init"))),
				dhcpv4.WithOption(dhcpv4.OptBootFileName("boot.ipxe")),
				dhcpv4.WithLeaseTime(600),
			},
			want: lease4{
				Addr:      netip.MustParsePrefix("10.0.0.2/24"),
				Routers:   []netip.Addr{netip.MustParseAddr("10.0.0.1")},
				DNS:       []netip.Addr{netip.MustParseAddr("10.0.0.53")},
				Domain:    "example.test",
				Search:    []string{"lab.test"},
				Hostname:  "node1",
				MTU:       1400,
				RootPath:  "iscsi:10.0.0.1::3260:1:iqn.2025-01.test:disk1",
				Initiator: "iqn.2025-01.test:init",
				Server:    netip.MustParseAddr("10.0.0.1"),
				BootFile:  "boot.ipxe",
				LeaseTime: 10 * time.Minute,
			},
		},
		{
			name: "no mask: classful guess, initiator in option 43, bad MTU ignored, classless routes",
			mods: []dhcpv4.Modifier{
				dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.OptionVendorSpecificInformation,
					append([]byte{0, 1, 2, 'x', 'y', 203, 15}, "iqn.2025-01.x:y"...))),
				dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.OptionInterfaceMTU, []byte{0, 10})),
				dhcpv4.WithOption(dhcpv4.OptClasslessStaticRoute(
					&dhcpv4.Route{Dest: &net.IPNet{IP: net.IPv4(0, 0, 0, 0).To4(), Mask: net.CIDRMask(0, 32)}, Router: net.IPv4(10, 0, 0, 254)},
					&dhcpv4.Route{Dest: &net.IPNet{IP: net.IPv4(10, 9, 0, 0).To4(), Mask: net.CIDRMask(16, 32)}, Router: net.IPv4(0, 0, 0, 0)},
				)),
			},
			want: lease4{
				Addr: netip.MustParsePrefix("10.0.0.2/8"),
				Routes: []Route{
					{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("10.0.0.254")},
					{Dst: netip.MustParsePrefix("10.9.0.0/16")},
				},
				Initiator: "iqn.2025-01.x:y",
				Server:    netip.MustParseAddr("10.0.0.1"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ack, err := dhcpv4.New(append(base, tt.mods...)...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := leaseFromACK(ack)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
				cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("lease (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLeaseFromACKNoAddress(t *testing.T) {
	ack, err := dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeAck))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaseFromACK(ack); !errors.Is(err, errNoAddress) {
		t.Fatalf("leaseFromACK(no yiaddr) = %v, want %v", err, errNoAddress)
	}
}

func TestVendorSubOption(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want []byte
	}{
		{"found", []byte{1, 1, 'a', 203, 2, 'o', 'k'}, []byte("ok")},
		{"pad first", []byte{0, 0, 203, 1, 'z'}, []byte("z")},
		{"end stops", []byte{255, 203, 1, 'z'}, nil},
		{"truncated", []byte{203, 9, 'z'}, nil},
		{"absent", []byte{1, 0}, nil},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vendorSubOption(tt.in, 203); !bytes.Equal(got, tt.want) {
				t.Errorf("vendorSubOption(% x) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzVendorSubOption: option 43 comes from any DHCP server on the segment.
func FuzzVendorSubOption(f *testing.F) {
	f.Add([]byte{1, 1, 'a', 203, 2, 'o', 'k'})
	f.Add([]byte{0, 203, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		got := vendorSubOption(b, 203)
		if got != nil && !bytes.Contains(b, got) {
			t.Fatalf("sub-option %q is not part of the input % x", got, b)
		}
	})
}

// FuzzLeaseFromACK: a DHCP reply is untrusted; parsing it must never panic.
func FuzzLeaseFromACK(f *testing.F) {
	ack, _ := dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeAck), dhcpv4.WithYourIP(net.IPv4(10, 0, 0, 2)),
		dhcpv4.WithOption(dhcpv4.OptRootPath("iscsi:10.0.0.1::3260:1:iqn.2025-01.test:disk1")))
	f.Add(ack.ToBytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := dhcpv4.FromBytes(b)
		if err != nil {
			return
		}
		l, err := leaseFromACK(m)
		if err != nil {
			return
		}
		if !l.Addr.IsValid() || !l.Addr.Addr().Is4() {
			t.Fatalf("lease address %v is not a valid IPv4 prefix", l.Addr)
		}
		checkLeaseStrings(t, map[string]string{"Initiator": l.Initiator, "Hostname": l.Hostname, "Domain": l.Domain,
			"RootPath": l.RootPath, "BootFile": l.BootFile}, l.Search, l.Dropped)
	})
}

func TestInterfaceCheck(t *testing.T) {
	tests := []struct {
		name string
		ifc  Interface
		want error
	}{
		{"ok by name", Interface{Name: "eth0", Method: MethodDHCP}, nil},
		{"ok by MAC", Interface{MAC: "52:54:00:12:34:56", VLAN: 100, MTU: 9000}, nil},
		{"no selector", Interface{Method: MethodDHCP}, errNoLinkSelector},
		{"bad MAC", Interface{MAC: "52:54:00"}, errBadMAC},
		{"long name", Interface{Name: "abcdefghijklmnop"}, errBadName},
		{"bad method", Interface{Name: "eth0", Method: "bootp"}, errBadMethod},
		{"VLAN 4095", Interface{Name: "eth0", VLAN: 4095}, errBadVLAN},
		{"MTU 20", Interface{Name: "eth0", MTU: 20}, errBadMTU},
		{"unspecified address", Interface{Name: "eth0", Addresses: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}, errBadAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.ifc.check(); !errors.Is(err, tt.want) {
				t.Errorf("check() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVLANName(t *testing.T) {
	tests := []struct {
		parent string
		id     int
		want   string
	}{
		{"eth0", 100, "eth0.100"},
		{"enp0s31f6", 4094, "enp0s31f6.4094"},
		{"enx525400123456", 7, "enx5254001234.7"},
	}
	for _, tt := range tests {
		if got := VLANName(tt.parent, tt.id); got != tt.want {
			t.Errorf("VLANName(%q, %d) = %q, want %q", tt.parent, tt.id, got, tt.want)
		}
	}
}
