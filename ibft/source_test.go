package ibft

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/internal/esc"
)

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ipxeSysfs builds the fixture's /sys/firmware/ibft under root from the
// "find /sys/firmware/ibft" section of ipxe-ibft.txt, device link included.
func ipxeSysfs(t *testing.T, root string) {
	t.Helper()
	for _, l := range fixtureSection(t, "find /sys/firmware/ibft -type f | sort | xargs grep -H .") {
		if i := strings.Index(l, " -> "); i >= 0 {
			link := l[strings.LastIndex(l[:i], " ")+1 : i]
			p := filepath.Join(root, link)
			if err := os.Symlink(l[i+4:], p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		path, value, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("fixture line %q", l)
		}
		// The kernel ends values with a newline, except subnet-mask.
		if !strings.HasSuffix(path, "subnet-mask") {
			value += "\n"
		}
		writeFile(t, filepath.Join(root, path), []byte(value))
	}
}

func TestLoadACPI(t *testing.T) {
	for _, sig := range Signatures {
		t.Run(sig, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, filepath.Join(root, "sys/firmware/acpi/tables", sig), readFixture(t))
			tab, err := Load(context.Background(), WithRoot(root))
			if err != nil {
				t.Fatal(err)
			}
			want := Source{Kind: SourceACPI, Path: "/sys/firmware/acpi/tables/" + sig}
			if tab.Source != want {
				t.Errorf("source %v, want %v", tab.Source, want)
			}
			tab.Source = Source{}
			if d := cmp.Diff(ipxeTable(), tab, cmpOpts...); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestLoadMemory puts the fixture where iPXE put it (0x9e620) in a fake
// /dev/mem, behind a corrupt ACPI table that must be passed over.
func TestLoadMemory(t *testing.T) {
	root := t.TempDir()
	bad := readFixture(t)
	bad[100] ^= 1
	writeFile(t, filepath.Join(root, "sys/firmware/acpi/tables/iBFT"), bad)
	mem := make([]byte, scanEnd)
	copy(mem[0x9e620:], readFixture(t))
	writeFile(t, filepath.Join(root, "dev/mem"), mem)
	tab, err := Load(context.Background(), WithRoot(root))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Source{Kind: SourceMemory, Path: "/dev/mem", Offset: 0x9e620}); tab.Source != want {
		t.Errorf("source %v, want %v", tab.Source, want)
	}
}

func TestScan(t *testing.T) {
	fx := readFixture(t)
	tests := []struct {
		name    string
		place   map[int][]byte // physical address -> bytes
		wantOff int64
		wantErr error
	}{
		{"table at the window start", map[int][]byte{scanStart: fx}, scanStart, nil},
		{"table in the last bytes", map[int][]byte{scanEnd - 560: fx}, scanEnd - 560, nil},
		{"decoy signature first", map[int][]byte{0x90000: []byte("iBFT garbage"), 0xa0000: fx}, 0xa0000, nil},
		{"off a 16-byte boundary", map[int][]byte{0x90008: fx}, 0, errNoSignature},
		{"below the window", map[int][]byte{0x70000: fx}, 0, errNoSignature},
		{"only a corrupt table", map[int][]byte{0x90000: fx[:300]}, 0x90000, errChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := make([]byte, scanEnd)
			for at, b := range tt.place {
				copy(mem[at:], b)
			}
			tab, off, err := Scan(context.Background(), bytes.NewReader(mem))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || off != tt.wantOff {
					t.Fatalf("Scan() = 0x%x, %v, want 0x%x, %v", off, err, tt.wantOff, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if off != tt.wantOff || tab.Targets[0].Name != "iqn.2025-01.test:disk1" {
				t.Errorf("found at 0x%x, want 0x%x", off, tt.wantOff)
			}
		})
	}
}

func TestScanCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Scan(ctx, bytes.NewReader(make([]byte, scanEnd))); !errors.Is(err, context.Canceled) {
		t.Fatalf("Scan() = %v, want context.Canceled", err)
	}
}

func TestLoadSysfs(t *testing.T) {
	root := t.TempDir()
	ipxeSysfs(t, root)
	tab, err := Load(context.Background(), WithRoot(root), WithMemory(bytes.NewReader(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Source{Kind: SourceSysfs, Path: "/sys/firmware/ibft"}); tab.Source != want {
		t.Errorf("source %v, want %v", tab.Source, want)
	}
	tab.Source = Source{}
	if d := cmp.Diff(ipxeTable(), tab, cmpOpts...); d != "" {
		t.Errorf("sysfs view differs from the raw table (-want +got):\n%s", d)
	}
}

func TestLoadSysfsAmbiguousLUN(t *testing.T) {
	root := t.TempDir()
	ipxeSysfs(t, root)
	// 01 10 00 ... and 00 01 00 00 ... with a 0x10 both print this way.
	writeFile(t, filepath.Join(root, "sys/firmware/ibft/target0/lun"), []byte("0110000000\n"))
	_, err := Load(context.Background(), WithRoot(root), WithMemory(bytes.NewReader(nil)))
	var fe *FormatError
	if !errors.As(err, &fe) || !errors.Is(err, errLUN) || fe.Field != "lun" || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load() = %v, want a not-found error carrying the lun FormatError", err)
	}
}

func TestLoadOffload(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "sys/firmware/iscsi_boot3")
	for name, value := range map[string]string{
		"initiator/initiator-name": "iqn.2025-01.test:hba",
		"initiator/isid":           "400001370000",
		"ethernet0/index":          "0",
		"ethernet0/flags":          "3",
		"ethernet0/mac":            "00:0e:1e:00:00:01",
		"ethernet0/ip-addr":        "192.0.2.7",
		"ethernet0/origin":         "1",
		"target0/index":            "0",
		"target0/flags":            "3",
		"target0/ip-addr":          "192.0.2.9",
		"target0/port":             "3260",
		"target0/lun":              "00000000",
		"target0/nic-assoc":        "0",
		"target0/target-name":      "iqn.2025-01.test:hba-disk",
		"target0/chap-name":        "hbauser",
		"target0/chap-secret":      "hba-secret-1",
	} {
		writeFile(t, filepath.Join(dir, name), []byte(value+"\n"))
	}
	writeFile(t, filepath.Join(root, "sys/class/scsi_host/host3/proc_name"), []byte("qla4xxx\n"))
	tab, err := Load(context.Background(), WithRoot(root), WithMemory(bytes.NewReader(nil)))
	if err != nil {
		t.Fatal(err)
	}
	want := &Table{
		Initiator: &Initiator{Name: "iqn.2025-01.test:hba", ISID: "400001370000"},
		NICs:      []NIC{{Flags: 3, IP: mustAddr("192.0.2.7"), Origin: OriginManual, MAC: mustMAC("00:0e:1e:00:00:01")}},
		Targets: []Target{{
			Flags: 3, IP: mustAddr("192.0.2.9"), Port: 3260, Name: "iqn.2025-01.test:hba-disk",
			CHAPName: "hbauser", CHAPSecret: "hba-secret-1",
		}},
		Source:    Source{Kind: SourceOffload, Path: "/sys/firmware/iscsi_boot3"},
		Transport: "qla4xxx",
	}
	if d := cmp.Diff(want, tab, cmpOpts...); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestLoadNothing(t *testing.T) {
	_, err := Load(context.Background(), WithRoot(t.TempDir()))
	var se *SourceError
	if !errors.As(err, &se) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load() = %v, want *SourceError wrapping ErrNotFound", err)
	}
	var kinds []string
	for _, a := range se.Tried {
		kinds = append(kinds, a.Source.Kind)
	}
	want := []string{SourceACPI, SourceACPI, SourceACPI, SourceMemory, SourceSysfs, SourceOffload}
	if d := cmp.Diff(want, kinds); d != "" {
		t.Errorf("tried (-want +got):\n%s", d)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "/dev/mem") {
		t.Errorf("message %q: want one line naming every source", msg)
	}
}

// TestLoadCorruptMemory: the only table is in low memory with a bad
// checksum (the kernel refuses such a table, so there is no sysfs view).
// The one-line error leads with that table, its address and the checksum,
// not with "not found".
func TestLoadCorruptMemory(t *testing.T) {
	root := t.TempDir()
	mem := make([]byte, scanEnd)
	copy(mem[0xc4020:], readFixture(t))
	mem[0xc4020+offChecksum] ^= 0x5a
	_, err := Load(context.Background(), WithRoot(root), WithMemory(bytes.NewReader(mem)))
	var fe *FormatError
	if !errors.As(err, &fe) || !errors.Is(err, errChecksum) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load() = %v, want a not-found error carrying the checksum FormatError", err)
	}
	msg := err.Error()
	const want = "ibft: corrupt table in memory /dev/mem at 0xc4020: acpi_header.checksum = "
	if !strings.HasPrefix(msg, want) || !strings.Contains(msg, "checksum mismatch (want ") ||
		!strings.Contains(msg, "; no other table; acpi /sys/firmware/acpi/tables/iBFT: not present") || strings.Contains(msg, "\n") {
		t.Errorf("message %q: want one line starting %q", msg, want)
	}
}

func TestLoadCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Load(ctx, WithRoot(t.TempDir())); !errors.Is(err, context.Canceled) {
		t.Fatalf("Load() = %v, want context.Canceled", err)
	}
}

