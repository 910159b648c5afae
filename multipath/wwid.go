package multipath

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// ParseVPD83 returns the WWID multipath-tools gives a SCSI disk from its
// Device Identification VPD page (SPC-4, Section 7.8.6; page code 0x83),
// the same string udev's scsi_id and multipathd name the disk by: of the
// designators whose association is the logical unit, the best by
// multipath-tools' order (libmultipath/discovery.c, parse_vpd_pg83): NAA
// IEEE Registered Extended (8), IEEE Registered (7), IEEE Extended (6),
// EUI-64 (4), SCSI name string (3), T10 vendor ID (2), NAA locally
// assigned (1); printed as its designator type and the identifier: "3"
// and hex for NAA, "2" and hex for EUI-64, "3"/"2"/"8" and the name for a
// SCSI name string, "1" and the words joined by "_" for a T10 vendor ID.
//
// The page: 4 header bytes (byte 1 the page code, 2-3 the length), then
// designation descriptors of 4 header bytes (byte 1: association in bits
// 5-4, designator type in bits 3-0; byte 3: the designator's length) and
// the designator.
func ParseVPD83(page []byte) (string, error) {
	if len(page) < 4 {
		return "", fmt.Errorf("VPD page 0x83: %d bytes: %w", len(page), errShort)
	}
	if page[1] != 0x83 {
		return "", fmt.Errorf("VPD page code %#02x: %w", page[1], errPageCode)
	}
	end := 4 + (int(page[2])<<8 | int(page[3]))
	if end > len(page) {
		return "", fmt.Errorf("VPD page 0x83: length %d, %d bytes: %w", end, len(page), errDesignator)
	}
	best, prio := []byte(nil), 0
	for d := page[4:end]; len(d) > 0; {
		if len(d) < 4 || 4+int(d[3]) > len(d) {
			return "", fmt.Errorf("VPD page 0x83: designator at %d: %w", end-len(d), errDesignator)
		}
		desc := d[:4+int(d[3])]
		d = d[len(desc):]
		if desc[1]&0x30 != 0 { // association: not the logical unit
			continue
		}
		if p := designatorPrio(desc); p > prio {
			best, prio = desc, p
		}
	}
	if best == nil {
		return "", errNoDesignator
	}
	id := best[4:]
	switch typ := best[1] & 0xf; typ {
	case 0x2, 0x3:
		return fmt.Sprintf("%d%s", typ, hex.EncodeToString(id)), nil
	case 0x8:
		s := cString(id)
		kind := "8"
		switch {
		case strings.HasPrefix(s, "eui."):
			kind = "2"
		case strings.HasPrefix(s, "naa."):
			kind = "3"
		}
		s = s[4:]
		if kind != "8" {
			s = strings.ToLower(s)
		}
		return checkWWID(kind + s)
	default: // 0x1, T10 vendor ID: words joined by one "_"
		return checkWWID("1" + strings.Join(strings.Fields(string(id)), "_"))
	}
}

// designatorPrio is multipath-tools' preference for a designation
// descriptor, 0 for one it does not use or that is malformed.
func designatorPrio(d []byte) int {
	n := int(d[3])
	switch d[1] & 0xf {
	case 0x3: // NAA: the first nibble is the NAA type, which fixes the length
		if n == 0 {
			return 0
		}
		want, p := map[byte][2]int{6: {16, 8}, 5: {8, 7}, 2: {8, 6}, 3: {8, 1}}[d[4]>>4], 0
		if want[0] == n {
			p = want[1]
		}
		return p
	case 0x2: // EUI-64
		if n == 8 || n == 12 || n == 16 {
			return 4
		}
	case 0x8: // SCSI name string
		if n >= 4 {
			switch string(d[4:8]) {
			case "eui.", "naa.", "iqn.":
				return 3
			}
		}
	case 0x1: // T10 vendor ID
		if n >= 8 {
			return 2
		}
	}
	return 0
}

