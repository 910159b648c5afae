package core

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestLoginRequestGolden checks every field offset of a Login Request
// against RFC 7143, Section 11.12, byte by byte.
func TestLoginRequestGolden(t *testing.T) {
	m := &LoginRequest{Transit: true, CSG: StageSecurity, NSG: StageOperational, VersionMax: 0, VersionMin: 0,
		ISID: ISID(0x010203), TSIH: 0x0a0b, ITT: 0x11223344, CID: 0x0102, CmdSN: 0x55667788, ExpStatSN: 0x99aabbcc,
		Data: []byte("InitiatorName=iqn.x\x00")}
	got, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 48)
	want[0] = 0x43                                            // I=1, opcode 0x03
	want[1] = 0x81                                            // T=1, CSG=0, NSG=1
	want[5], want[6], want[7] = 0, 0, 20                      // DataSegmentLength
	copy(want[8:], []byte{0x00, 0x02, 0x3d, 1, 2, 3})         // ISID, open-iscsi OUI
	copy(want[14:], []byte{0x0a, 0x0b})                       // TSIH
	copy(want[16:], []byte{0x11, 0x22, 0x33, 0x44})           // ITT
	copy(want[20:], []byte{0x01, 0x02})                       // CID
	copy(want[24:], []byte{0x55, 0x66, 0x77, 0x88})           // CmdSN
	copy(want[28:], []byte{0x99, 0xaa, 0xbb, 0xcc})           // ExpStatSN
	want = append(want, []byte("InitiatorName=iqn.x\x00")...) // 20 bytes: no padding
	if !bytes.Equal(got, want) {
		t.Errorf("wire bytes differ\ngot:\n%s\nwant:\n%s", hex.Dump(got), hex.Dump(want))
	}
	var back LoginRequest
	if err := back.UnmarshalBinary(got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*m, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestLoginResponseGolden(t *testing.T) {
	// A response as tgtd sends it: T=1 CSG=1 NSG=3, status 0x0201.
	b := make([]byte, 48)
	b[0], b[1] = 0x23, 0x87
	copy(b[8:], []byte{0, 2, 0x3d, 0, 0, 1})
	b[14], b[15] = 0x00, 0x05
	b[19] = 9
	b[27] = 3  // StatSN
	b[31] = 4  // ExpCmdSN
	b[35] = 20 // MaxCmdSN
	b[36], b[37] = 0x02, 0x01
	var r LoginResponse
	if err := r.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	want := LoginResponse{Transit: true, CSG: StageOperational, NSG: StageFullFeature, ISID: ISID(1), TSIH: 5, ITT: 9,
		StatSN: 3, ExpCmdSN: 4, MaxCmdSN: 20, StatusClass: 2, StatusDetail: 1}
	if diff := cmp.Diff(want, r, cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	again, _ := r.MarshalBinary()
	if !bytes.Equal(again, b) {
		t.Errorf("re-encode differs:\n%s", hex.Dump(again))
	}
}

func TestPaddingAndLengths(t *testing.T) {
	p := (&TextRequest{Final: true, ITT: 1, TTT: reservedTag, Data: []byte("SendTargets=All\x00")[:15]}).Encode()
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 48+16 {
		t.Fatalf("length %d, want 64 (15 bytes of data padded to 16)", len(b))
	}
	if p.DataSegmentLength() != 15 {
		t.Errorf("DataSegmentLength %d, want 15 (padding is not counted)", p.DataSegmentLength())
	}
	var q PDU
	if err := q.UnmarshalBinary(b[:60]); err == nil {
		t.Error("truncated PDU accepted")
	}
}

// TestCRC32C checks the digest against RFC 3720, Appendix B.4.
func TestCRC32C(t *testing.T) {
	inc := make([]byte, 32)
	dec := make([]byte, 32)
	ones := bytes.Repeat([]byte{0xff}, 32)
	for i := range inc {
		inc[i] = byte(i)
		dec[i] = byte(31 - i)
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"32 zeros", make([]byte, 32), "aa36918a"},
		{"32 ones", ones, "43aba862"},
		{"incrementing", inc, "4e79dd46"},
		{"decrementing", dec, "5cdb3f11"},
	} {
		d := crc32c(tc.in)
		if got := hex.EncodeToString(d[:]); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestLUNEncoding(t *testing.T) {
	for _, tc := range []struct {
		lun  uint64
		wire string
	}{
		{0, "0000000000000000"},
		{1, "0001000000000000"},
		{255, "00ff000000000000"},
		{256, "4100000000000000"},
		{16383, "7fff000000000000"},
	} {
		b := EncodeLUN(tc.lun)
		if got := hex.EncodeToString(b[:]); got != tc.wire {
			t.Errorf("EncodeLUN(%d) = %s, want %s", tc.lun, got, tc.wire)
		}
		if back := DecodeLUN(b); back != tc.lun {
			t.Errorf("DecodeLUN(%s) = %d, want %d", tc.wire, back, tc.lun)
		}
	}
}

func TestDecodeEveryOpcode(t *testing.T) {
	msgs := []Message{
		&LoginRequest{ITT: 1}, &LoginResponse{ITT: 1}, &TextRequest{ITT: 1}, &TextResponse{ITT: 1},
		&LogoutRequest{ITT: 1}, &LogoutResponse{ITT: 1}, &NOPOut{ITT: 1}, &NOPIn{ITT: 1}, &Reject{Reason: 9},
		&AsyncMessage{AsyncEvent: 1}, &SCSICommand{ITT: 1, Read: true}, &SCSIResponse{ITT: 1, Status: 2},
		&DataIn{ITT: 1, HasStatus: true},
	}
	for _, m := range msgs {
		p := m.Encode()
		got, err := Decode(p)
		if err != nil {
			t.Errorf("%s: %v", p.Opcode(), err)
			continue
		}
		if diff := cmp.Diff(m, got); diff != "" {
			t.Errorf("%s round trip (-want +got):\n%s", p.Opcode(), diff)
		}
	}
	var p PDU
	p.BHS[0] = byte(OpR2T)
	if _, err := Decode(&p); err == nil {
		t.Error("R2T decoded; an initiator that never writes must refuse it")
	}
}

func FuzzPDU(f *testing.F) {
	for _, m := range []Message{&LoginResponse{ITT: 1, Data: []byte("AuthMethod=None\x00")}, &TextResponse{Data: []byte("a=b\x00")}, &NOPIn{}} {
		b, _ := m.Encode().MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p PDU
		if err := p.UnmarshalBinary(b); err != nil {
			return
		}
		m, err := Decode(&p)
		if err != nil {
			return
		}
		again, err := m.Encode().MarshalBinary()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var q PDU
		if err := q.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		m2, err := Decode(&q)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if diff := cmp.Diff(m, m2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
