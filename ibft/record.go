package ibft

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/iscsiboot/iscsiboot/internal/jsonw"
)

// RecordVersion is the open-iscsi version whose "iscsistart -f" format
// WriteRecords reproduces; it appears in every "# BEGIN RECORD" line.
const RecordVersion = "2.1.8"

// Record is one firmware boot record as open-iscsi's fw_print_entry prints
// it (usr/fwparam_ibft/fw_entry.c): one per usable target, joined with its
// NIC and the initiator. Fields hold the strings open-iscsi reads from the
// kernel's sysfs view, so an empty field is a line open-iscsi leaves out.
type Record struct {
	InitiatorName string
	ISID          string
	TransportName string
	HWAddress     string
	BootProto     string // "DHCP" or "STATIC"
	IPAddress     string
	PrefixLen     int
	SubnetMask    string
	Gateway       string
	PrimaryDNS    string
	SecondaryDNS  string
	VLANID        string
	NetIfaceName  string
	NodeName      string
	Address       string
	Port          int
	Username      string
	Password      Secret
	UsernameIn    string
	PasswordIn    Secret
	// BootLUN is the LUN as Linux numbers it. open-iscsi prints the kernel's
	// lossy sysfs string here ("01000000" for LUN 1); this and a port of 0,
	// printed as the 3260 a login uses (Target.PortOrDefault), are the
	// deliberate differences in the output.
	BootLUN uint64
}

// Records returns the records "iscsistart -f" prints for the table, in slot
// order, keeping open-iscsi's rules: a target counts when a flag is set and
// it has a name, and it is paired with the valid NIC whose index its
// nic-assoc names (otherwise it is left out, as open-iscsi does). A table
// without an initiator structure has no records: the kernel then publishes
// no initiator directory, and open-iscsi reads nothing. res names
// the NIC's interface; when res is nil or fails, the record has no
// iface.net_ifacename line rather than being dropped, so a table read from a
// file on another machine still prints.
func (t *Table) Records(res Resolver) []Record {
	if t.Initiator == nil {
		return nil
	}
	var out []Record
	for _, tg := range t.Targets {
		if !tg.Flags.Valid() || tg.Name == "" {
			continue
		}
		nic, ok := t.NIC(tg.NICAssoc)
		if !ok {
			continue
		}
		r := Record{
			TransportName: t.Transport,
			HWAddress:     nic.MAC.String(),
			BootProto:     "STATIC",
			PrefixLen:     int(nic.PrefixLen),
			VLANID:        strconv.Itoa(int(nic.VLAN)),
			InitiatorName: t.Initiator.Name,
			ISID:          t.Initiator.ISID,
			NodeName:      tg.Name,
			Address:       kernelAddr(tg.IP),
			Port:          int(tg.PortOrDefault()),
			BootLUN:       tg.LUN.Int(),
		}
		if r.TransportName == "" {
			r.TransportName = "tcp"
		}
		// open-iscsi takes DHCP from the origin, or from a DHCP server
		// address, because some firmware leaves the origin unset.
		if nic.Origin == OriginDHCP || isSet(nic.DHCPServer) {
			r.BootProto = "DHCP"
		}
		r.IPAddress = kernelAddrIfSet(nic.IP)
		if nic.PrefixLen != 0 {
			r.SubnetMask = kernelMask(nic.PrefixLen)
		}
		r.Gateway = kernelAddrIfSet(nic.Gateway)
		r.PrimaryDNS = kernelAddrIfSet(nic.PrimaryDNS)
		r.SecondaryDNS = kernelAddrIfSet(nic.SecondaryDNS)
		if res != nil {
			if name, err := res(nic.MAC, nic.PCIBDF); err == nil {
				r.NetIfaceName = name
			}
		}
		// The kernel shows both CHAP files only when the name is set
		// (ibft_check_tgt_for), whatever chap_type says.
		if tg.CHAPName != "" {
			r.Username, r.Password = tg.CHAPName, tg.CHAPSecret
		}
		if tg.ReverseCHAPName != "" {
			r.UsernameIn, r.PasswordIn = tg.ReverseCHAPName, tg.ReverseCHAPSecret
		}
		out = append(out, r)
	}
	return out
}

