package ibft

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/iscsiboot/iscsiboot/core"
)

// Signatures the ACPI header may carry. iBFT 1.03 names "iBFT";
// older drafts say "IBFT", and Broadcom offload firmware writes "BIFT". Linux
// accepts all three (drivers/firmware/iscsi_ibft.c, ibft_signs).
var Signatures = []string{"iBFT", "IBFT", "BIFT"}

// Sizes of the fixed parts, iBFT 1.03, Sections 3.3-3.7. Linux rejects a
// structure whose header length is not exactly its size.
const (
	HeaderLen    = 48 // ACPI header (36) plus 12 reserved bytes, Section 3.3
	ControlLen   = 18 // Section 3.4
	InitiatorLen = 74 // Section 3.5
	NICLen       = 102
	TargetLen    = 54

	// structAlign is the alignment of every structure in iBFT 1.03 (edk2 calls
	// it EFI_ACPI_ISCSI_BOOT_FIRMWARE_TABLE_STRUCTURE_ALIGNMENT).
	structAlign = 8
)

// Structure ids, iBFT 1.03, Section 3.4.1 (the structure header's first byte).
const (
	idControl   = 1
	idInitiator = 2
	idNIC       = 3
	idTarget    = 4
)

// structVersion is the only version iBFT 1.03 defines for every structure.
const structVersion = 1

// acpiRevision is the only ACPI table revision Linux accepts (ibft_check_device).
const acpiRevision = 1

// Flags is the flags byte of the initiator, NIC and target structures,
// iBFT 1.03, Sections 3.5-3.7.
type Flags uint8

const (
	// FlagBlockValid says the firmware filled in the structure.
	FlagBlockValid Flags = 1 << 0
	// FlagBootSelected says the firmware booted through this structure.
	FlagBootSelected Flags = 1 << 1
	// FlagGlobal, in a NIC, says the address is global rather than
	// link-local.
	FlagGlobal Flags = 1 << 2
	// FlagRADIUSCHAP and FlagRADIUSReverseCHAP, in a target, say the CHAP
	// secrets come from the initiator's RADIUS servers.
	FlagRADIUSCHAP        Flags = 1 << 2
	FlagRADIUSReverseCHAP Flags = 1 << 3
)

// Valid reports whether the structure is in use. Some firmware sets only
// FlagBootSelected (open-iscsi's fwparam_sysfs.c notes it), so either bit counts.
func (f Flags) Valid() bool { return f&(FlagBlockValid|FlagBootSelected) != 0 }

// Origin is how the NIC's address was configured, iBFT 1.03, Section 3.6,
// the values of the IP_PREFIX_ORIGIN enumeration.
type Origin uint8

// Origins defined by iBFT 1.03.
const (
	OriginOther               Origin = 0
	OriginManual              Origin = 1
	OriginWellKnown           Origin = 2
	OriginDHCP                Origin = 3
	OriginRouterAdvertisement Origin = 4
	OriginUnchanged           Origin = 16
)

func (o Origin) String() string {
	switch o {
	case OriginOther:
		return "other"
	case OriginManual:
		return "manual"
	case OriginWellKnown:
		return "well-known"
	case OriginDHCP:
		return "dhcp"
	case OriginRouterAdvertisement:
		return "router-advertisement"
	case OriginUnchanged:
		return "unchanged"
	}
	return fmt.Sprintf("origin(%d)", uint8(o))
}

// CHAPType is the target's authentication, iBFT 1.03, Section 3.7.
type CHAPType uint8

// CHAP types defined by iBFT 1.03.
const (
	CHAPNone   CHAPType = 0
	CHAPOneWay CHAPType = 1
	CHAPMutual CHAPType = 2
)

func (c CHAPType) String() string {
	switch c {
	case CHAPNone:
		return "none"
	case CHAPOneWay:
		return "one-way"
	case CHAPMutual:
		return "mutual"
	}
	return fmt.Sprintf("chap(%d)", uint8(c))
}

// BDF is a PCI bus/device/function packed as iBFT 1.03, Section 3.6 does:
// bus in bits 15-8, device in 7-3, function in 2-0. The table has no PCI
// domain; firmware boots only from domain 0.
type BDF uint16

// NewBDF packs bus, device and function.
func NewBDF(bus, dev, fn uint8) BDF {
	return BDF(uint16(bus)<<8 | uint16(dev&0x1f)<<3 | uint16(fn&7))
}

// Bus is the PCI bus number.
func (b BDF) Bus() uint8 { return uint8(b >> 8) }

// Device is the PCI device (slot) number, 0-31.
func (b BDF) Device() uint8 { return uint8(b>>3) & 0x1f }

// Function is the PCI function number, 0-7.
func (b BDF) Function() uint8 { return uint8(b) & 7 }

