package ibft

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// ACPI header offsets, ACPI 6.5, Section 5.2.6 (iBFT 1.03, Section 3.3).
const (
	offSignature       = 0
	offLength          = 4
	offRevision        = 8
	offChecksum        = 9
	offOEMID           = 10
	offOEMTableID      = 16
	offOEMRevision     = 24
	offCreatorID       = 28
	offCreatorRevision = 32
)

// Structure header offsets, iBFT 1.03, Section 3.2, common to every structure.
const (
	offID      = 0
	offVersion = 1
	offLen     = 2
	offIndex   = 4
	offFlags   = 5
)

// Control structure offsets, iBFT 1.03, Section 3.4.
const (
	offExtensions   = 6
	offInitiatorOff = 8
	offNIC0Off      = 10
	offTarget0Off   = 12
	offNIC1Off      = 14
	offTarget1Off   = 16
)

// Initiator structure offsets, iBFT 1.03, Section 3.5.
const (
	offISNS      = 6
	offSLP       = 22
	offPriRADIUS = 38
	offSecRADIUS = 54
	offInitName  = 70 // length at 70, offset at 72
)

// NIC structure offsets, iBFT 1.03, Section 3.6.
const (
	offNICIP        = 6
	offPrefix       = 22
	offOrigin       = 23
	offGateway      = 24
	offPrimaryDNS   = 40
	offSecondaryDNS = 56
	offDHCP         = 72
	offVLAN         = 88
	offMAC          = 90
	offBDF          = 96
	offHostname     = 98 // length at 98, offset at 100
)

// Target structure offsets, iBFT 1.03, Section 3.7.
const (
	offTgtIP         = 6
	offPort          = 22
	offLUN           = 24
	offCHAPType      = 32
	offNICAssoc      = 33
	offTgtName       = 34 // each string: length, then offset
	offCHAPName      = 38
	offCHAPSecret    = 42
	offRevCHAPName   = 46
	offRevCHAPSecret = 50
)

