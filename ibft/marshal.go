package ibft

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
)

// MarshalBinary implements encoding.BinaryMarshaler. It lays the table out
// the way Linux and iPXE expect (iBFT 1.03: structures 8-byte aligned, heap strings NUL-terminated): the ACPI header,
// the control structure right after it, then the initiator, NICs and targets
// each on an 8-byte boundary, then the NUL-terminated strings; revision 1 and
// a correct checksum. The result loads with QEMU's -acpitable sig=iBFT,file=.
func (t *Table) MarshalBinary() ([]byte, error) {
	if len(t.NICs) > 2 {
		return nil, &FormatError{Structure: "control", Field: "nics", Value: fmt.Sprint(len(t.NICs)), Want: "<= 2", Err: errTooMany}
	}
	if len(t.Targets) > 2 {
		return nil, &FormatError{Structure: "control", Field: "targets", Value: fmt.Sprint(len(t.Targets)), Want: "<= 2", Err: errTooMany}
	}
	e := &encoder{}
	e.header(t.Header)
	ctrl := e.place(idControl, ControlLen, 0, Flags(t.ControlFlags))
	binary.LittleEndian.PutUint16(e.b[ctrl+offExtensions:], t.Extensions)

	var initOff int
	if t.Initiator != nil {
		initOff = e.place(idInitiator, InitiatorLen, t.Initiator.Index, t.Initiator.Flags)
	}
	nicOffs := make([]int, len(t.NICs))
	for i, n := range t.NICs {
		nicOffs[i] = e.place(idNIC, NICLen, n.Index, n.Flags)
	}
	tgtOffs := make([]int, len(t.Targets))
	for i, tg := range t.Targets {
		tgtOffs[i] = e.place(idTarget, TargetLen, tg.Index, tg.Flags)
	}
	e.align()

	if t.Initiator != nil {
		in := t.Initiator
		s := e.b[initOff:]
		putAddr(s[offISNS:], in.ISNSServer)
		putAddr(s[offSLP:], in.SLPServer)
		putAddr(s[offPriRADIUS:], in.PrimaryRADIUS)
		putAddr(s[offSecRADIUS:], in.SecondaryRADIUS)
		e.str(initOff+offInitName, "initiator", "initiator_name", in.Name)
	}
	for i, n := range t.NICs {
		e.nic(fmt.Sprintf("nic%d", i), nicOffs[i], n)
	}
	for i, tg := range t.Targets {
		e.target(fmt.Sprintf("target%d", i), tgtOffs[i], tg)
	}
	slots := []struct {
		at   int
		offs []int
		i    int
	}{
		{offInitiatorOff, []int{initOff}, 0},
		{offNIC0Off, nicOffs, 0},
		{offTarget0Off, tgtOffs, 0},
		{offNIC1Off, nicOffs, 1},
		{offTarget1Off, tgtOffs, 1},
	}
	for _, s := range slots {
		if s.i < len(s.offs) {
			binary.LittleEndian.PutUint16(e.b[ctrl+s.at:], uint16(s.offs[s.i]))
		}
	}
	if e.err != nil {
		return nil, e.err
	}
	binary.LittleEndian.PutUint32(e.b[offLength:], uint32(len(e.b)))
	e.b[offChecksum] = -checksum(e.b)
	return e.b, nil
}

// encoder builds a table; the first error sticks.
type encoder struct {
	b   []byte
	err error
}

func (e *encoder) fail(fe *FormatError) {
	if e.err == nil {
		e.err = fe
	}
}

func (e *encoder) header(h Header) {
	e.b = make([]byte, HeaderLen)
	sig := h.Signature
	if sig == "" {
		sig = Signatures[0]
	}
	if !slices.Contains(Signatures, sig) {
		e.fail(&FormatError{Structure: "acpi_header", Field: "signature", Value: fmt.Sprintf("%q", sig), Want: "iBFT|IBFT|BIFT", Err: errSignature})
	}
	copy(e.b[offSignature:], sig)
	e.b[offRevision] = acpiRevision
	e.fixed("oem_id", e.b[offOEMID:offOEMID+6], h.OEMID)
	e.fixed("oem_table_id", e.b[offOEMTableID:offOEMTableID+8], h.OEMTableID)
	e.fixed("creator_id", e.b[offCreatorID:offCreatorID+4], h.CreatorID)
	binary.LittleEndian.PutUint32(e.b[offOEMRevision:], h.OEMRevision)
	binary.LittleEndian.PutUint32(e.b[offCreatorRevision:], h.CreatorRevision)
}

