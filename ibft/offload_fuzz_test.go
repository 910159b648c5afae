package ibft

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
