package ibft

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// FuzzParse feeds arbitrary bytes to Parse, as they are and with the
// checksum made right (else the fuzzer rarely gets past it). Whatever parses
// must marshal, parse back to the same table and marshal to the same bytes;
// the views built on a table must not panic; every string of the table
// must be printable and so every line of its records; and no CHAP secret
// may show through anything else (see secretsApart). Seeds are in
// testdata/fuzz/FuzzParse, hostile tables among them.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b)
		printable(t, b)
		secretsApart(t, b)
		if len(b) < HeaderLen {
			return
		}
		c := bytes.Clone(b)
		n := min(len(c), int(binary.LittleEndian.Uint32(c[offLength:])))
		c[offChecksum] -= checksum(c[:n])
		roundTrip(t, c)
		printable(t, c)
		secretsApart(t, c)
	})
}

// printable checks that a table Parse accepts holds only printable strings
// and prints records without a control byte, secrets shown or not, and
// that the error about one it refuses is a printable line.
func printable(t *testing.T, b []byte) {
	t.Helper()
	tab, err := Parse(b)
	if err != nil {
		if !esc.Printable(err.Error()) {
			t.Fatalf("error %q is not one printable line", err)
		}
		return
	}
	h := tab.Header
	strs := []string{h.Signature, h.OEMID, h.OEMTableID, h.CreatorID}
	if in := tab.Initiator; in != nil {
		strs = append(strs, in.Name, in.ISID)
	}
	for _, n := range tab.NICs {
		strs = append(strs, n.Hostname)
	}
	for _, tg := range tab.Targets {
		strs = append(strs, tg.Name, tg.CHAPName, tg.ReverseCHAPName)
		if !esc.Printable(string(tg.CHAPSecret)) || !esc.Printable(string(tg.ReverseCHAPSecret)) {
			t.Fatal("a CHAP secret is not printable")
		}
	}
	for _, s := range strs {
		if !esc.Printable(s) {
			t.Fatalf("table string %q is not printable", s)
		}
	}
	for _, show := range []bool{false, true} {
		var buf bytes.Buffer
		if err := WriteRecords(&buf, tab.Records(nil), show); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
			if !esc.Printable(line) {
				t.Fatalf("record line %q is not printable", line)
			}
		}
	}
}

// secretsApart checks that no CHAP secret of a table Parse accepts shows
// through anything but itself: with every secret's bytes in the raw table
// replaced by other printable bytes, the table must still parse, to the
// same table but for its secrets, and print the same records without
// secrets. A secret laid over a name, a MAC address or the header would
// change those.
func secretsApart(t *testing.T, b []byte) {
	t.Helper()
	tab, err := Parse(b)
	if err != nil {
		return
	}
	c := bytes.Clone(b[:binary.LittleEndian.Uint32(b[offLength:])])
	for _, at := range []int{offTarget0Off, offTarget1Off} {
		tgt := int(le16(c, HeaderLen+at))
		if tgt == 0 {
			continue
		}
		for _, field := range []int{offCHAPSecret, offRevCHAPSecret} {
			n, off := int(le16(c, tgt+field)), int(le16(c, tgt+field+2))
			for i := off; i < off+n; i++ {
				c[i] = 'a' + (c[i]-'a'+1)%26
			}
		}
	}
	c[offChecksum] -= checksum(c)
	again, err := Parse(c)
	if err != nil {
		t.Fatalf("with its secrets changed the table no longer parses: %v", err)
	}
	if d := cmp.Diff(withoutSecrets(tab), withoutSecrets(again), cmpOpts...); d != "" {
		t.Fatalf("changing the secrets changed the table (-before +after):\n%s", d)
	}
	var before, after bytes.Buffer
	if err := WriteRecords(&before, tab.Records(nil), false); err != nil {
		t.Fatal(err)
	}
	if err := WriteRecords(&after, again.Records(nil), false); err != nil {
		t.Fatal(err)
	}
	if before.String() != after.String() {
		t.Fatalf("changing the secrets changed the records:\n%s\n%s", before.String(), after.String())
	}
}

func withoutSecrets(tab *Table) *Table {
	c := *tab
	c.Targets = slices.Clone(tab.Targets)
	for i := range c.Targets {
		c.Targets[i].CHAPSecret, c.Targets[i].ReverseCHAPSecret = "", ""
	}
	return &c
}

func roundTrip(t *testing.T, b []byte) {
	t.Helper()
	tab, err := Parse(b)
	if err != nil {
		return
	}
	out, err := tab.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary of a parsed table: %v", err)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(MarshalBinary()) = %v", err)
	}
	if d := cmp.Diff(tab, again, cmpOpts...); d != "" {
		t.Fatalf("round trip (-first +second):\n%s", d)
	}
	out2, err := again.MarshalBinary()
	if err != nil || !bytes.Equal(out, out2) {
		t.Fatalf("second marshal differs (err %v)", err)
	}
	tab.BootTargets()
	if err := WriteRecords(io.Discard, tab.Records(nil), false); err != nil {
		t.Fatal(err)
	}
}