func (e *encoder) fixed(field string, dst []byte, s string) {
	if len(s) > len(dst) {
		e.fail(&FormatError{Structure: "acpi_header", Field: field, Value: fmt.Sprintf("%q", s), Want: fmt.Sprintf("<= %d bytes", len(dst)), Err: errTooLong})
		return
	}
	copy(dst, s)
}

func (e *encoder) align() {
	for len(e.b)%structAlign != 0 {
		e.b = append(e.b, 0)
	}
}

// place appends a structure with its header filled in and returns its offset.
func (e *encoder) place(id byte, length int, index uint8, flags Flags) int {
	e.align()
	off := len(e.b)
	e.b = append(e.b, make([]byte, length)...)
	s := e.b[off:]
	s[offID] = id
	s[offVersion] = structVersion
	binary.LittleEndian.PutUint16(s[offLen:], uint16(length))
	s[offIndex] = index
	s[offFlags] = byte(flags)
	return off
}

// str appends s NUL-terminated to the string heap and writes its length and
// offset at e.b[at:]. The NUL is not counted, as in the tables iPXE writes.
func (e *encoder) str(at int, structure, field, s string) {
	if s == "" {
		return
	}
	off := len(e.b)
	if len(s) > 0xffff || off+len(s) > 0xffff {
		e.fail(&FormatError{Structure: structure, Field: field, Value: fmt.Sprintf("%d bytes at offset 0x%x", len(s), off), Want: "end <= 0xffff", Err: errTableTooBig})
		return
	}
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
	binary.LittleEndian.PutUint16(e.b[at:], uint16(len(s)))
	binary.LittleEndian.PutUint16(e.b[at+2:], uint16(off))
}

func (e *encoder) nic(name string, off int, n NIC) {
	if max := maxPrefix(n.IP); n.PrefixLen > max {
		e.fail(&FormatError{Structure: name, Field: "subnet_mask_prefix", Value: fmt.Sprint(n.PrefixLen), Want: fmt.Sprintf("<= %d for %v", max, n.IP), Err: errPrefix})
	}
	if len(n.MAC) != 0 && len(n.MAC) != 6 {
		e.fail(&FormatError{Structure: name, Field: "mac", Value: n.MAC.String(), Want: "6 bytes", Err: errMAC})
	}
	s := e.b[off:]
	putAddr(s[offNICIP:], n.IP)
	s[offPrefix] = n.PrefixLen
	s[offOrigin] = byte(n.Origin)
	putAddr(s[offGateway:], n.Gateway)
	putAddr(s[offPrimaryDNS:], n.PrimaryDNS)
	putAddr(s[offSecondaryDNS:], n.SecondaryDNS)
	putAddr(s[offDHCP:], n.DHCPServer)
	binary.LittleEndian.PutUint16(s[offVLAN:], n.VLAN)
	copy(s[offMAC:offMAC+6], n.MAC)
	binary.LittleEndian.PutUint16(s[offBDF:], uint16(n.PCIBDF))
	e.str(off+offHostname, name, "hostname", n.Hostname)
}

func (e *encoder) target(name string, off int, tg Target) {
	if tg.CHAPType > CHAPMutual {
		e.fail(&FormatError{Structure: name, Field: "chap_type", Value: fmt.Sprint(uint8(tg.CHAPType)), Want: "0 (none), 1 (one-way) or 2 (mutual)", Err: errCHAPType})
	}
	s := e.b[off:]
	putAddr(s[offTgtIP:], tg.IP)
	binary.LittleEndian.PutUint16(s[offPort:], tg.Port)
	copy(s[offLUN:offLUN+8], tg.LUN[:])
	s[offCHAPType] = byte(tg.CHAPType)
	s[offNICAssoc] = tg.NICAssoc
	e.str(off+offTgtName, name, "target_name", tg.Name)
	e.str(off+offCHAPName, name, "chap_name", tg.CHAPName)
	e.str(off+offCHAPSecret, name, "chap_secret", string(tg.CHAPSecret))
	e.str(off+offRevCHAPName, name, "reverse_chap_name", tg.ReverseCHAPName)
	e.str(off+offRevCHAPSecret, name, "reverse_chap_secret", string(tg.ReverseCHAPSecret))
}

// putAddr is the inverse of addr16: IPv4 goes in IPv4-mapped, an unset
// address as 16 zero bytes.
func putAddr(dst []byte, a netip.Addr) {
	if !a.IsValid() {
		clear(dst[:16])
		return
	}
	b := a.As16()
	copy(dst[:16], b[:])
}