// Parse decodes a raw iBFT. b may be longer than the table (a memory image);
// the header's length field says where it ends. Every check a kernel or the
// spec makes is made, and some neither makes, because the table's strings
// are printed and sent on: no CHAP secret shares bytes with anything
// printed, every name is an iSCSI name and every other string printable
// text. The first failure comes back as a *FormatError.
func Parse(b []byte) (*Table, error) {
	var t Table
	if err := t.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return &t, nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler; see Parse.
func (t *Table) UnmarshalBinary(b []byte) error {
	b, err := checkHeader(b)
	if err != nil {
		return err
	}
	d := &decoder{b: b, areas: []area{{"acpi_header", 0, HeaderLen}}}
	var nt Table
	nt.Header = Header{
		Signature:       string(b[offSignature : offSignature+4]),
		OEMID:           d.fixed("oem_id", b[offOEMID:offOEMID+6]),
		OEMTableID:      d.fixed("oem_table_id", b[offOEMTableID:offOEMTableID+8]),
		OEMRevision:     binary.LittleEndian.Uint32(b[offOEMRevision:]),
		CreatorID:       d.fixed("creator_id", b[offCreatorID:offCreatorID+4]),
		CreatorRevision: binary.LittleEndian.Uint32(b[offCreatorRevision:]),
	}
	c := d.structure("control", HeaderLen, idControl, ControlLen)
	if c == nil {
		return d.err
	}
	if c[offIndex] != 0 {
		return &FormatError{Structure: "control", Field: "index", Value: fmt.Sprint(c[offIndex]), Want: "0", Err: errStructIndex}
	}
	nt.Extensions = le16(c, offExtensions)
	nt.ControlFlags = c[offFlags]
	if off := le16(c, offInitiatorOff); off != 0 {
		nt.Initiator = d.initiator(off)
	}
	slots := []struct {
		name string
		at   int
		nic  bool
	}{
		{"nic0", offNIC0Off, true},
		{"target0", offTarget0Off, false},
		{"nic1", offNIC1Off, true},
		{"target1", offTarget1Off, false},
	}
	for _, s := range slots {
		off := le16(c, s.at)
		if off == 0 {
			continue
		}
		if s.nic {
			if n, ok := d.nic(s.name, off); ok {
				nt.NICs = append(nt.NICs, n)
			}
		} else if tg, ok := d.target(s.name, off); ok {
			nt.Targets = append(nt.Targets, tg)
		}
	}
	d.checkStrings()
	if d.err != nil {
		return d.err
	}
	*t = nt
	return nil
}

// checkHeader validates the ACPI header and returns b cut to the table length.
func checkHeader(b []byte) ([]byte, error) {
	if len(b) < HeaderLen {
		return nil, &FormatError{Structure: "acpi_header", Field: "length", Value: fmt.Sprintf("%d bytes of data", len(b)), Want: fmt.Sprintf(">= %d", HeaderLen), Err: errShort}
	}
	sig := string(b[offSignature : offSignature+4])
	if !slices.Contains(Signatures, sig) {
		return nil, &FormatError{Structure: "acpi_header", Field: "signature", Value: fmt.Sprintf("%q", sig), Want: strings.Join(Signatures, "|"), Err: errSignature}
	}
	n := binary.LittleEndian.Uint32(b[offLength:])
	if n < HeaderLen+ControlLen {
		return nil, &FormatError{Structure: "acpi_header", Field: "length", Value: fmt.Sprint(n), Want: fmt.Sprintf(">= %d", HeaderLen+ControlLen), Err: errLengthSmall}
	}
	if n > MaxTableLen {
		return nil, &FormatError{Structure: "acpi_header", Field: "length", Value: fmt.Sprint(n), Want: fmt.Sprintf("<= %d", MaxTableLen), Err: errTableSize}
	}
	if uint64(n) > uint64(len(b)) {
		return nil, &FormatError{Structure: "acpi_header", Field: "length", Value: fmt.Sprint(n), Want: fmt.Sprintf("<= %d bytes of data", len(b)), Err: errLengthPastData}
	}
	b = b[:n]
	if r := b[offRevision]; r != acpiRevision {
		return nil, &FormatError{Structure: "acpi_header", Field: "revision", Value: fmt.Sprint(r), Want: fmt.Sprint(acpiRevision), Err: errRevision}
	}
	if s := checksum(b); s != 0 {
		return nil, &FormatError{Structure: "acpi_header", Field: "checksum", Value: fmt.Sprintf("0x%02x", b[offChecksum]), Want: fmt.Sprintf("0x%02x", b[offChecksum]-s), Err: errChecksum}
	}
	return b, nil
}

// checksum is the byte sum of the table; ACPI 6.5, Section 5.2.6 wants 0.
func checksum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return s
}

// decoder reads structures and strings out of one table; the first error
// sticks and every later call returns zero values. It keeps where each
// structure and string lies, for checkStrings.
type decoder struct {
	b     []byte
	err   error
	areas []area
	strs  []heapString
}

// area is the bytes of the ACPI header or of one structure.
type area struct {
	name   string
	off, n int
}

// heapString is one string of the table, where it lies and how to check it.
type heapString struct {
	structure, field string
	off, n           int
	kind             stringKind
	value            string
}

func overlap(aOff, aN, bOff, bN int) bool { return aOff < bOff+bN && bOff < aOff+aN }

func (d *decoder) fail(e *FormatError) {
	if d.err == nil {
		d.err = e
	}
}

// structure returns the bytes of the structure at off after checking its
// place and header against the spec, or nil.
func (d *decoder) structure(name string, off uint16, id byte, length int) []byte {
	if d.err != nil {
		return nil
	}
	o := int(off)
	field := name + "_off"
	if name == "control" {
		field = "offset"
	}
	switch {
	case name != "control" && o < HeaderLen+ControlLen:
		d.fail(&FormatError{Structure: "control", Field: field, Value: fmt.Sprintf("0x%x", o), Want: fmt.Sprintf(">= 0x%x", HeaderLen+ControlLen), Err: errOffsetOverlap})
		return nil
	case o+length > len(d.b):
		d.fail(&FormatError{Structure: "control", Field: field, Value: fmt.Sprintf("0x%x", o), Want: fmt.Sprintf("<= 0x%x for %d bytes in a %d-byte table", len(d.b)-length, length, len(d.b)), Err: errOffsetRange})
		return nil
	}
	s := d.b[o : o+length]
	d.areas = append(d.areas, area{name, o, length})
	switch {
	case s[offID] != id:
		d.fail(&FormatError{Structure: name, Field: "id", Value: fmt.Sprint(s[offID]), Want: fmt.Sprint(id), Err: errStructID})
	case s[offVersion] != structVersion:
		d.fail(&FormatError{Structure: name, Field: "version", Value: fmt.Sprint(s[offVersion]), Want: fmt.Sprint(structVersion), Err: errStructVersion})
	case int(le16(s, offLen)) != length:
		d.fail(&FormatError{Structure: name, Field: "length", Value: fmt.Sprint(le16(s, offLen)), Want: fmt.Sprint(length), Err: errStructLength})
	}
	if d.err != nil {
		return nil
	}
	return s
}