func TestReadFile(t *testing.T) {
	tab, err := ReadFile("testdata/ipxe-ibft.bin")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Source{Kind: SourceFile, Path: "testdata/ipxe-ibft.bin"}); tab.Source != want {
		t.Errorf("source %v", tab.Source)
	}
	p := filepath.Join(t.TempDir(), "short.bin")
	writeFile(t, p, readFixture(t)[:20])
	if _, err := ReadFile(p); !errors.Is(err, errShort) || !strings.Contains(err.Error(), p) {
		t.Errorf("ReadFile(short) = %v, want errShort naming the file", err)
	}
}

// TestLoadCorruptRawSkipsSysfs: a corrupt ACPI table next to the
// kernel's /sys/firmware/ibft view of it (whatever parts the kernel kept)
// is an error naming the corruption, not a boot from the partial view.
func TestLoadCorruptRawSkipsSysfs(t *testing.T) {
	root := t.TempDir()
	raw := readFixture(t)
	nic := int(raw[58]) | int(raw[59])<<8 // nic0_off in the control structure
	raw[nic+2] = 100
	var sum byte
	for _, b := range raw {
		sum += b
	}
	raw[9] -= sum // keep the checksum right, as QEMU's -acpitable does
	writeFile(t, filepath.Join(root, "sys/firmware/acpi/tables/iBFT"), raw)
	ipxeSysfs(t, root)
	_, err := Load(context.Background(), WithRoot(root), WithMemory(bytes.NewReader(nil)))
	var fe *FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "nic0.length = 100") {
		t.Fatalf("err %v, want the corrupt NIC length", err)
	}
}

