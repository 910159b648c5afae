package ibft

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fakeNet makes <root>/sys/class/net with the given interfaces: name ->
// MAC, and name -> PCI device name for those with a device link.
func fakeNet(t *testing.T, macs, devs map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, mac := range macs {
		writeFile(t, filepath.Join(root, "sys/class/net", name, "address"), []byte(mac+"\n"))
	}
	for name, dev := range devs {
		if err := os.Symlink("../../../devices/pci0000:00/"+dev, filepath.Join(root, "sys/class/net", name, "device")); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestSysResolver(t *testing.T) {
	macs := map[string]string{
		"lo":       "00:00:00:00:00:00",
		"eth0":     "52:54:00:12:34:56",
		"eth0.100": "52:54:00:12:34:56",
		"eth1":     "52:54:00:aa:bb:cc",
		"eth2":     "52:54:00:00:00:99",
		"bond0":    "52:54:00:00:00:99",
		"eth3":     "52:54:00:00:00:33",
	}
	devs := map[string]string{
		"eth0": "0000:00:03.0",
		"eth1": "0000:00:04.0",
		"eth2": "0000:00:05.0",
		"eth3": "0000:3b:00.1",
	}
	root := fakeNet(t, macs, devs)
	tests := []struct {
		name string
		nic  NIC
		want string
		err  error
	}{
		{"unique mac", NIC{MAC: mustMAC("52:54:00:AA:BB:CC")}, "eth1", nil},
		{"mac shared with a vlan, pci decides", NIC{MAC: mustMAC("52:54:00:12:34:56"), PCIBDF: NewBDF(0, 3, 0)}, "eth0", nil},
		{"mac shared with a bond, pci names neither", NIC{MAC: mustMAC("52:54:00:00:00:99"), PCIBDF: NewBDF(0, 9, 0)}, "", errAmbiguous},
		{"offload mac, pci function matches", NIC{MAC: mustMAC("00:0e:1e:00:00:01"), PCIBDF: NewBDF(0x3b, 0, 1)}, "eth3", nil},
		{"nothing matches", NIC{MAC: mustMAC("00:0e:1e:00:00:02"), PCIBDF: NewBDF(0x3c, 0, 0)}, "", errNoInterface},
	}
	res := SysResolver(root)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := res(tt.nic.MAC, tt.nic.PCIBDF)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Errorf("resolve = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
	if _, err := SysResolver(t.TempDir())(nil, 0); err == nil {
		t.Error("no /sys/class/net: want an error")
	}
}

func TestBDF(t *testing.T) {
	tests := []struct {
		b    BDF
		name string
		want string
	}{
		{0x0018, "0000:00:03.0", "00:03.0"},
		{NewBDF(0x3b, 0x1f, 7), "0000:3b:1f.7", "3b:1f.7"},
	}
	for _, tt := range tests {
		if got := tt.b.String(); got != tt.want {
			t.Errorf("%#04x.String() = %q, want %q", uint16(tt.b), got, tt.want)
		}
		if got, ok := parsePCIName(tt.name); !ok || got != tt.b {
			t.Errorf("parsePCIName(%q) = %v, %v; want %v", tt.name, got, ok, tt.b)
		}
	}
	for _, bad := range []string{"0001:00:03.0", "00:03.0", "virtio0", "0000:00:20.0"} {
		if _, ok := parsePCIName(bad); ok {
			t.Errorf("parsePCIName(%q) accepted", bad)
		}
	}
}
