package ibft

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// slot returns the offset the control structure gives for slot i
// (0 initiator, 1 nic0, 2 target0, 3 nic1, 4 target1).
func slot(b []byte, i int) int { return int(le16(b, HeaderLen+offInitiatorOff+2*i)) }

func put16(b []byte, off int, v uint16) { binary.LittleEndian.PutUint16(b[off:], v) }

func fixSum(b []byte) { b[offChecksum] -= checksum(b) }

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func([]byte) []byte
		structure string
		field     string
		value     string
		err       error
	}{
		{"short", func(b []byte) []byte { return b[:40] }, "acpi_header", "length", "40 bytes of data", errShort},
		{"signature", func(b []byte) []byte { copy(b, "XBFT"); return b }, "acpi_header", "signature", `"XBFT"`, errSignature},
		{"length past data", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[offLength:], uint32(len(b)+1))
			return b
		}, "acpi_header", "length", "", errLengthPastData},
		{"length above 64 KiB", func(b []byte) []byte {
			b = append(b, make([]byte, MaxTableLen+1-len(b))...)
			binary.LittleEndian.PutUint32(b[offLength:], uint32(len(b)))
			fixSum(b)
			return b
		}, "acpi_header", "length", "65537", errTableSize},
		{"length too small", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[offLength:], 50); return b }, "acpi_header", "length", "50", errLengthSmall},
		{"revision", func(b []byte) []byte { b[offRevision] = 2; fixSum(b); return b }, "acpi_header", "revision", "2", errRevision},
		{"checksum", func(b []byte) []byte { b[len(b)-2] ^= 0x40; return b }, "acpi_header", "checksum", "", errChecksum},
		{"control id", func(b []byte) []byte { b[HeaderLen] = 9; fixSum(b); return b }, "control", "id", "9", errStructID},
		{"control version", func(b []byte) []byte { b[HeaderLen+1] = 2; fixSum(b); return b }, "control", "version", "2", errStructVersion},
		{"control length", func(b []byte) []byte { put16(b, HeaderLen+2, 20); fixSum(b); return b }, "control", "length", "20", errStructLength},
		{"control index", func(b []byte) []byte { b[HeaderLen+4] = 1; fixSum(b); return b }, "control", "index", "1", errStructIndex},
		{"initiator past end", func(b []byte) []byte { put16(b, HeaderLen+offInitiatorOff, 0xfff0); fixSum(b); return b }, "control", "initiator_off", "0xfff0", errOffsetRange},
		{"nic0 in header", func(b []byte) []byte { put16(b, HeaderLen+offNIC0Off, 0x10); fixSum(b); return b }, "control", "nic0_off", "0x10", errOffsetOverlap},
		{"target0 points at a nic", func(b []byte) []byte {
			put16(b, HeaderLen+offTarget0Off, uint16(slot(b, 1)))
			fixSum(b)
			return b
		}, "target0", "id", "3", errStructID},
		{"nic1 length", func(b []byte) []byte { put16(b, slot(b, 3)+offLen, 100); fixSum(b); return b }, "nic1", "length", "100", errStructLength},
		{"target1 version", func(b []byte) []byte { b[slot(b, 4)+offVersion] = 0; fixSum(b); return b }, "target1", "version", "0", errStructVersion},
		{"string past end", func(b []byte) []byte {
			put16(b, slot(b, 4)+offCHAPSecret+2, uint16(len(b)-2))
			fixSum(b)
			return b
		}, "target1", "chap_secret", "", errStringRange},
		{"string offset 0", func(b []byte) []byte { put16(b, slot(b, 0)+offInitName+2, 0); fixSum(b); return b }, "initiator", "initiator_name_off", "0", errStringOffset},
		{"chap type", func(b []byte) []byte { b[slot(b, 2)+offCHAPType] = 7; fixSum(b); return b }, "target0", "chap_type", "7", errCHAPType},
		{"prefix", func(b []byte) []byte { b[slot(b, 1)+offPrefix] = 33; fixSum(b); return b }, "nic0", "subnet_mask_prefix", "33", errPrefix},
		{"vlan 65535", func(b []byte) []byte { put16(b, slot(b, 1)+offVLAN, 0xffff); fixSum(b); return b }, "nic0", "vlan", "65535", errVLAN},
		{"vlan 4095, reserved", func(b []byte) []byte { put16(b, slot(b, 3)+offVLAN, 4095); fixSum(b); return b }, "nic1", "vlan", "4095", errVLAN},
		{"target0 at 0.0.0.0", func(b []byte) []byte {
			copy(b[slot(b, 2)+offTgtIP:], []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0})
			fixSum(b)
			return b
		}, "target0", "ip_addr", "0.0.0.0", errTargetAddr},
		{"target1 without an address", func(b []byte) []byte {
			clear(b[slot(b, 4)+offTgtIP : slot(b, 4)+offTgtIP+16])
			fixSum(b)
			return b
		}, "target1", "ip_addr", "16 zero bytes", errTargetAddr},
		{"target1 runs past the end", func(b []byte) []byte {
			put16(b, HeaderLen+offTarget1Off, uint16(len(b)-16))
			fixSum(b)
			return b
		}, "control", "target1_off", "", errOffsetRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good, err := fullTable().MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			b := tt.mutate(good)
			tab, err := Parse(b)
			if tab != nil || err == nil {
				t.Fatalf("Parse() = %+v, nil; want %v\n%s", tab, tt.err, hex.Dump(b))
			}
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, tt.err) {
				t.Fatalf("Parse() = %v, want a *FormatError wrapping %v", err, tt.err)
			}
			if fe.Structure != tt.structure || fe.Field != tt.field || (tt.value != "" && fe.Value != tt.value) {
				t.Errorf("error names %s.%s = %s, want %s.%s = %s", fe.Structure, fe.Field, fe.Value, tt.structure, tt.field, tt.value)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.Contains(msg, tt.structure+"."+tt.field) {
				t.Errorf("message %q is not one line naming %s.%s", msg, tt.structure, tt.field)
			}
			for _, s := range []string{"secret-b-123", "rsecret-b-456"} {
				if strings.Contains(msg, s) {
					t.Errorf("message %q leaks a CHAP secret", msg)
				}
			}
		})
	}
}