// TestReadFileTooBig: a file larger than any table is refused after
// MaxTableLen+1 bytes, so that --ibft /dev/zero or a huge file cannot
// exhaust memory; the one-line error names the file and the bound.
func TestReadFileTooBig(t *testing.T) {
	dir := t.TempDir()
	fits := filepath.Join(dir, "fits.bin")
	writeFile(t, fits, append(readFixture(t), make([]byte, MaxTableLen-len(readFixture(t)))...))
	if _, err := ReadFile(fits); err != nil {
		t.Fatalf("ReadFile(%d bytes) = %v, want the table", MaxTableLen, err)
	}
	big := filepath.Join(dir, "big.bin")
	writeFile(t, big, append(readFixture(t), make([]byte, MaxTableLen+1-len(readFixture(t)))...))
	for _, p := range []string{big, "/dev/zero"} {
		tab, err := ReadFile(p)
		var fe *FormatError
		if tab != nil || !errors.As(err, &fe) || !errors.Is(err, errTableSize) {
			t.Fatalf("ReadFile(%s) = %v, want a *FormatError wrapping errTableSize", p, err)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, p+": ") || !strings.Contains(msg, "65536") {
			t.Errorf("message %q: want one line naming %s and the bound", msg, p)
		}
	}
}

// TestLoadACPITooBig: an ACPI table file larger than any iBFT is a corrupt
// table, not one parsed from its first bytes.
func TestLoadACPITooBig(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "sys/firmware/acpi/tables/iBFT"), append(readFixture(t), make([]byte, MaxTableLen)...))
	_, err := Load(context.Background(), WithRoot(root), WithMemory(bytes.NewReader(nil)))
	if !errors.Is(err, errTableSize) || !strings.HasPrefix(err.Error(), "ibft: corrupt table in acpi /sys/firmware/acpi/tables/iBFT: file.size = ") {
		t.Fatalf("Load() = %v, want the oversized ACPI table as the corrupt one", err)
	}
}