// kernelAddr formats an address as the kernel's sysfs does: IPv4-mapped
// addresses dotted, everything else as eight 4-digit groups (%pI6, not the
// compressed form), which open-iscsi then prints verbatim.
func kernelAddr(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	b := a.As16()
	var s strings.Builder
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			s.WriteByte(':')
		}
		fmt.Fprintf(&s, "%04x", binary.BigEndian.Uint16(b[i:]))
	}
	return s.String()
}

func kernelAddrIfSet(a netip.Addr) string {
	if !isSet(a) {
		return ""
	}
	return kernelAddr(a)
}

// kernelMask is the kernel's subnet-mask attribute: a 32-bit mask built from
// the prefix with a shift by (32 - prefix), which x86 takes modulo 32. For
// IPv6 prefixes above 32 that gives a meaningless mask, and open-iscsi prints
// it; so do we, to stay line-for-line equal.
func kernelMask(prefix uint8) string {
	shift := uint32(32-int(prefix)) & 31
	m := ^((uint32(1) << shift) - 1)
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], m)
	return netip.AddrFrom4(b).String()
}

type keyValue struct {
	key, value string
}

// lines is the record in fw_print_entry's order: dump_initiator,
// dump_network, dump_target; empty values are left out as open-iscsi does.
func (r Record) lines(showSecrets bool) []keyValue {
	kv := []keyValue{
		{"iface.initiatorname", r.InitiatorName},
		{"iface.isid", r.ISID},
		{"iface.transport_name", r.TransportName},
		{"iface.hwaddress", r.HWAddress},
		{"iface.bootproto", r.BootProto},
		{"iface.ipaddress", r.IPAddress},
		{"iface.prefix_len", nonZero(r.PrefixLen)},
		{"iface.subnet_mask", r.SubnetMask},
		{"iface.gateway", r.Gateway},
		{"iface.primary_dns", r.PrimaryDNS},
		{"iface.secondary_dns", r.SecondaryDNS},
		{"iface.vlan_id", r.VLANID},
		{"iface.net_ifacename", r.NetIfaceName},
		{"node.name", r.NodeName},
		{"node.conn[0].address", r.Address},
		{"node.conn[0].port", strconv.Itoa(r.Port)},
		{"node.session.auth.username", r.Username},
		{"node.session.auth.password", reveal(r.Password, showSecrets)},
		{"node.session.auth.username_in", r.UsernameIn},
		{"node.session.auth.password_in", reveal(r.PasswordIn, showSecrets)},
		{"node.boot_lun", strconv.FormatUint(r.BootLUN, 10)},
	}
	out := kv[:0]
	for _, e := range kv {
		if e.value != "" {
			out = append(out, e)
		}
	}
	return out
}

func nonZero(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func reveal(s Secret, show bool) string {
	if show {
		return string(s)
	}
	return s.String()
}

// WriteRecords writes recs as "iscsistart -f" does, each between
// "# BEGIN RECORD 2.1.8" and "# END RECORD". CHAP secrets print as
// "<redacted>" unless showSecrets is set.
func WriteRecords(w io.Writer, recs []Record, showSecrets bool) error {
	bw := bufio.NewWriter(w)
	for _, r := range recs {
		fmt.Fprintf(bw, "# BEGIN RECORD %s\n", RecordVersion)
		for _, e := range r.lines(showSecrets) {
			fmt.Fprintf(bw, "%s = %s\n", e.key, e.value)
		}
		fmt.Fprintln(bw, "# END RECORD")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("ibft: write records: %w", err)
	}
	return nil
}

// WriteRecordsJSON writes recs as a JSON array of objects keyed by the same
// open-iscsi names WriteRecords prints, with the same lines left out; port,
// prefix length and LUN are numbers. Secrets are redacted the same way.
func WriteRecordsJSON(w io.Writer, recs []Record, showSecrets bool) error {
	b := jsonw.Array(nil, len(recs), func(b []byte, i int) []byte {
		b = append(b, '{')
		for j, e := range recs[i].lines(showSecrets) {
			b = jsonw.Key(b, e.key, j == 0)
			switch e.key {
			case "iface.prefix_len", "node.conn[0].port", "node.boot_lun":
				b = append(b, e.value...)
			default:
				b = jsonw.String(b, e.value)
			}
		}
		return append(b, '}')
	})
	b = append(jsonw.Indent(b, "", "  "), '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("ibft: write records json: %w", err)
	}
	return nil
}
