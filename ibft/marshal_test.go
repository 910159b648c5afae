package ibft

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fullTable uses every field: two NICs (IPv4 static with VLAN and hostname,
// IPv6 by DHCP), two targets (mutual CHAP on the second NIC, none on the
// first), and the initiator's server addresses.
func fullTable() *Table {
	return &Table{
		Header:       Header{Signature: "iBFT", OEMID: "TESTOE", OEMTableID: "TESTTBL1", OEMRevision: 7, CreatorID: "GOIB", CreatorRevision: 9},
		ControlFlags: 1,
		Initiator: &Initiator{
			Flags:           FlagBlockValid | FlagBootSelected,
			ISNSServer:      mustAddr("192.0.2.10"),
			SLPServer:       mustAddr("2001:db8::11"),
			PrimaryRADIUS:   mustAddr("192.0.2.12"),
			SecondaryRADIUS: mustAddr("192.0.2.13"),
			Name:            "iqn.2025-01.test:full-init",
		},
		NICs: []NIC{
			{
				Index:        0,
				Flags:        FlagBlockValid | FlagBootSelected,
				IP:           mustAddr("192.0.2.50"),
				PrefixLen:    26,
				Origin:       OriginManual,
				Gateway:      mustAddr("192.0.2.1"),
				PrimaryDNS:   mustAddr("192.0.2.53"),
				SecondaryDNS: mustAddr("192.0.2.54"),
				VLAN:         100,
				MAC:          mustMAC("02:00:00:00:00:01"),
				PCIBDF:       NewBDF(0x3b, 0, 1),
				Hostname:     "bootbox",
			},
			{
				Index:      1,
				Flags:      FlagBlockValid,
				IP:         mustAddr("2001:db8:0:1::50"),
				PrefixLen:  64,
				Origin:     OriginDHCP,
				Gateway:    mustAddr("fe80::1"),
				PrimaryDNS: mustAddr("2001:db8::53"),
				DHCPServer: mustAddr("2001:db8::67"),
				MAC:        mustMAC("02:00:00:00:00:02"),
				PCIBDF:     NewBDF(0x3b, 0, 2),
			},
		},
		Targets: []Target{
			{
				Index:    0,
				Flags:    FlagBlockValid | FlagBootSelected,
				IP:       mustAddr("192.0.2.100"),
				Port:     3260,
				LUN:      LUNFromInt(1),
				NICAssoc: 0,
				Name:     "iqn.2025-01.test:disk-a",
			},
			{
				Index:             1,
				Flags:             FlagBlockValid,
				IP:                mustAddr("2001:db8:0:1::100"),
				Port:              3261,
				LUN:               LUNFromInt(0x4001_0000_0000_0002),
				CHAPType:          CHAPMutual,
				NICAssoc:          1,
				Name:              "iqn.2025-01.test:disk-b",
				CHAPName:          "user-b",
				CHAPSecret:        "secret-b-123",
				ReverseCHAPName:   "target-b",
				ReverseCHAPSecret: "rsecret-b-456",
			},
		},
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for name, tab := range map[string]*Table{
		"full":      fullTable(),
		"ipxe":      ipxeTable(),
		"empty":     {},
		"no-string": {NICs: []NIC{{Flags: FlagBlockValid, MAC: make(net.HardwareAddr, 6)}}, Targets: []Target{{Flags: FlagBootSelected, IP: mustAddr("192.0.2.1")}}},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := tab.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse(MarshalBinary()) = %v\n%s", err, hex.Dump(b))
			}
			want := *tab
			if want.Header.Signature == "" {
				want.Header.Signature = "iBFT"
			}
			if d := cmp.Diff(&want, got, cmpOpts...); d != "" {
				t.Errorf("round trip (-want +got):\n%s", d)
			}
			b2, err := got.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(b, b2); d != "" {
				t.Errorf("second marshal differs:\n%s", d)
			}
		})
	}
}