// fixed reads a fixed-size, NUL-padded text field of the ACPI header.
func (d *decoder) fixed(field string, b []byte) string {
	v := trimNUL(b)
	if shown, want, err := checkString(v, textString); err != nil {
		d.fail(&FormatError{Structure: "acpi_header", Field: field, Value: shown, Want: want, Err: err})
	}
	return v
}

// str reads a string whose 16-bit length and offset sit at s[at:] and
// s[at+2:]. Its content is checked later, by checkStrings, once every
// string's place is known.
func (d *decoder) str(name, field string, s []byte, at int, kind stringKind) string {
	if d.err != nil {
		return ""
	}
	n, off := int(le16(s, at)), int(le16(s, at+2))
	if n == 0 {
		return ""
	}
	if off == 0 {
		d.fail(&FormatError{Structure: name, Field: field + "_off", Value: "0", Want: fmt.Sprintf("an offset for %d bytes", n), Err: errStringOffset})
		return ""
	}
	if off+n > len(d.b) {
		d.fail(&FormatError{Structure: name, Field: field, Value: fmt.Sprintf("offset 0x%x length %d", off, n), Want: fmt.Sprintf("end <= 0x%x", len(d.b)), Err: errStringRange})
		return ""
	}
	v := string(d.b[off : off+n])
	d.strs = append(d.strs, heapString{name, field, off, n, kind, v})
	return v
}

// checkStrings refuses a CHAP secret that shares a byte with the ACPI
// header, a structure, or a string that is not a secret, since those are
// printed and the secret would print through them ("node.name = <the
// secret>", or its bytes as a MAC address): the kernel and open-iscsi take
// any offset, and redaction would be for nothing. Secrets may share bytes
// with each other: neither is shown. Then it checks each string's content
// (checkString); the places come first, so that no error about a string
// shows a secret's bytes.
func (d *decoder) checkStrings() {
	if d.err != nil {
		return
	}
	for _, s := range d.strs {
		if s.kind == secretString {
			for _, a := range d.areas {
				if overlap(s.off, s.n, a.off, a.n) {
					d.fail(&FormatError{Structure: s.structure, Field: s.field, Value: fmt.Sprintf("offset 0x%x length %d", s.off, s.n), Want: "no byte in common with " + a.name, Err: errSecretOverlap})
					return
				}
			}
			continue
		}
		for _, sec := range d.strs {
			if sec.kind == secretString && overlap(s.off, s.n, sec.off, sec.n) {
				d.fail(&FormatError{Structure: s.structure, Field: s.field, Value: fmt.Sprintf("offset 0x%x length %d", s.off, s.n), Want: "no byte in common with " + sec.structure + "." + sec.field, Err: errSecretOverlap})
				return
			}
		}
	}
	for _, s := range d.strs {
		if shown, want, err := checkString(s.value, s.kind); err != nil {
			d.fail(&FormatError{Structure: s.structure, Field: s.field, Value: shown, Want: want, Err: err})
			return
		}
	}
}

func (d *decoder) initiator(off uint16) *Initiator {
	s := d.structure("initiator", off, idInitiator, InitiatorLen)
	if s == nil {
		return nil
	}
	in := &Initiator{
		Index:           s[offIndex],
		Flags:           Flags(s[offFlags]),
		ISNSServer:      addr16(s[offISNS:]),
		SLPServer:       addr16(s[offSLP:]),
		PrimaryRADIUS:   addr16(s[offPriRADIUS:]),
		SecondaryRADIUS: addr16(s[offSecRADIUS:]),
		Name:            d.str("initiator", "initiator_name", s, offInitName, nameString),
	}
	if d.err != nil {
		return nil
	}
	return in
}