// SysfsWWID turns the kernel's /sys/block/sdX/device/wwid (drivers/scsi/
// scsi_sysfs.c, sdev_show_wwid: "naa.", "eui.", "t10." and the
// identifier) into multipath-tools' form, for a kernel that has no
// vpd_pg83 attribute.
func SysfsWWID(s string) (string, error) {
	s = strings.TrimRight(s, " \n\x00")
	kind, id, ok := strings.Cut(s, ".")
	if !ok || id == "" {
		return "", fmt.Errorf("sysfs wwid %s: %w", esc.Clip(s, 64), errNoDesignator)
	}
	switch kind {
	case "naa":
		return checkWWID("3" + strings.ToLower(id))
	case "eui":
		return checkWWID("2" + strings.ToLower(id))
	case "t10":
		return checkWWID("1" + strings.Join(strings.Fields(id), "_"))
	}
	return "", fmt.Errorf("sysfs wwid %s: %w", esc.Clip(s, 64), errNoDesignator)
}

// maxWWID is multipath-tools' WWID_SIZE less its NUL.
const maxWWID = 127

// checkWWID holds a WWID from a target to what a map name and a bindings
// line can carry: printable, no space or slash, at most 127 bytes.
func checkWWID(s string) (string, error) {
	if len(s) < 2 || len(s) > maxWWID || !esc.Printable(s) || strings.ContainsAny(s, " /") {
		return "", fmt.Errorf("WWID %s: %w", esc.Clip(s, 64), errNoDesignator)
	}
	return s, nil
}

// Disk is one SCSI block device, as sysfs shows it.
type Disk struct {
	Name    string // "sda"
	Dev     string // "8:0"
	Sectors uint64 // size in 512-byte sectors
	WWID    string
}

// ReadDisk reads block device name's WWID, number and size from the sysfs
// tree at sys ("/sys"): vpd_pg83 first, as multipathd reads it without
// udev, else the kernel's wwid.
func ReadDisk(sys, name string) (Disk, error) {
	dir := filepath.Join(sys, "block", name)
	d := Disk{Name: name}
	b, err := os.ReadFile(filepath.Join(dir, "dev"))
	if err != nil {
		return d, err
	}
	d.Dev = strings.TrimSpace(string(b))
	if _, _, ok := parseDevNum(d.Dev); !ok {
		return d, fmt.Errorf("%s: dev %s: %w", name, esc.Clip(d.Dev, 32), errTable)
	}
	if b, err = os.ReadFile(filepath.Join(dir, "size")); err != nil {
		return d, err
	}
	if _, err := fmt.Sscan(string(b), &d.Sectors); err != nil {
		return d, fmt.Errorf("%s: size: %w", name, err)
	}
	var vpdErr error
	if b, err := os.ReadFile(filepath.Join(dir, "device", "vpd_pg83")); err == nil {
		if d.WWID, vpdErr = ParseVPD83(b); vpdErr == nil {
			return d, nil
		}
	}
	b, err = os.ReadFile(filepath.Join(dir, "device", "wwid"))
	if err != nil {
		if vpdErr != nil {
			return d, fmt.Errorf("%s: %w", name, vpdErr)
		}
		return d, fmt.Errorf("%s: no vpd_pg83 or wwid: %w", name, err)
	}
	if d.WWID, err = SysfsWWID(string(b)); err != nil {
		return d, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

// Multi is one disk with every path to it.
type Multi struct {
	WWID    string
	Sectors uint64
	Paths   []Disk // in the order given to GroupDisks
}

// GroupDisks groups disks by WWID, keeping the order of each WWID's first
// disk and, within a WWID, the disks' order. A name given twice counts
// once. Paths of one WWID with different sizes (a resize seen by one path
// only) are an error for that WWID, which is then left out.
func GroupDisks(disks []Disk) ([]Multi, error) {
	var out []Multi
	idx := map[string]int{}
	seen := map[string]bool{}
	var errs []string
	for _, d := range disks {
		if seen[d.Name] {
			continue
		}
		seen[d.Name] = true
		i, ok := idx[d.WWID]
		if !ok {
			idx[d.WWID] = len(out)
			out = append(out, Multi{WWID: d.WWID, Sectors: d.Sectors, Paths: []Disk{d}})
			continue
		}
		if out[i].Sectors != d.Sectors {
			errs = append(errs, fmt.Sprintf("%s has %d sectors, %s %d", out[i].Paths[0].Name, out[i].Sectors, d.Name, d.Sectors))
			out[i].Sectors = 0
		}
		out[i].Paths = append(out[i].Paths, d)
	}
	kept := out[:0]
	for _, m := range out {
		if m.Sectors != 0 || len(m.Paths) == 1 {
			kept = append(kept, m)
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return kept, fmt.Errorf("%s: %w", strings.Join(errs, "; "), errOneDisk)
	}
	return kept, nil
}
