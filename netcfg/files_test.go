package netcfg

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iscsiboot/iscsiboot/internal/esc"
)

func TestWriteHandoff(t *testing.T) {
	tests := []struct {
		name  string
		r     Result
		files map[string]string // path under root -> exact content; "" means must not exist
	}{
		{
			name: "dhcp",
			r: Result{
				Name:          "eth0",
				Method:        MethodDHCP,
				Addresses:     []netip.Prefix{netip.MustParsePrefix("10.0.0.2/24")},
				Gateway:       netip.MustParseAddr("10.0.0.1"),
				DNS:           []netip.Addr{netip.MustParseAddr("10.0.0.53"), netip.MustParseAddr("10.0.0.54"), netip.MustParseAddr("10.0.0.55")},
				Domain:        "example.test",
				Search:        []string{"example.test", "lab.test"},
				Hostname:      "node1",
				RootPath:      "iscsi:10.0.0.1::3260:1:iqn.2025-01.test:disk1",
				ServerAddr:    netip.MustParseAddr("10.0.0.1"),
				BootFile:      "pxelinux.0",
				LeaseTime:     time.Hour,
				Uptime:        3*time.Second + 400*time.Millisecond,
				InitiatorName: "iqn.2025-01.test:init",
			},
			files: map[string]string{
				"run/net-eth0.conf": `DEVICE='eth0'
PROTO='dhcp'
IPV4ADDR='10.0.0.2'
IPV4BROADCAST='10.0.0.255'
IPV4NETMASK='255.255.255.0'
IPV4GATEWAY='10.0.0.1'
IPV4DNS0='10.0.0.53'
IPV4DNS1='10.0.0.54'
HOSTNAME='node1'
DNSDOMAIN='example.test'
NISDOMAIN=''
ROOTSERVER='10.0.0.1'
ROOTPATH='iscsi:10.0.0.1::3260:1:iqn.2025-01.test:disk1'
filename='pxelinux.0'
UPTIME='3'
DHCPLEASETIME='3600'
DOMAINSEARCH='example.test lab.test'
`,
				"run/net6-eth0.conf":                 "",
				"run/initramfs/open-iscsi.interface": "eth0\n",
			},
		},
		{
			name: "static with quotes, VLAN, dual stack",
			r: Result{
				Name:      "eth0.100",
				Method:    MethodStatic,
				Addresses: []netip.Prefix{netip.MustParsePrefix("192.168.7.9/20"), netip.MustParsePrefix("fe80::1/64"), netip.MustParsePrefix("2001:db8::9/64")},
				DNS:       []netip.Addr{netip.MustParseAddr("2001:db8::53"), netip.MustParseAddr("192.168.0.53")},
				Hostname:  "it's!",
			},
			files: map[string]string{
				"run/net-eth0.100.conf": `DEVICE='eth0.100'
PROTO='none'
IPV4ADDR='192.168.7.9'
IPV4BROADCAST='192.168.15.255'
IPV4NETMASK='255.255.240.0'
IPV4GATEWAY='0.0.0.0'
IPV4DNS0='192.168.0.53'
IPV4DNS1='0.0.0.0'
HOSTNAME='it'\''s'\!''
DNSDOMAIN=''
NISDOMAIN=''
ROOTSERVER='0.0.0.0'
ROOTPATH=''
filename=''
UPTIME='0'
DHCPLEASETIME='0'
DOMAINSEARCH=''
`,
				"run/net6-eth0.100.conf": `DEVICE6='eth0.100'
IPV6PROTO='none'
IPV6ADDR='2001:db8::9'
IPV6NETMASK='64'
IPV6DNS0='2001:db8::53'
DOMAINSEARCH=''
`,
				"run/initramfs/open-iscsi.interface": "eth0.100\n",
			},
		},
		{
			name: "dhcp6 only",
			r: Result{
				Name:      "ens3",
				Method:    MethodDHCP6,
				Addresses: []netip.Prefix{netip.MustParsePrefix("2001:db8::1234/128")},
				Gateway:   netip.MustParseAddr("fe80::1"),
				DNS:       []netip.Addr{netip.MustParseAddr("2001:db8::53")},
				Search:    []string{"lab.test"},
			},
			files: map[string]string{
				"run/net-ens3.conf": "",
				"run/net6-ens3.conf": `DEVICE6='ens3'
IPV6PROTO='dhcp6'
IPV6ADDR='2001:db8::1234'
IPV6NETMASK='128'
IPV6GATEWAY='fe80::1'
IPV6DNS0='2001:db8::53'
DOMAINSEARCH='lab.test'
`,
				"run/initramfs/open-iscsi.interface": "ens3\n",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if err := WriteHandoff(root, tt.r); err != nil {
				t.Fatal(err)
			}
			for p, want := range tt.files {
				got, err := os.ReadFile(filepath.Join(root, p))
				if want == "" {
					if !os.IsNotExist(err) {
						t.Errorf("%s exists (err %v), want none", p, err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, string(got)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", p, diff)
				}
			}
		})
	}
}

func TestWriteNetConfBadName(t *testing.T) {
	for _, name := range []string{"", "..", "a/b"} {
		err := WriteNetConf(t.TempDir(), Result{Name: name, Addresses: []netip.Prefix{netip.MustParsePrefix("10.0.0.2/24")}})
		if err == nil {
			t.Errorf("WriteNetConf(name %q) = nil, want an error", name)
		}
	}
}

// TestWriteHandoffControlByte: the hand-off files are sourced by sh and read line by line, so a value with a
// control byte is refused, whoever let it through, and no file is written.
func TestWriteHandoffControlByte(t *testing.T) {
	base := Result{Name: "eth0", Method: MethodDHCP, Addresses: []netip.Prefix{netip.MustParsePrefix("10.0.0.2/24"), netip.MustParsePrefix("2001:db8::2/64")}}
	for _, tc := range []struct {
		key string
		set func(r *Result, v string)
	}{
		{"HOSTNAME", func(r *Result, v string) { r.Hostname = v }},
		{"DNSDOMAIN", func(r *Result, v string) { r.Domain = v }},
		{"ROOTPATH", func(r *Result, v string) { r.RootPath = v }},
		{"filename", func(r *Result, v string) { r.BootFile = v }},
		{"DOMAINSEARCH", func(r *Result, v string) { r.Search = []string{"lab.test", v} }},
		{"DEVICE", func(r *Result, v string) { r.Name = "eth\x1b" }},
	} {
		for _, v := range []string{"x\nIPV4GATEWAY=192.0.2.66", "x\x00y", "x\x1b[2J", "x\xff"} {
			root := t.TempDir()
			r := base
			tc.set(&r, v)
			err := WriteHandoff(root, r)
			if !errors.Is(err, errNotPrintable) || !strings.Contains(err.Error(), tc.key+" ") || !esc.Printable(err.Error()) {
				t.Errorf("%s %q: error %v, want one printable line naming %s and %v", tc.key, v, err, tc.key, errNotPrintable)
			}
			if ents, _ := os.ReadDir(root); len(ents) != 0 {
				t.Errorf("%s %q: wrote %v", tc.key, v, ents)
			}
		}
	}
}

func TestWriteResolvConfControlByte(t *testing.T) {
	p := filepath.Join(t.TempDir(), "resolv.conf")
	err := WriteResolvConf(p, []netip.Addr{netip.MustParseAddr("10.0.0.53")}, []string{"lab.test", "x\nnameserver 192.0.2.66"})
	if !errors.Is(err, errNotPrintable) || !strings.Contains(err.Error(), `"x\nnameserver 192.0.2.66"`) {
		t.Errorf("error %v, want %v naming the escaped value", err, errNotPrintable)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("resolv.conf written: %v", err)
	}
}

func TestWriteResolvConf(t *testing.T) {
	p := filepath.Join(t.TempDir(), "etc", "resolv.conf")
	dns := []netip.Addr{netip.MustParseAddr("10.0.0.53"), netip.MustParseAddr("2001:db8::53"), netip.MustParseAddr("10.0.0.53")}
	if err := WriteResolvConf(p, dns, []string{"example.test", "lab.test", "example.test"}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `# written by iscsiboot
search example.test lab.test
nameserver 10.0.0.53
nameserver 2001:db8::53
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("resolv.conf (-want +got):\n%s", diff)
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only resolv.conf (no temporary file left)", len(ents))
	}
}

func TestNetmaskBroadcast(t *testing.T) {
	tests := []struct {
		prefix, mask, bcast string
	}{
		{"10.1.2.3/8", "255.0.0.0", "10.255.255.255"},
		{"192.168.1.7/24", "255.255.255.0", "192.168.1.255"},
		{"192.168.1.7/32", "255.255.255.255", "192.168.1.7"},
		{"192.168.1.7/0", "0.0.0.0", "255.255.255.255"},
		{"172.16.5.4/12", "255.240.0.0", "172.31.255.255"},
	}
	for _, tt := range tests {
		p := netip.MustParsePrefix(tt.prefix)
		if got := netmask(p.Bits()).String(); got != tt.mask {
			t.Errorf("netmask(%d) = %s, want %s", p.Bits(), got, tt.mask)
		}
		if got := broadcast(p).String(); got != tt.bcast {
			t.Errorf("broadcast(%s) = %s, want %s", p, got, tt.bcast)
		}
	}
}
