package ibft

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/iscsiboot/iscsiboot/core"
)

// Attribute files of the kernel's iSCSI boot sysfs view, as
// drivers/scsi/iscsi_boot_sysfs.c names them; iscsi_ibft and offload drivers
// (be2iscsi, qla4xxx, bnx2i) publish the same names.
const (
	sysfsIBFT      = "/sys/firmware/ibft"
	sysfsBootGlob  = "/sys/firmware/iscsi_boot*"
	sysfsScsiHost  = "/sys/class/scsi_host"
	sysfsInitiator = "initiator"
	sysfsEthernet  = "ethernet"
	sysfsTarget    = "target"
	sysfsACPI      = "acpi_header"
)

func (l *loader) sysfs(context.Context) (*Table, []Attempt) {
	src := Source{Kind: SourceSysfs, Path: sysfsIBFT}
	t, err := readSysfs(l.path(sysfsIBFT), sysfsIBFT)
	if err != nil {
		return nil, []Attempt{{Source: src, Err: err}}
	}
	t.Source = src
	return t, nil
}

// offload reads the first /sys/firmware/iscsi_boot<N> (in name order) that
// holds a target; each such directory is one HBA's own table.
func (l *loader) offload(context.Context) (*Table, []Attempt) {
	dirs, err := filepath.Glob(l.path(sysfsBootGlob))
	if err != nil || len(dirs) == 0 {
		return nil, []Attempt{{Source: Source{Kind: SourceOffload, Path: sysfsBootGlob}, Err: errAbsent}}
	}
	slices.Sort(dirs)
	var tried []Attempt
	for _, d := range dirs {
		name := filepath.Base(d)
		src := Source{Kind: SourceOffload, Path: "/sys/firmware/" + name}
		t, err := readSysfs(d, src.Path)
		if err != nil {
			tried = append(tried, Attempt{Source: src, Err: err})
			continue
		}
		t.Source = src
		t.Transport = l.hostTransport(strings.TrimPrefix(name, "iscsi_boot"))
		return t, tried
	}
	return nil, tried
}

// hostTransport names the iSCSI transport of SCSI host n the way open-iscsi
// does for offload boot: the host's driver (proc_name), e.g. "qla4xxx",
// "be2iscsi", "bnx2i". An unreadable host leaves it empty ("tcp").
func (l *loader) hostTransport(n string) string {
	b, err := readLimited(l.path(filepath.Join(sysfsScsiHost, "host"+n, "proc_name")), maxAttrLen)
	if err != nil {
		return ""
	}
	s := strings.TrimSpace(string(b))
	if s == "iscsi_tcp" {
		return ""
	}
	return s
}

// readSysfs builds a Table from one iSCSI boot sysfs directory. The LUN there
// is printed lossily by the kernel; it is decoded only when exactly one LUN
// prints that way, otherwise the read fails naming the value.
func readSysfs(dir, label string) (*Table, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, notFound(err)
	}
	var t Table
	var nics, tgts []string
	for _, e := range ents {
		switch n := e.Name(); {
		case n == sysfsInitiator:
			a := &attrs{dir: filepath.Join(dir, n), label: label + "/" + n}
			t.Initiator = a.initiator()
			if a.err != nil {
				return nil, a.err
			}
		case n == sysfsACPI:
			a := &attrs{dir: filepath.Join(dir, n), label: label + "/" + n}
			t.Header = Header{Signature: a.text("signature", textString), OEMID: a.text("oem_id", textString), OEMTableID: a.text("oem_table_id", textString)}
			if a.err != nil {
				return nil, a.err
			}
		case strings.HasPrefix(n, sysfsEthernet):
			nics = append(nics, n)
		case strings.HasPrefix(n, sysfsTarget):
			tgts = append(tgts, n)
		}
	}
	if len(tgts) == 0 {
		return nil, errNoTargets
	}
	bySuffix := func(a, b string) int { return suffix(a) - suffix(b) }
	slices.SortFunc(nics, bySuffix)
	slices.SortFunc(tgts, bySuffix)
	for _, n := range nics {
		a := &attrs{dir: filepath.Join(dir, n), label: label + "/" + n}
		nic := a.nic(n)
		if a.err != nil {
			return nil, a.err
		}
		t.NICs = append(t.NICs, nic)
	}
	for _, n := range tgts {
		a := &attrs{dir: filepath.Join(dir, n), label: label + "/" + n}
		tg := a.target(n)
		if a.err != nil {
			return nil, a.err
		}
		t.Targets = append(t.Targets, tg)
	}
	return &t, nil
}