// TestLoadSysfsHugeAttribute: a sysfs attribute is read up to a bound, and
// a longer one fails the directory naming the attribute.
func TestLoadSysfsHugeAttribute(t *testing.T) {
	root := t.TempDir()
	ipxeSysfs(t, root)
	writeFile(t, filepath.Join(root, "sys/firmware/ibft/target0/target-name"), bytes.Repeat([]byte("a"), maxAttrLen+1))
	_, err := Load(context.Background(), WithRoot(root), WithMemory(bytes.NewReader(nil)))
	var fe *FormatError
	if !errors.As(err, &fe) || !errors.Is(err, errFileSize) || fe.Field != "target-name" || !strings.Contains(err.Error(), "4096") {
		t.Fatalf("Load() = %v, want the oversized target-name named", err)
	}
}

// TestLoadSysfsHostileStrings: the kernel prints a table string as it is,
// line breaks and escapes included; the sysfs view checks its strings as
// Parse does, and never shows a secret.
func TestLoadSysfsHostileStrings(t *testing.T) {
	tests := []struct {
		file, value string
		err         error
		want        string
	}{
		{"target0/target-name", "iqn.2025-01.test:disk1\nnode.session.auth.password = x\n", core.ErrBadName, `target0.target-name = "iqn.2025-01.test:disk1\nnode`},
		{"initiator/initiator-name", "iqn.2025-01.test:init\x1b[2J\n", core.ErrBadName, `initiator.initiator-name = "iqn.2025-01.test:init\x1b[2J"`},
		{"target0/chap-name", "alice\rbob\n", errUnprintable, `target0.chap-name = "alice\rbob"`},
		{"target0/chap-secret", "hba-secret-1\x00\n", errUnprintable, "target0.chap-secret = <redacted>"},
		{"ethernet0/hostname", "box\x07\n", errUnprintable, `ethernet0.hostname = "box\a"`},
		{"acpi_header/oem_id", "FEN\x1bSYS\n", errUnprintable, `acpi_header.oem_id = "FEN\x1bSYS"`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			root := t.TempDir()
			ipxeSysfs(t, root)
			writeFile(t, filepath.Join(root, "sys/firmware/ibft", tt.file), []byte(tt.value))
			tab, err := Load(context.Background(), WithRoot(root), WithMemory(bytes.NewReader(nil)))
			var fe *FormatError
			if tab != nil || !errors.As(err, &fe) || !errors.Is(err, tt.err) {
				t.Fatalf("Load() = %v, want a *FormatError wrapping %v", err, tt.err)
			}
			msg := err.Error()
			if !esc.Printable(msg) || !strings.Contains(msg, tt.want) || strings.Contains(msg, "hba-secret") {
				t.Errorf("message %q: want one printable line with %q", msg, tt.want)
			}
		})
	}
}

