package pid1

import (
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testUUID = []byte{0x0b, 0x1d, 0x2e, 0x3f, 0xaa, 0xaa, 0xbb, 0xbb, 0xcc, 0xcc, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33}

const testUUIDString = "0b1d2e3f-aaaa-bbbb-cccc-111122223333"

func ext4Image(label string) []byte {
	b := make([]byte, 4096)
	binary.LittleEndian.PutUint16(b[1024+0x38:], 0xef53)
	copy(b[1024+0x68:], testUUID)
	copy(b[1024+0x78:1024+0x88], label)
	return b
}

func xfsImage(label string) []byte {
	b := make([]byte, 512)
	copy(b, "XFSB")
	copy(b[32:], testUUID)
	copy(b[108:120], label)
	return b
}

func btrfsImage(label string) []byte {
	b := make([]byte, SuperblockReadLen)
	copy(b[0x10020:], testUUID)
	copy(b[0x10040:], "_BHRfS_M")
	copy(b[0x1012b:], label)
	return b
}

func TestParseSuperblock(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     []byte
		want   Superblock
		wantOK bool
	}{
		{"ext4", ext4Image("rootfs"), Superblock{Type: "ext4", UUID: testUUIDString, Label: "rootfs"}, true},
		{"ext4 label of 16", ext4Image("0123456789abcdef"), Superblock{Type: "ext4", UUID: testUUIDString, Label: "0123456789abcdef"}, true},
		{"xfs", xfsImage("root"), Superblock{Type: "xfs", UUID: testUUIDString, Label: "root"}, true},
		{"btrfs", btrfsImage("btr"), Superblock{Type: "btrfs", UUID: testUUIDString, Label: "btr"}, true},
		{"zeros", make([]byte, SuperblockReadLen), Superblock{}, false},
		{"ext4 truncated", ext4Image("x")[:1100], Superblock{}, false},
		{"empty", nil, Superblock{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseSuperblock(tc.in)
			if ok != tc.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tc.wantOK)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSuperblockMatches(t *testing.T) {
	sb := Superblock{Type: "ext4", UUID: testUUIDString, Label: "rootfs"}
	for _, tc := range []struct {
		root string
		want bool
	}{
		{"UUID=" + testUUIDString, true},
		{"UUID=0B1D2E3F-AAAA-BBBB-CCCC-111122223333", true},
		{"UUID=0b1d2e3f-aaaa-bbbb-cccc-111122223334", false},
		{"LABEL=rootfs", true},
		{"LABEL=ROOTFS", false},
		{"/dev/sda1", false},
	} {
		src, err := ParseSource(tc.root)
		if err != nil {
			t.Fatalf("%s: %v", tc.root, err)
		}
		if got := sb.Matches(src); got != tc.want {
			t.Errorf("root=%s: Matches = %v, want %v", tc.root, got, tc.want)
		}
	}
}

func FuzzParseSuperblock(f *testing.F) {
	f.Add(ext4Image("rootfs"))
	f.Add(xfsImage("root"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sb, ok := ParseSuperblock(b)
		if ok && (sb.Type == "" || len(sb.UUID) != 36) {
			t.Errorf("recognized %+v", sb)
		}
	})
}