func suffix(name string) int {
	i := strings.IndexFunc(name, func(r rune) bool { return r >= '0' && r <= '9' })
	if i < 0 {
		return -1
	}
	n, err := strconv.Atoi(name[i:])
	if err != nil {
		return -1
	}
	return n
}

// attrs reads the attribute files of one sysfs directory; a missing file is
// an unset value (the kernel hides unset ones), a malformed one the first
// error, which sticks.
type attrs struct {
	dir, label string
	err        error
}

func (a *attrs) str(name string) string {
	if a.err != nil {
		return ""
	}
	b, err := readLimited(filepath.Join(a.dir, name), maxAttrLen)
	if errors.Is(err, errFileSize) {
		a.err = &FormatError{Structure: a.label, Field: name, Value: fmt.Sprintf("more than %d bytes", maxAttrLen), Want: fmt.Sprintf("<= %d bytes", maxAttrLen), Err: err}
		return ""
	}
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			a.err = fmt.Errorf("ibft: read %s/%s: %w", a.label, name, err)
		}
		return ""
	}
	// The kernel ends most values with a newline but not all (subnet-mask).
	return strings.TrimSpace(string(b))
}

// text reads a string attribute and checks it as checkString does; the
// kernel prints the table's bytes as they are (sprintf_string), so a line
// break or escape inside a table string arrives here too.
func (a *attrs) text(name string, k stringKind) string {
	s := a.str(name)
	if shown, want, err := checkString(s, k); err != nil && a.err == nil {
		a.err = &FormatError{Structure: a.label, Field: name, Value: shown, Want: want, Err: err}
	}
	return s
}

func (a *attrs) uint(name string, bits int, def uint64) uint64 {
	s := a.str(name)
	if s == "" || a.err != nil {
		return def
	}
	n, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		a.fail(name, s, fmt.Sprintf("a decimal %d-bit number", bits), errNumber)
	}
	return n
}

func (a *attrs) addr(name string) netip.Addr {
	s := a.str(name)
	if s == "" || a.err != nil {
		return netip.Addr{}
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		a.fail(name, s, "an IPv4 or IPv6 address", errAddress)
	}
	return ip.Unmap()
}

func (a *attrs) fail(field, value, want string, err error) {
	if a.err == nil {
		a.err = &FormatError{Structure: a.label, Field: field, Value: fmt.Sprintf("%q", value), Want: want, Err: err}
	}
}

func (a *attrs) initiator() *Initiator {
	return &Initiator{
		Index:           uint8(a.uint("index", 8, 0)),
		Flags:           Flags(a.uint("flags", 8, 0)),
		ISNSServer:      a.addr("isns-server"),
		SLPServer:       a.addr("slp-server"),
		PrimaryRADIUS:   a.addr("pri-radius-server"),
		SecondaryRADIUS: a.addr("sec-radius-server"),
		Name:            a.text("initiator-name", nameString),
		ISID:            a.text("isid", textString),
	}
}

func (a *attrs) nic(dirName string) NIC {
	n := NIC{
		Index:        uint8(a.uint("index", 8, uint64(max(suffix(dirName), 0)))),
		Flags:        Flags(a.uint("flags", 8, 0)),
		IP:           a.addr("ip-addr"),
		PrefixLen:    uint8(a.uint("prefix-len", 8, 0)),
		Origin:       Origin(a.uint("origin", 8, 0)),
		Gateway:      a.addr("gateway"),
		PrimaryDNS:   a.addr("primary-dns"),
		SecondaryDNS: a.addr("secondary-dns"),
		DHCPServer:   a.addr("dhcp"),
		VLAN:         uint16(a.uint("vlan", 16, 0)),
		Hostname:     a.text("hostname", textString),
	}
	if want, err := checkVLAN(n.VLAN); err != nil {
		a.fail("vlan", fmt.Sprint(n.VLAN), want, err)
	}
	if s := a.str("mac"); s != "" {
		mac, err := net.ParseMAC(s)
		if err != nil || len(mac) != 6 {
			a.fail("mac", s, "aa:bb:cc:dd:ee:ff", errMAC)
		}
		n.MAC = mac
	}
	// The kernel links ethernetN/device to the PCI function the table
	// names; its name is the only place sysfs keeps the BDF.
	if dev, err := os.Readlink(filepath.Join(a.dir, "device")); err == nil {
		if b, ok := parsePCIName(filepath.Base(dev)); ok {
			n.PCIBDF = b
		}
	}
	return n
}