// TestLoadSysfsBadValues: the sysfs view refuses a VLAN id above 4094 and
// a target in use without an address, as Parse does.
func TestLoadSysfsBadValues(t *testing.T) {
	tests := []struct {
		file, value, want string
		err               error
	}{
		{"ethernet0/vlan", "65535\n", `ethernet0.vlan = "65535"`, errVLAN},
		{"target0/ip-addr", "0.0.0.0\n", `target0.ip-addr = "0.0.0.0"`, errTargetAddr},
		{"target0/ip-addr", "::\n", `target0.ip-addr = "::"`, errTargetAddr},
	}
	for _, tt := range tests {
		t.Run(tt.file+"="+strings.TrimSpace(tt.value), func(t *testing.T) {
			root := t.TempDir()
			ipxeSysfs(t, root)
			writeFile(t, filepath.Join(root, "sys/firmware/ibft", tt.file), []byte(tt.value))
			_, err := Load(context.Background(), WithRoot(root), WithMemory(bytes.NewReader(nil)))
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load() = %v, want %q wrapping %v", err, tt.want, tt.err)
			}
		})
	}
}

// TestLoadSysfsIPv6: the kernel's view (drivers/firmware/iscsi_ibft.c) of
// a table whose NIC and target are IPv6, as a Debian 6.1 guest printed it
// in qemu-tests' TestFirmwareIPv6: addresses as %pI6, every group in
// full, and a subnet-mask computed as if the prefix were IPv4's
// (255.255.255.255 for /64). The prefix comes from prefix-len, never
// from subnet-mask.
func TestLoadSysfsIPv6(t *testing.T) {
	root := t.TempDir()
	for name, value := range map[string]string{
		"initiator/initiator-name": "iqn.2025-01.test:init\n",
		"initiator/flags":          "3\n",
		"initiator/index":          "0\n",
		"ethernet0/index":          "0\n",
		"ethernet0/flags":          "3\n",
		"ethernet0/ip-addr":        "fec0:0000:0000:0000:0000:0000:0000:0015\n",
		"ethernet0/prefix-len":     "64\n",
		"ethernet0/subnet-mask":    "255.255.255.255",
		"ethernet0/origin":         "1\n",
		"ethernet0/gateway":        "fec0:0000:0000:0000:0000:0000:0000:0002\n",
		"ethernet0/primary-dns":    "fec0:0000:0000:0000:0000:0000:0000:0003\n",
		"ethernet0/vlan":           "0\n",
		"ethernet0/mac":            "52:54:00:12:34:56\n",
		"target0/index":            "0\n",
		"target0/flags":            "3\n",
		"target0/ip-addr":          "fec0:0000:0000:0000:0000:0000:0000:0002\n",
		"target0/port":             "3260\n",
		"target0/lun":              "01000000\n",
		"target0/nic-assoc":        "0\n",
		"target0/chap-type":        "0\n",
		"target0/target-name":      "iqn.2025-01.test:disk1\n",
	} {
		writeFile(t, filepath.Join(root, "sys/firmware/ibft", name), []byte(value))
	}
	tab, err := Load(context.Background(), WithRoot(root), WithMemory(bytes.NewReader(nil)))
	if err != nil {
		t.Fatal(err)
	}
	bt := tab.BootTargets()
	if len(bt) != 1 || bt[0].NIC == nil {
		t.Fatalf("boot targets %+v, want one with its NIC", bt)
	}
	got := []string{bt[0].NIC.Address.String(), bt[0].NIC.Gateway.String(), bt[0].Addr.String()}
	if d := cmp.Diff([]string{"fec0::15/64", "fec0::2", "fec0::2"}, got); d != "" {
		t.Errorf("NIC address, gateway, target (-want +got):\n%s", d)
	}
}
