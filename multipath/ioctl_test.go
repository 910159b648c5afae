//go:build linux && (386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm)

package multipath

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hexdump parses the golden bytes: hex digits, spaces and comments after
// "//" ignored.
func hexdump(t *testing.T, s string) []byte {
	t.Helper()
	var h strings.Builder
	for _, l := range strings.Split(s, "\n") {
		l, _, _ = strings.Cut(l, "//")
		h.WriteString(strings.Join(strings.Fields(l), ""))
	}
	b, err := hex.DecodeString(h.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHeaderLayout checks the offsets against x/sys/unix's DmIoctl, which
// is generated from the kernel's own header by cgo -godefs.
func TestHeaderLayout(t *testing.T) {
	var d unix.DmIoctl
	for _, c := range []struct {
		field     string
		got, want uintptr
	}{
		{"size", unsafe.Sizeof(d), HeaderLen},
		{"data_size", unsafe.Offsetof(d.Data_size), 12},
		{"data_start", unsafe.Offsetof(d.Data_start), 16},
		{"target_count", unsafe.Offsetof(d.Target_count), 20},
		{"open_count", unsafe.Offsetof(d.Open_count), 24},
		{"flags", unsafe.Offsetof(d.Flags), 28},
		{"event_nr", unsafe.Offsetof(d.Event_nr), 32},
		{"dev", unsafe.Offsetof(d.Dev), 40},
		{"name", unsafe.Offsetof(d.Name), 48},
		{"uuid", unsafe.Offsetof(d.Uuid), 176},
		{"target spec size", unsafe.Sizeof(unix.DmTargetSpec{}), TargetSpecLen},
		{"target_type", unsafe.Offsetof(unix.DmTargetSpec{}.Target_type), 24},
		{"next", unsafe.Offsetof(unix.DmTargetSpec{}.Next), 20},
	} {
		if c.got != c.want {
			t.Errorf("%s at %d, want %d", c.field, c.got, c.want)
		}
	}
}

// TestTableLoadGolden is the whole DM_TABLE_LOAD buffer for a two-path
// map, byte for byte.
func TestTableLoadGolden(t *testing.T) {
	params := "1 queue_if_no_path 0 1 1 service-time 0 2 2 8:0 1 1 8:16 1 1"
	data, err := marshalTargets([]Target{{Length: 131072, Type: "multipath", Params: params}})
	if err != nil {
		t.Fatal(err)
	}
	buf, err := request(Header{Name: "mpatha", TargetCount: 1}, data, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := hexdump(t, `
04000000 00000000 00000000 // version 4.0.0
a0010000                   // data_size 416 = 312 + 40 + 64
38010000                   // data_start 312
01000000                   // target_count 1
00000000 00000000 00000000 00000000 // open_count, flags, event_nr, padding
0000000000000000           // dev
6d7061746861`+strings.Repeat("00", 122)+` // name "mpatha"
`+strings.Repeat("00", 129)+` // uuid
00000000000000             // data[7]
0000000000000000           // sector_start 0
0000020000000000           // length 131072
00000000                   // status
68000000                   // next 104 = 40 + 60 bytes of parameters, their NUL, 3 bytes to 8
6d756c746970617468 00000000000000 // "multipath" in 16 bytes
`)
	want = append(want, []byte(params)...)
	want = append(want, 0, 0, 0, 0)
	if !bytes.Equal(buf, want) {
		t.Errorf("DM_TABLE_LOAD buffer:\n got %x\nwant %x", buf, want)
	}
	var h Header
	if err := h.UnmarshalBinary(buf); err != nil {
		t.Fatal(err)
	}
	if h.Name != "mpatha" || h.DataSize != 416 || h.DataStart != HeaderLen || h.TargetCount != 1 || h.Version != Version {
		t.Errorf("decoded %+v", h)
	}
	ts, err := parseTargets(buf[HeaderLen:], 1)
	if err != nil || len(ts) != 1 || ts[0].Params != params || ts[0].Type != "multipath" || ts[0].Length != 131072 {
		t.Errorf("targets %+v, %v", ts, err)
	}
}

func TestMessageGolden(t *testing.T) {
	buf, err := request(Header{Name: "m"}, messageData(0, "reinstate_path 8:16"), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := append(make([]byte, 8), "reinstate_path 8:16\x00"...)
	if got := buf[HeaderLen:]; !bytes.Equal(got, want) {
		t.Errorf("dm_target_msg %x, want %x", got, want)
	}
	if n := len(buf); n != HeaderLen+8+20 {
		t.Errorf("buffer %d bytes", n)
	}
}

func TestHeaderRefused(t *testing.T) {
	for _, h := range []Header{{Name: strings.Repeat("n", nameLen)}, {UUID: strings.Repeat("u", uuidLen)}} {
		if _, err := h.MarshalBinary(); !errors.Is(err, errName) {
			t.Errorf("%d-byte name, %d-byte uuid: %v", len(h.Name), len(h.UUID), err)
		}
	}
	if err := new(Header).UnmarshalBinary(make([]byte, HeaderLen-1)); !errors.Is(err, errShort) {
		t.Errorf("short header: %v", err)
	}
	for _, tg := range []Target{{Type: ""}, {Type: strings.Repeat("t", 16)}, {Type: "multipath", Params: "a\x00b"}} {
		if _, err := marshalTargets([]Target{tg}); !errors.Is(err, errTable) {
			t.Errorf("target %q %q: %v", tg.Type, tg.Params, err)
		}
	}
}

// TestParseTargetsStatus reads a DM_TABLE_STATUS reply with two specs,
// next counted from the first, and refuses one that loops or runs out.
func TestParseTargetsStatus(t *testing.T) {
	a, _ := marshalTargets([]Target{{Length: 8, Type: "linear", Params: "8:0 0"}})
	b, _ := marshalTargets([]Target{{Start: 8, Length: 8, Type: "multipath", Params: "0 0 1 1 A 0 1 0 8:0 A 0"}})
	// DM_TABLE_STATUS counts next from the first spec.
	binaryPut(b[20:], uint32(len(a)+len(b)))
	ts, err := parseTargets(append(a, b...), 2)
	if err != nil || len(ts) != 2 || ts[1].Type != "multipath" || ts[1].Start != 8 || ts[0].Params != "8:0 0" {
		t.Fatalf("%+v %v", ts, err)
	}
	binaryPut(a[20:], 0)
	if _, err := parseTargets(append(a, b...), 2); !errors.Is(err, errShort) {
		t.Errorf("looping next: %v", err)
	}
	if _, err := parseTargets(a[:30], 1); !errors.Is(err, errShort) {
		t.Errorf("cut spec: %v", err)
	}
}

func binaryPut(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