func (a *attrs) target(dirName string) Target {
	tg := Target{
		Index:             uint8(a.uint("index", 8, uint64(max(suffix(dirName), 0)))),
		Flags:             Flags(a.uint("flags", 8, 0)),
		IP:                a.addr("ip-addr"),
		Port:              uint16(a.uint("port", 16, core.DefaultPort)),
		CHAPType:          CHAPType(a.uint("chap-type", 8, 0)),
		NICAssoc:          uint8(a.uint("nic-assoc", 8, 0)),
		Name:              a.text("target-name", nameString),
		CHAPName:          a.text("chap-name", textString),
		CHAPSecret:        Secret(a.text("chap-secret", secretString)),
		ReverseCHAPName:   a.text("rev-chap-name", textString),
		ReverseCHAPSecret: Secret(a.text("rev-chap-name-secret", secretString)),
	}
	if want, err := checkTargetAddr(tg.Flags, tg.IP); err != nil {
		a.fail("ip-addr", a.str("ip-addr"), want, err)
	}
	if s := a.str("lun"); s != "" {
		l, ok := parseSysfsLUN(s)
		if !ok {
			a.fail("lun", s, "a LUN string with one reading (the kernel prints bytes unpadded); read the raw table", errLUN)
		}
		tg.LUN = l
	}
	return tg
}

// parsePCIName reads a PCI device name "DDDD:BB:DD.F" in domain 0.
func parsePCIName(s string) (BDF, bool) {
	var dom, bus, dev, fn uint
	if n, err := fmt.Sscanf(s, "%4x:%2x:%2x.%1x", &dom, &bus, &dev, &fn); err != nil || n != 4 {
		return 0, false
	}
	if dom != 0 || bus > 0xff || dev > 0x1f || fn > 7 {
		return 0, false
	}
	return NewBDF(uint8(bus), uint8(dev), uint8(fn)), true
}

// Resolver names the Linux network interface of a table NIC, given the NIC's
// MAC and PCI function (from a NIC or a BootNIC).
type Resolver func(mac net.HardwareAddr, bdf BDF) (string, error)

// SysResolver resolves a NIC through <root>/sys/class/net: by MAC first
// (each interface's address file), then, when no interface or more than one
// (VLANs, bonds, offload functions with their own MAC) has it, by the PCI
// function the table names, through each interface's device symlink.
func SysResolver(root string) Resolver {
	return func(mac net.HardwareAddr, bdf BDF) (string, error) {
		dir := filepath.Join(root, "/sys/class/net")
		ents, err := os.ReadDir(dir)
		if err != nil {
			return "", fmt.Errorf("ibft: list interfaces: %w", err)
		}
		var byMAC, all []string
		for _, e := range ents {
			name := e.Name()
			all = append(all, name)
			b, err := readLimited(filepath.Join(dir, name, "address"), maxAttrLen)
			if err != nil {
				continue
			}
			have, err := net.ParseMAC(strings.TrimSpace(string(b)))
			if err == nil && len(mac) > 0 && bytes.Equal(have, mac) {
				byMAC = append(byMAC, name)
			}
		}
		if len(byMAC) == 1 {
			return byMAC[0], nil
		}
		pool := all
		if len(byMAC) > 1 {
			pool = byMAC
		}
		var byBDF []string
		for _, name := range pool {
			dev, err := os.Readlink(filepath.Join(dir, name, "device"))
			if err != nil {
				continue
			}
			if b, ok := parsePCIName(filepath.Base(dev)); ok && b == bdf {
				byBDF = append(byBDF, name)
			}
		}
		if len(byBDF) == 1 {
			return byBDF[0], nil
		}
		if len(byMAC) > 1 {
			slices.Sort(byMAC)
			return "", fmt.Errorf("ibft: interface for mac %s pci %s: %w: %s", mac, bdf, errAmbiguous, strings.Join(byMAC, ", "))
		}
		return "", fmt.Errorf("ibft: interface for mac %s pci %s: %w", mac, bdf, errNoInterface)
	}
}