// String is the form Linux uses in sysfs device names, without the domain.
func (b BDF) String() string {
	return fmt.Sprintf("%02x:%02x.%x", b.Bus(), b.Device(), b.Function())
}

// Secret is a CHAP secret. Its String, GoString and JSON forms are
// "<redacted>" when it is set, so it cannot leak through fmt or encoding/json;
// string(s) is the only way to the value.
type Secret string

const redacted = "<redacted>"

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

func (s Secret) MarshalJSON() ([]byte, error) { return fmt.Appendf(nil, "%q", s.String()), nil }

// Header is the ACPI table header, ACPI 6.5, Section 5.2.6, as iBFT 1.03,
// Section 3.3 fills it. Length, revision and checksum are not kept: Parse
// checks them and MarshalBinary computes them.
type Header struct {
	Signature       string // one of Signatures; empty marshals as "iBFT"
	OEMID           string // up to 6 bytes
	OEMTableID      string // up to 8 bytes
	OEMRevision     uint32
	CreatorID       string // up to 4 bytes
	CreatorRevision uint32
}

// Initiator is the initiator structure, iBFT 1.03, Section 3.5.
type Initiator struct {
	Index           uint8
	Flags           Flags
	ISNSServer      netip.Addr
	SLPServer       netip.Addr
	PrimaryRADIUS   netip.Addr
	SecondaryRADIUS netip.Addr
	Name            string
	// ISID is published only by offload HBAs in /sys/firmware/iscsi_boot*;
	// the raw table has no such field.
	ISID string `json:",omitempty"`
}

// NIC is the NIC structure, iBFT 1.03, Section 3.6. Addresses that the table
// holds as 16 zero bytes are the zero netip.Addr; IPv4 addresses, stored
// IPv4-mapped, come back as 4-byte addresses.
type NIC struct {
	Index        uint8
	Flags        Flags
	IP           netip.Addr
	PrefixLen    uint8
	Origin       Origin
	Gateway      netip.Addr
	PrimaryDNS   netip.Addr
	SecondaryDNS netip.Addr
	DHCPServer   netip.Addr
	VLAN         uint16
	MAC          net.HardwareAddr
	PCIBDF       BDF
	Hostname     string
}

// Target is the target structure, iBFT 1.03, Section 3.7. Port keeps the
// table's value, 0 included; the views built on a table (Records,
// BootTargets) give the port a login uses, PortOrDefault.
type Target struct {
	Index             uint8
	Flags             Flags
	IP                netip.Addr
	Port              uint16
	LUN               LUN
	CHAPType          CHAPType
	NICAssoc          uint8 // the Index of the NIC this target is reached through
	Name              string
	CHAPName          string
	CHAPSecret        Secret
	ReverseCHAPName   string
	ReverseCHAPSecret Secret
}

// Table is a whole iBFT. NICs and Targets hold the used slots in slot order
// (at most two each in a raw table; offload HBAs' sysfs may list more).
type Table struct {
	Header Header
	// Extensions is the control structure's extensions field, iBFT 1.03,
	// Section 3.4; 0 in every table seen, kept so tables round-trip.
	Extensions uint16
	// ControlFlags is the control structure's flags byte, iBFT 1.03,
	// Section 3.4. Bit 0 is the one defined bit; spec versions name it
	// "single login mode" or "boot failover". Kept raw so tables round-trip.
	ControlFlags uint8
	Initiator    *Initiator
	NICs         []NIC
	Targets      []Target
	// Source says where Load found the table; Parse leaves it zero.
	Source Source `json:",omitzero"`
	// Transport is the iSCSI transport open-iscsi names for the boot (from an
	// offload HBA's SCSI host); empty means software iSCSI, "tcp".
	Transport string `json:",omitempty"`
}

// NIC returns the valid NIC whose Index is idx, as a target's NICAssoc names it.
func (t *Table) NIC(idx uint8) (NIC, bool) {
	for _, n := range t.NICs {
		if n.Index == idx && n.Flags.Valid() {
			return n, true
		}
	}
	return NIC{}, false
}

// PortOrDefault is the port a login to the target uses: Port, or
// core.DefaultPort when the table says 0. The kernel passes 0 through
// (drivers/firmware/iscsi_ibft.c, ibft_attr_show_target), and open-iscsi
// prints it in "iscsistart -f" (usr/fwparam_ibft/fw_entry.c, dump_target)
// and then logs in to TCP port 0, where no target listens; its own
// fallback, for a port sysfs does not show, is ISCSI_LISTEN_PORT, 3260
// (usr/fwparam_ibft/fwparam_sysfs.c, fill_tgt_context). Here 0 means that
// default everywhere, so that -f prints the port --plan and the boot use.
func (tg Target) PortOrDefault() uint16 {
	if tg.Port == 0 {
		return core.DefaultPort
	}
	return tg.Port
}
