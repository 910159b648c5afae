package multipath

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vpd83 builds a VPD page 0x83 of descriptors, each (association<<4 |
// type, identifier).
func vpd83(ds ...[]byte) []byte {
	var body []byte
	for _, d := range ds {
		body = append(body, append([]byte{0x01, d[0], 0, byte(len(d) - 1)}, d[1:]...)...)
	}
	return append([]byte{0, 0x83, byte(len(body) >> 8), byte(len(body))}, body...)
}

var (
	naa6 = append([]byte{0x03, 0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, 0x0e, 0, 0, 0, 0, 0x01, 0x00, 0x01)
	t10  = append([]byte{0x01}, "IET     VIRTUAL-DISK    beaf11  "...)
)

func TestParseVPD83(t *testing.T) {
	for _, c := range []struct {
		name string
		page []byte
		want string
	}{
		// what tgt sends: a T10 vendor ID and an NAA IEEE Registered
		// Extended name; multipath-tools takes the NAA one
		{"tgt", vpd83(t10, naa6), "360000000000000000e00000000010001"},
		{"T10 vendor ID alone", vpd83(t10), "1IET_VIRTUAL-DISK_beaf11"},
		{"EUI-64", vpd83([]byte{0x02, 1, 2, 3, 4, 5, 6, 7, 8}), "20102030405060708"},
		{"SCSI name string, naa.", vpd83(append([]byte{0x08}, "naa.600A0B80\x00\x00\x00\x00"...)), "3600a0b80"},
		{"SCSI name string, iqn.", vpd83(append([]byte{0x08}, "iqn.2025-01.test:Disk"...)), "82025-01.test:Disk"},
		// the NAA of the target port (association 1) is not the disk's
		{"target port association skipped", vpd83([]byte{0x13, 0x50, 1, 2, 3, 4, 5, 6, 7}, t10), "1IET_VIRTUAL-DISK_beaf11"},
		// NAA locally assigned ranks below a T10 vendor ID
		{"NAA 3 below T10", vpd83([]byte{0x03, 0x30, 1, 2, 3, 4, 5, 6, 7}, t10), "1IET_VIRTUAL-DISK_beaf11"},
	} {
		got, err := ParseVPD83(c.page)
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	for _, c := range []struct {
		name string
		page []byte
		want error
	}{
		{"empty", nil, errShort},
		{"page 0x80", []byte{0, 0x80, 0, 0}, errPageCode},
		{"length past the end", []byte{0, 0x83, 0, 9, 1, 3, 0, 8}, errDesignator},
		{"designator past the page", []byte{0, 0x83, 0, 6, 1, 3, 0, 8, 0x60, 0}, errDesignator},
		{"NAA 6 of 8 bytes", vpd83([]byte{0x03, 0x60, 1, 2, 3, 4, 5, 6, 7}), errNoDesignator},
		{"nothing usable", vpd83([]byte{0x00, 'x'}), errNoDesignator},
		{"T10 ID with a control byte", vpd83(append([]byte{0x01}, "IET\x1b[2J  DISK"...)), errNoDesignator},
	} {
		if _, err := ParseVPD83(c.page); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestSysfsWWID(t *testing.T) {
	for in, want := range map[string]string{
		"naa.60000000000000000E00000000010001\n": "360000000000000000e00000000010001",
		"eui.0102030405060708":                   "20102030405060708",
		"t10.IET     VIRTUAL-DISK    beaf11\n":   "1IET_VIRTUAL-DISK_beaf11",
	} {
		if got, err := SysfsWWID(in); err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "naa.", "xyz.123", "naa.12 34", "naa.1/2"} {
		if _, err := SysfsWWID(bad); !errors.Is(err, errNoDesignator) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// sysTree writes a sysfs block tree: name -> dev, size, vpd_pg83 (or nil),
// wwid (or "").
func sysTree(t *testing.T, disks map[string][4]string) string {
	t.Helper()
	root := t.TempDir()
	for name, d := range disks {
		dir := filepath.Join(root, "block", name)
		os.MkdirAll(filepath.Join(dir, "device"), 0o755)
		os.WriteFile(filepath.Join(dir, "dev"), []byte(d[0]+"\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "size"), []byte(d[1]+"\n"), 0o644)
		if d[2] != "" {
			os.WriteFile(filepath.Join(dir, "device", "vpd_pg83"), []byte(d[2]), 0o644)
		}
		if d[3] != "" {
			os.WriteFile(filepath.Join(dir, "device", "wwid"), []byte(d[3]), 0o644)
		}
	}
	return root
}

// TestGroupFromSysfs: two portals of one target give sda and sdc with one
// WWID (one from vpd_pg83, one from the kernel's wwid only), sdb is
// another disk, sdd claims sda's WWID with another size.
func TestGroupFromSysfs(t *testing.T) {
	root := sysTree(t, map[string][4]string{
		"sda": {"8:0", "131072", string(vpd83(t10, naa6)), ""},
		"sdb": {"8:16", "2048", string(vpd83(t10)), ""},
		"sdc": {"8:32", "131072", "", "naa.60000000000000000e00000000010001"},
		"sdd": {"8:48", "4096", string(vpd83(naa6)), ""},
		"sde": {"8:64", "131072", "", ""},
	})
	var disks []Disk
	for _, n := range []string{"sda", "sdb", "sdc", "sdc"} {
		d, err := ReadDisk(root, n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		disks = append(disks, d)
	}
	g, err := GroupDisks(disks)
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 2 || g[0].WWID != "360000000000000000e00000000010001" || len(g[0].Paths) != 2 ||
		g[0].Paths[0].Dev != "8:0" || g[0].Paths[1].Name != "sdc" || g[0].Sectors != 131072 ||
		g[1].WWID != "1IET_VIRTUAL-DISK_beaf11" || len(g[1].Paths) != 1 {
		t.Errorf("groups %+v", g)
	}
	d, _ := ReadDisk(root, "sdd")
	g, err = GroupDisks(append(disks, d))
	if !errors.Is(err, errOneDisk) || !strings.Contains(err.Error(), "sda has 131072 sectors, sdd 4096") {
		t.Errorf("sizes differ: %v", err)
	}
	if len(g) != 1 || g[0].Paths[0].Name != "sdb" {
		t.Errorf("groups left %+v", g)
	}
	if _, err := ReadDisk(root, "sde"); err == nil || !strings.Contains(err.Error(), "sde: no vpd_pg83 or wwid") {
		t.Errorf("no WWID: %v", err)
	}
	if _, err := ReadDisk(root, "sdz"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing disk: %v", err)
	}
}