// FuzzSysfsLUN checks that a LUN string is decoded only when it is exactly
// what the kernel would print for the decoded bytes.
func FuzzSysfsLUN(f *testing.F) {
	for _, s := range []string{"01000000", "0100000000", "4012000000000", "ffffffffffffffff", "0", "0g000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, ok := parseSysfsLUN(s)
		if !ok {
			return
		}
		if got := l.sysfsString(); got != s {
			t.Fatalf("parseSysfsLUN(%q) = % x, which prints as %q", s, l[:], got)
		}
	})
}

// FuzzLUNBytes checks that a decoded sysfs LUN is never a different LUN.
func FuzzLUNBytes(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x40, 0x12, 0, 0x10, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 8 {
			return
		}
		l := LUN(b[:8])
		if got, ok := parseSysfsLUN(l.sysfsString()); ok && got != l {
			t.Fatalf("% x prints as %q, read back as % x", l[:], l.sysfsString(), got[:])
		}
		if LUNFromInt(l.Int()) != l {
			t.Fatalf("LUNFromInt(Int(% x)) differs", l[:])
		}
	})
}

// FuzzOffloadAttrs feeds an offload HBA's /sys/firmware/iscsi_boot<N>
// target and ethernet attributes (the names iscsi_boot_sysfs.c gives them,
// the values a broken or hostile flash could hold, a newline added as
// the kernel prints them) through Load. Whatever the bytes, the read
// never panics, fails in one line that names the file and never the
// secret, and a table it accepts holds names and strings that passed
// their checks; with a table the raw format can hold, marshaling it and
// parsing that gives the same target back.
func FuzzOffloadAttrs(f *testing.F) {
	f.Add("iqn.2025-01.test:hba-disk", "192.0.2.9", "3260", "", "2", "0", "hbauser", "hba-secret-1", "2", "")
	f.Add("iqn.2025-01.test:hba-disk", "::ffff:192.0.2.9", "65535", "01000000", "3", "0", "", "", "3", "00:0e:1e:00:00:01")
	f.Add("iqn.2025-01.test:evil\x1b[2J", "192.0.2.9\n", "99999", "0100000000", "2", "7", "a\x00b", "s\r\n", "2", "zz:zz")
	f.Add(strings.Repeat("x", 5000), "", "-1", "g", "256", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, name, ip, port, lun, flags, nicAssoc, chapName, chapSecret, ethFlags, mac string) {
		root := t.TempDir()
		dir := filepath.Join(root, "sys/firmware/iscsi_boot3")
		put := func(p, v string) {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, p), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for p, v := range map[string]string{
			"target0/target-name": name, "target0/ip-addr": ip, "target0/port": port, "target0/lun": lun,
			"target0/flags": flags, "target0/nic-assoc": nicAssoc, "target0/chap-name": chapName,
			"target0/chap-secret": chapSecret, "ethernet0/flags": ethFlags, "ethernet0/mac": mac,
			"initiator/initiator-name": "iqn.2025-01.test:hba",
		} {
			if v != "" {
				put(p, v)
			}
		}
		tab, err := Load(context.Background(), WithRoot(root), WithMemory(bytes.NewReader(nil)))
		if err != nil {
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Fatalf("error in more than one line: %q", msg)
			}
			if len(chapSecret) >= 4 && strings.Contains(msg, strings.TrimSpace(chapSecret)) && strings.TrimSpace(chapSecret) != "" &&
				!strings.Contains(name+ip+port+lun+flags+nicAssoc+chapName+ethFlags+mac, strings.TrimSpace(chapSecret)) {
				t.Fatalf("error shows the CHAP secret: %q", msg)
			}
			var fe *FormatError
			if errors.As(err, &fe) && !strings.Contains(msg, "iscsi_boot3") {
				t.Fatalf("error %q does not name the directory", msg)
			}
			return
		}
		if len(tab.Targets) != 1 {
			t.Fatalf("%d targets from one target directory", len(tab.Targets))
		}
		tg := tab.Targets[0]
		for field, s := range map[string]string{"target-name": tg.Name, "chap-name": tg.CHAPName} {
			if _, _, err := checkString(s, textString); err != nil {
				t.Fatalf("accepted %s %q: %v", field, s, err)
			}
		}
		raw, err := tab.MarshalBinary()
		if err != nil {
			return
		}
		back, err := Parse(raw)
		if err != nil {
			t.Fatalf("Parse(MarshalBinary(%+v)): %v", tg, err)
		}
		if len(back.Targets) != 1 {
			t.Fatalf("round trip: %d targets", len(back.Targets))
		}
		b := back.Targets[0]
		if b.Name != tg.Name || b.IP != tg.IP || b.Port != tg.Port || b.CHAPName != tg.CHAPName || b.CHAPSecret != tg.CHAPSecret || b.LUN != tg.LUN {
			t.Fatalf("round trip: %+v, want %+v", b, tg)
		}
	})
}
