package pid1

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// SuperblockReadLen is how many bytes from the start of a block device
// ParseSuperblock needs to recognize every file system it knows (btrfs keeps
// its superblock at 64 KiB).
const SuperblockReadLen = btrfsOff + 0x12b + btrfsLabelLen

// Superblock is what identifies a file system.
type Superblock struct {
	Type  string // the type to pass to mount(2): ext4, xfs, btrfs
	UUID  string // lower case, 8-4-4-4-12
	Label string
}

// Offsets from each file system's on-disk format documentation.
const (
	// ext2/3/4: the superblock is at 1024; s_magic 0xEF53 at 0x38, s_uuid
	// at 0x68, s_volume_name[16] at 0x78 (ext4 wiki, "Super Block").
	extOff      = 1024
	extMagic    = 0xef53
	extLabelLen = 16
	// XFS: at 0, "XFSB", sb_uuid at 32, sb_fname[12] at 108 (XFS
	// Algorithms & Data Structures, "Superblocks").
	xfsLabelLen = 12
	// btrfs: at 64 KiB, fsid at 0x20, magic "_BHRfS_M" at 0x40, label[256]
	// at 0x12b (btrfs docs, "On-disk format").
	btrfsOff      = 0x10000
	btrfsLabelLen = 256
)

// ParseSuperblock recognizes an ext2/3/4, XFS or btrfs file system from the
// first bytes of a block device. ok is false for anything else, including
// input too short to tell.
func ParseSuperblock(b []byte) (sb Superblock, ok bool) {
	switch {
	case len(b) >= extOff+0x78+extLabelLen && binary.LittleEndian.Uint16(b[extOff+0x38:]) == extMagic:
		s := b[extOff:]
		// The ext4 driver mounts ext2 and ext3 too.
		return Superblock{Type: "ext4", UUID: formatUUID(s[0x68:0x78]), Label: cString(s[0x78 : 0x78+extLabelLen])}, true
	case len(b) >= 108+xfsLabelLen && bytes.Equal(b[:4], []byte("XFSB")):
		return Superblock{Type: "xfs", UUID: formatUUID(b[32:48]), Label: cString(b[108 : 108+xfsLabelLen])}, true
	case len(b) >= SuperblockReadLen && bytes.Equal(b[btrfsOff+0x40:btrfsOff+0x48], []byte("_BHRfS_M")):
		s := b[btrfsOff:]
		return Superblock{Type: "btrfs", UUID: formatUUID(s[0x20:0x30]), Label: cString(s[0x12b : 0x12b+btrfsLabelLen])}, true
	}
	return Superblock{}, false
}

// Matches reports whether the file system is the one src names by UUID or
// label.
func (sb Superblock) Matches(src Source) bool {
	switch {
	case src.UUID != "":
		return sb.UUID == src.UUID
	case src.Label != "":
		return sb.Label == src.Label
	}
	return false
}

func formatUUID(u []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// cString returns b up to its first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