func TestParseTrailingData(t *testing.T) {
	b, err := fullTable().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// A memory image holds more than the table; the length field decides.
	got, err := Parse(append(b, make([]byte, 100)...))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(fullTable(), got, cmpOpts...); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestParseSignatures(t *testing.T) {
	for _, sig := range Signatures {
		tab := ipxeTable()
		tab.Header.Signature = sig
		b, err := tab.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", sig, err)
		}
		if got.Header.Signature != sig {
			t.Errorf("signature %q, want %q", got.Header.Signature, sig)
		}
	}
}

// strAt returns the length and offset of the string whose pair sits at
// field in the structure of slot i (see slot).
func strAt(b []byte, i, field int) (n, off uint16) {
	return le16(b, slot(b, i)+field), le16(b, slot(b, i)+field+2)
}

// pointAt makes the string pair at field of slot i say length n at off.
func pointAt(b []byte, i, field int, n, off uint16) {
	put16(b, slot(b, i)+field, n)
	put16(b, slot(b, i)+field+2, off)
	fixSum(b)
}

// TestParseHostileStrings: strings that would print a CHAP secret through
// another field, or forge or break lines of "iscsistart -f" (a line break,
// an escape, a NUL, invalid UTF-8, a target name that is not an iSCSI
// name), fail the table with one printable line naming the field, which
// never shows a secret.
func TestParseHostileStrings(t *testing.T) {
	const (
		target0 = 2
		target1 = 4
		nic0    = 1
	)
	marshal := func(t *testing.T, edit func(*Table)) []byte {
		tab := fullTable()
		edit(tab)
		b, err := tab.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name      string
		table     func(t *testing.T) []byte
		structure string
		field     string
		want      string // in the message
		err       error
	}{
		{"target name is the chap secret", func(t *testing.T) []byte {
			b := marshal(t, func(*Table) {})
			n, off := strAt(b, target1, offCHAPSecret)
			pointAt(b, target1, offTgtName, n, off)
			return b
		}, "target1", "target_name", "target1.chap_secret", errSecretOverlap},
		{"target0 name inside target1's reverse secret", func(t *testing.T) []byte {
			b := marshal(t, func(*Table) {})
			_, off := strAt(b, target1, offRevCHAPSecret)
			pointAt(b, target0, offTgtName, 4, off+2)
			return b
		}, "target0", "target_name", "target1.reverse_chap_secret", errSecretOverlap},
		{"chap name runs one byte into the secret", func(t *testing.T) []byte {
			b := marshal(t, func(*Table) {})
			n, off := strAt(b, target1, offCHAPName)
			pointAt(b, target1, offCHAPName, n+2, off)
			return b
		}, "target1", "chap_name", "target1.chap_secret", errSecretOverlap},
		{"initiator name is the secret", func(t *testing.T) []byte {
			b := marshal(t, func(*Table) {})
			n, off := strAt(b, target1, offCHAPSecret)
			pointAt(b, 0, offInitName, n, off)
			return b
		}, "initiator", "initiator_name", "target1.chap_secret", errSecretOverlap},
		{"secret over the NIC's MAC address", func(t *testing.T) []byte {
			b := marshal(t, func(*Table) {})
			pointAt(b, target1, offCHAPSecret, 6, uint16(slot(b, nic0)+offMAC))
			return b
		}, "target1", "chap_secret", "nic0", errSecretOverlap},
		{"secret over the OEM id", func(t *testing.T) []byte {
			b := marshal(t, func(*Table) {})
			pointAt(b, target1, offRevCHAPSecret, 6, offOEMID)
			return b
		}, "target1", "reverse_chap_secret", "acpi_header", errSecretOverlap},
		{"line break forging a password line", func(t *testing.T) []byte {
			return marshal(t, func(tab *Table) { tab.Targets[0].Name = "iqn.2025-01.test:a\nnode.session.auth.password = x" })
		}, "target0", "target_name", `\n`, core.ErrBadName},
		{"initiator name with a space", func(t *testing.T) []byte {
			return marshal(t, func(tab *Table) { tab.Initiator.Name = "iqn.2025-01.test:full init" })
		}, "initiator", "initiator_name", "not allowed", core.ErrBadName},
		{"target name not an iSCSI name", func(t *testing.T) []byte {
			return marshal(t, func(tab *Table) { tab.Targets[1].Name = "disk-b" })
		}, "target1", "target_name", "disk-b", core.ErrBadName},
		{"escape in the chap name", func(t *testing.T) []byte {
			return marshal(t, func(tab *Table) { tab.Targets[1].CHAPName = "user\x1b[2J" })
		}, "target1", "chap_name", `\x1b[2J`, errUnprintable},
		{"line break in the reverse chap name", func(t *testing.T) []byte {
			return marshal(t, func(tab *Table) { tab.Targets[1].ReverseCHAPName = "target-b\nnode.session.auth.password_in = x" })
		}, "target1", "reverse_chap_name", `\n`, errUnprintable},
		{"NUL inside the hostname", func(t *testing.T) []byte {
			return marshal(t, func(tab *Table) { tab.NICs[0].Hostname = "boot\x00box" })
		}, "nic0", "hostname", `\x00`, errUnprintable},
		{"invalid UTF-8 in the hostname", func(t *testing.T) []byte {
			return marshal(t, func(tab *Table) { tab.NICs[0].Hostname = "boot\xffbox" })
		}, "nic0", "hostname", `\xff`, errUnprintable},
		{"bell in the chap secret", func(t *testing.T) []byte {
			return marshal(t, func(tab *Table) { tab.Targets[1].CHAPSecret = "secret-b\a-123" })
		}, "target1", "chap_secret", "<redacted>", errUnprintable},
		{"line break in the reverse secret", func(t *testing.T) []byte {
			return marshal(t, func(tab *Table) { tab.Targets[1].ReverseCHAPSecret = "rsecret-b-456\nx" })
		}, "target1", "reverse_chap_secret", "<redacted>", errUnprintable},
		{"escape in the OEM id", func(t *testing.T) []byte {
			return marshal(t, func(tab *Table) { tab.Header.OEMID = "\x1b[31m" })
		}, "acpi_header", "oem_id", `\x1b[31m`, errUnprintable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.table(t)
			tab, err := Parse(b)
			var fe *FormatError
			if tab != nil || !errors.As(err, &fe) || !errors.Is(err, tt.err) {
				t.Fatalf("Parse() = %v, want a *FormatError wrapping %v", err, tt.err)
			}
			if fe.Structure != tt.structure || fe.Field != tt.field {
				t.Errorf("error names %s.%s, want %s.%s", fe.Structure, fe.Field, tt.structure, tt.field)
			}
			msg := err.Error()
			if !esc.Printable(msg) || !strings.Contains(msg, tt.structure+"."+tt.field) || !strings.Contains(msg, tt.want) {
				t.Errorf("message %q: want one printable line naming %s.%s and %q", msg, tt.structure, tt.field, tt.want)
			}
			for _, s := range []string{"secret-b", "b-123", "b-456"} {
				if strings.Contains(msg, s) {
					t.Errorf("message %q shows a CHAP secret", msg)
				}
			}
		})
	}
}