// TestMarshalKernelLayout checks what drivers/firmware/iscsi_ibft.c checks
// and what QEMU's -acpitable needs: revision 1, a zero byte sum, a control
// structure of exactly 18 bytes at 48 with index 0, every structure 8-byte
// aligned with its exact length, strings NUL-terminated inside the table.
func TestMarshalKernelLayout(t *testing.T) {
	b, err := fullTable().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint32(b[4:]); int(got) != len(b) {
		t.Errorf("length field %d, table %d bytes", got, len(b))
	}
	if b[8] != 1 {
		t.Errorf("revision %d, want 1", b[8])
	}
	if s := checksum(b); s != 0 {
		t.Errorf("byte sum 0x%02x, want 0", s)
	}
	ctrl := b[HeaderLen:]
	if ctrl[0] != idControl || ctrl[1] != 1 || le16(ctrl, 2) != ControlLen || ctrl[4] != 0 {
		t.Errorf("control header % x", ctrl[:6])
	}
	wantID := []struct {
		id  byte
		len int
	}{{idInitiator, InitiatorLen}, {idNIC, NICLen}, {idTarget, TargetLen}, {idNIC, NICLen}, {idTarget, TargetLen}}
	for i, w := range wantID {
		off := int(le16(ctrl, 8+2*i))
		if off == 0 || off%8 != 0 {
			t.Errorf("slot %d offset 0x%x not 8-aligned", i, off)
			continue
		}
		s := b[off:]
		if s[0] != w.id || s[1] != 1 || int(le16(s, 2)) != w.len {
			t.Errorf("slot %d at 0x%x: header % x, want id %d version 1 length %d", i, off, s[:6], w.id, w.len)
		}
	}
	tgt1 := b[le16(ctrl, 16):]
	n, off := int(le16(tgt1, offCHAPSecret)), int(le16(tgt1, offCHAPSecret+2))
	if string(b[off:off+n]) != "secret-b-123" || b[off+n] != 0 {
		t.Errorf("chap secret string at 0x%x length %d not NUL-terminated in place", off, n)
	}
	// The same fixed layout mkibft.py (the lab's table builder) produces.
	if got := le16(ctrl, offInitiatorOff); got != 72 {
		t.Errorf("initiator at 0x%x, want 0x48", got)
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Table)
		field  string
		err    error
	}{
		{"signature", func(t *Table) { t.Header.Signature = "ACPI" }, "signature", errSignature},
		{"oem id", func(t *Table) { t.Header.OEMID = "SEVENCH" }, "oem_id", errTooLong},
		{"oem table id", func(t *Table) { t.Header.OEMTableID = "NINECHARS" }, "oem_table_id", errTooLong},
		{"creator id", func(t *Table) { t.Header.CreatorID = "FIVEC" }, "creator_id", errTooLong},
		{"three nics", func(t *Table) { t.NICs = append(t.NICs, NIC{}) }, "nics", errTooMany},
		{"three targets", func(t *Table) { t.Targets = append(t.Targets, Target{}) }, "targets", errTooMany},
		{"mac", func(t *Table) { t.NICs[0].MAC = t.NICs[0].MAC[:4] }, "mac", errMAC},
		{"prefix v4", func(t *Table) { t.NICs[0].PrefixLen = 33 }, "subnet_mask_prefix", errPrefix},
		{"chap type", func(t *Table) { t.Targets[0].CHAPType = 3 }, "chap_type", errCHAPType},
		{"string heap", func(t *Table) { t.NICs[0].Hostname = string(make([]byte, 0x10000)) }, "hostname", errTableTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := fullTable()
			tt.mutate(tab)
			_, err := tab.MarshalBinary()
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, tt.err) || fe.Field != tt.field {
				t.Fatalf("MarshalBinary() = %v, want %v on field %s", err, tt.err, tt.field)
			}
		})
	}
}
