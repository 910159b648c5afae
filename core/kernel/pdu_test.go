package kernel

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// bhs returns a 48-byte Basic Header Segment (RFC 7143, Section 11.2.1)
// with opcode op, TotalAHSLength ahsWords and DataSegmentLength dl.
func bhs(op byte, ahsWords byte, dl int) []byte {
	b := make([]byte, bhsLen)
	b[0] = op
	b[4] = ahsWords
	b[5], b[6], b[7] = byte(dl>>16), byte(dl>>8), byte(dl)
	for i := 8; i < bhsLen; i++ {
		b[i] = byte(i)
	}
	return b
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

func TestSplitPDU(t *testing.T) {
	data := []byte("TargetPortalGroupTag=1\x00")
	tests := []struct {
		name     string
		in       []byte
		hdr      []byte
		data     []byte
		wantErr  bool
		errorHas string
	}{{
		name: "login response with text",
		in:   cat(bhs(0x23, 0, len(data)), data),
		hdr:  bhs(0x23, 0, len(data)),
		data: data,
	}, {
		// The kernel sizes the netlink message with nlmsg_total_size, so up
		// to 3 bytes of padding follow the data segment.
		name: "netlink padding after the data",
		in:   cat(bhs(0x23, 0, len(data)), data, []byte{0}),
		hdr:  bhs(0x23, 0, len(data)),
		data: data,
	}, {
		name: "no data segment",
		in:   bhs(0x3f, 0, 0),
		hdr:  bhs(0x3f, 0, 0),
		data: []byte{},
	}, {
		// iscsi_recv_pdu passes up the 48-byte BHS and the data only:
		// a TotalAHSLength in the header does not move the data.
		name: "no AHS after the BHS, whatever TotalAHSLength says",
		in:   cat(bhs(0x23, 2, 3), []byte("abc")),
		hdr:  bhs(0x23, 2, 3),
		data: []byte("abc"),
	}, {
		name:     "shorter than a BHS",
		in:       bhs(0x23, 0, 0)[:47],
		wantErr:  true,
		errorHas: "RECV_PDU of 47 bytes",
	}, {
		name:     "data segment cut short",
		in:       cat(bhs(0x23, 0, len(data)), data[:10]),
		wantErr:  true,
		errorHas: "header says 71",
	}, {
		name:     "largest DataSegmentLength",
		in:       cat(bhs(0x23, 255, 0xffffff), []byte("x")),
		wantErr:  true,
		errorHas: "header says 16777263",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr, got, err := splitPDU(tt.in)
			if tt.wantErr {
				if !errors.Is(err, errBadPDU) || !bytes.Contains([]byte(err.Error()), []byte(tt.errorHas)) {
					t.Fatalf("splitPDU = %v, want %v mentioning %q", err, errBadPDU, tt.errorHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("splitPDU: %v\n%s", err, hex.Dump(tt.in))
			}
			if diff := cmp.Diff(tt.hdr, hdr); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.data, got); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzUevent feeds what the kernel could send: any bytes as a netlink
// payload. Decoding never panics, re-encodes to the same bytes (but for
// padding), and a
// RECV_PDU's header and data are cut from within the bytes after the
// struct, exactly as long as the BHS says.
func FuzzUevent(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Uevent
		if err := e.UnmarshalBinary(b); err != nil {
			if len(b) >= UeventLen || !errors.Is(err, errShortUevent) {
				t.Fatalf("UnmarshalBinary(%d bytes) = %v", len(b), err)
			}
			return
		}
		back, err := e.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		// The struct's tail padding after union r (4 bytes on i386, none
		// elsewhere) is not kept.
		want := bytes.Clone(b)
		clear(want[r+16 : UeventLen])
		if !bytes.Equal(back, want) {
			t.Fatalf("round trip\ngot:\n%swant:\n%s", hex.Dump(back), hex.Dump(want))
		}
		_ = e.Type.String()
		_ = e.ConnErrorCode().String()
		_ = e.ConnLoginState().String()

		x := e.Extra
		hdr, data, err := splitPDU(x)
		if len(x) < bhsLen {
			if !errors.Is(err, errBadPDU) {
				t.Fatalf("splitPDU(%d bytes) = %v, want %v", len(x), err, errBadPDU)
			}
			return
		}
		hl := bhsLen
		dl := int(x[5])<<16 | int(x[6])<<8 | int(x[7])
		if hl+dl > len(x) {
			if !errors.Is(err, errBadPDU) {
				t.Fatalf("splitPDU of %d bytes, header says %d+%d: err = %v, want %v", len(x), hl, dl, err, errBadPDU)
			}
			return
		}
		if err != nil {
			t.Fatalf("splitPDU: %v", err)
		}
		if len(hdr) != hl || len(data) != dl {
			t.Fatalf("splitPDU lengths %d+%d, header says %d+%d", len(hdr), len(data), hl, dl)
		}
		if !bytes.Equal(hdr, x[:hl]) || !bytes.Equal(data, x[hl:hl+dl]) {
			t.Fatalf("splitPDU does not cut the input in place:\nhdr:\n%sdata:\n%s", hex.Dump(hdr), hex.Dump(data))
		}
	})
}