func (d *decoder) nic(name string, off uint16) (NIC, bool) {
	s := d.structure(name, off, idNIC, NICLen)
	if s == nil {
		return NIC{}, false
	}
	n := NIC{
		Index:        s[offIndex],
		Flags:        Flags(s[offFlags]),
		IP:           addr16(s[offNICIP:]),
		PrefixLen:    s[offPrefix],
		Origin:       Origin(s[offOrigin]),
		Gateway:      addr16(s[offGateway:]),
		PrimaryDNS:   addr16(s[offPrimaryDNS:]),
		SecondaryDNS: addr16(s[offSecondaryDNS:]),
		DHCPServer:   addr16(s[offDHCP:]),
		VLAN:         le16(s, offVLAN),
		MAC:          net.HardwareAddr(slices.Clone(s[offMAC : offMAC+6])),
		PCIBDF:       BDF(le16(s, offBDF)),
		Hostname:     d.str(name, "hostname", s, offHostname, textString),
	}
	if max := maxPrefix(n.IP); n.PrefixLen > max {
		d.fail(&FormatError{Structure: name, Field: "subnet_mask_prefix", Value: fmt.Sprint(n.PrefixLen), Want: fmt.Sprintf("<= %d for %v", max, n.IP), Err: errPrefix})
	}
	if want, err := checkVLAN(n.VLAN); err != nil {
		d.fail(&FormatError{Structure: name, Field: "vlan", Value: fmt.Sprint(n.VLAN), Want: want, Err: err})
	}
	return n, d.err == nil
}

func (d *decoder) target(name string, off uint16) (Target, bool) {
	s := d.structure(name, off, idTarget, TargetLen)
	if s == nil {
		return Target{}, false
	}
	tg := Target{
		Index:             s[offIndex],
		Flags:             Flags(s[offFlags]),
		IP:                addr16(s[offTgtIP:]),
		Port:              le16(s, offPort),
		LUN:               LUN(s[offLUN : offLUN+8]),
		CHAPType:          CHAPType(s[offCHAPType]),
		NICAssoc:          s[offNICAssoc],
		Name:              d.str(name, "target_name", s, offTgtName, nameString),
		CHAPName:          d.str(name, "chap_name", s, offCHAPName, textString),
		CHAPSecret:        Secret(d.str(name, "chap_secret", s, offCHAPSecret, secretString)),
		ReverseCHAPName:   d.str(name, "reverse_chap_name", s, offRevCHAPName, textString),
		ReverseCHAPSecret: Secret(d.str(name, "reverse_chap_secret", s, offRevCHAPSecret, secretString)),
	}
	if tg.CHAPType > CHAPMutual {
		d.fail(&FormatError{Structure: name, Field: "chap_type", Value: fmt.Sprint(uint8(tg.CHAPType)), Want: "0 (none), 1 (one-way) or 2 (mutual)", Err: errCHAPType})
	}
	if want, err := checkTargetAddr(tg.Flags, tg.IP); err != nil {
		v := "16 zero bytes"
		if tg.IP.IsValid() {
			v = tg.IP.String()
		}
		d.fail(&FormatError{Structure: name, Field: "ip_addr", Value: v, Want: want, Err: err})
	}
	return tg, d.err == nil
}

// maxPrefix is the longest prefix an address of a's family can have; an
// unset address may come with any IPv6-sized prefix.
func maxPrefix(a netip.Addr) uint8 {
	if a.Is4() {
		return 32
	}
	return 128
}

// addr16 decodes a 16-byte address field (iBFT 1.03, Sections 3.5-3.7): IPv4 is
// stored IPv4-mapped (::ffff:a.b.c.d) and comes back as a 4-byte address;
// 16 zero bytes mean "not set" and come back as the zero Addr.
func addr16(b []byte) netip.Addr {
	a := netip.AddrFrom16([16]byte(b[:16]))
	if a.IsUnspecified() {
		return netip.Addr{}
	}
	return a.Unmap()
}

// isSet is Linux's address_not_null: neither 16 zero bytes nor ::ffff:0.0.0.0.
func isSet(a netip.Addr) bool { return a.IsValid() && !a.IsUnspecified() }

func le16(b []byte, off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }

func trimNUL(b []byte) string { return strings.TrimRight(string(b), "\x00") }