// TestParseTargetFlagsDecide: the target's flags decide whether its
// address is checked. A target whose flags are clear is skipped by every
// reader and may have none; either flag bit alone puts it in use (some
// firmware sets only boot-selected), and then it needs one. VLAN 4094,
// the last id there is, passes.
func TestParseTargetFlagsDecide(t *testing.T) {
	for _, tc := range []struct {
		flags Flags
		ok    bool
	}{{0, true}, {FlagBootSelected, false}, {FlagBlockValid, false}} {
		tab := fullTable()
		tab.Targets[1].Flags = tc.flags
		tab.Targets[1].IP = netip.Addr{}
		tab.NICs[0].VLAN = 4094
		b, err := tab.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(b)
		if !tc.ok {
			if !errors.Is(err, errTargetAddr) || !strings.Contains(err.Error(), "target1.ip_addr") {
				t.Errorf("flags 0x%x: Parse() = %v, want target1.ip_addr refused", uint8(tc.flags), err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("flags 0x%x: %v", uint8(tc.flags), err)
		}
		if bt := got.BootTargets(); len(bt) != 1 || bt[0].Name != "iqn.2025-01.test:disk-a" || bt[0].NIC.VLAN != 4094 {
			t.Errorf("boot targets %+v, want disk-a alone on VLAN 4094", bt)
		}
	}
}
