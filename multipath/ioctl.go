package multipath

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// The device-mapper ioctl interface, include/uapi/linux/dm-ioctl.h
// (version 4). Every request is one buffer: a struct dm_ioctl, then its
// data at DataStart. Integers are the machine's own byte order: the kernel
// reads the raw C struct.

// Sizes of the C structs (dm-ioctl.h; x/sys/unix's SizeofDmIoctl and
// SizeofDmTargetSpec agree).
const (
	HeaderLen     = 312 // struct dm_ioctl
	TargetSpecLen = 40  // struct dm_target_spec
	nameLen       = 128 // DM_NAME_LEN
	uuidLen       = 129 // DM_UUID_LEN
	typeNameLen   = 16  // DM_MAX_TYPE_NAME
)

// Version is the interface version iscsiboot speaks: major 4 (no
// compatibility across majors), minor 0 (the kernel accepts any minor up
// to its own), as dm-ioctl.c's check_version requires.
var Version = [3]uint32{4, 0, 0}

// Flags of struct dm_ioctl (dm-ioctl.h, "Status bits").
const (
	FlagReadOnly        = 1 << 0  // DM_READONLY_FLAG
	FlagSuspend         = 1 << 1  // DM_SUSPEND_FLAG: with DM_DEV_SUSPEND, suspend; without, resume
	FlagStatusTable     = 1 << 4  // DM_STATUS_TABLE_FLAG: DM_TABLE_STATUS returns the table, not the status
	FlagActivePresent   = 1 << 5  // DM_ACTIVE_PRESENT_FLAG
	FlagBufferFull      = 1 << 8  // DM_BUFFER_FULL_FLAG: the reply did not fit
	FlagUEventGenerated = 1 << 13 // DM_UEVENT_GENERATED_FLAG
)

// Header is struct dm_ioctl (dm-ioctl.h):
//
//	offset  size  field
//	     0    12  version[3]
//	    12     4  data_size     whole buffer, this header included
//	    16     4  data_start    where the data starts, from the header's start
//	    20     4  target_count
//	    24     4  open_count    (out)
//	    28     4  flags
//	    32     4  event_nr      event number, or a udev cookie (in)
//	    36     4  padding
//	    40     8  dev           huge_encode_dev(devt) (out)
//	    48   128  name
//	   176   129  uuid
//	   305     7  data          padding
type Header struct {
	Version     [3]uint32
	DataSize    uint32
	DataStart   uint32
	TargetCount uint32
	OpenCount   int32
	Flags       uint32
	EventNr     uint32
	Dev         uint64
	Name        string // at most 127 bytes: the C string needs its NUL
	UUID        string // at most 128 bytes
}

// MarshalBinary encodes h as the kernel reads it.
func (h *Header) MarshalBinary() ([]byte, error) {
	if len(h.Name) >= nameLen || len(h.UUID) >= uuidLen {
		return nil, fmt.Errorf("dm_ioctl name %q or uuid %q: %w", h.Name, h.UUID, errName)
	}
	b := make([]byte, HeaderLen)
	ne := binary.NativeEndian
	for i, v := range h.Version {
		ne.PutUint32(b[4*i:], v)
	}
	ne.PutUint32(b[12:], h.DataSize)
	ne.PutUint32(b[16:], h.DataStart)
	ne.PutUint32(b[20:], h.TargetCount)
	ne.PutUint32(b[24:], uint32(h.OpenCount))
	ne.PutUint32(b[28:], h.Flags)
	ne.PutUint32(b[32:], h.EventNr)
	ne.PutUint64(b[40:], h.Dev)
	copy(b[48:48+nameLen], h.Name)
	copy(b[176:176+uuidLen], h.UUID)
	return b, nil
}

// UnmarshalBinary decodes the header at the start of b.
func (h *Header) UnmarshalBinary(b []byte) error {
	if len(b) < HeaderLen {
		return fmt.Errorf("dm_ioctl: %d bytes, want %d: %w", len(b), HeaderLen, errShort)
	}
	ne := binary.NativeEndian
	for i := range h.Version {
		h.Version[i] = ne.Uint32(b[4*i:])
	}
	h.DataSize = ne.Uint32(b[12:])
	h.DataStart = ne.Uint32(b[16:])
	h.TargetCount = ne.Uint32(b[20:])
	h.OpenCount = int32(ne.Uint32(b[24:]))
	h.Flags = ne.Uint32(b[28:])
	h.EventNr = ne.Uint32(b[32:])
	h.Dev = ne.Uint64(b[40:])
	h.Name = cString(b[48 : 48+nameLen])
	h.UUID = cString(b[176 : 176+uuidLen])
	return nil
}

// TargetSpec is struct dm_target_spec (dm-ioctl.h), followed in the buffer
// by its parameter string, NUL-terminated and padded to 8 bytes:
//
//	offset  size  field
//	     0     8  sector_start
//	     8     8  length        in 512-byte sectors
//	    16     4  status        (out)
//	    20     4  next          DM_TABLE_LOAD: from this spec to the next;
//	                            DM_TABLE_STATUS: from the first spec
//	    24    16  target_type
type TargetSpec struct {
	Start, Length uint64
	Status        int32
	Next          uint32
	Type          string
	Params        string
}

// Target is one line of a device-mapper table.
type Target struct {
	Start, Length uint64 // sectors
	Type          string // "multipath"
	Params        string // the target's table line
}

// marshalTargets encodes targets as DM_TABLE_LOAD reads them, each spec's
// next the distance to the following one.
func marshalTargets(ts []Target) ([]byte, error) {
	var out []byte
	ne := binary.NativeEndian
	for _, t := range ts {
		if len(t.Type) >= typeNameLen || t.Type == "" {
			return nil, fmt.Errorf("target type %q: %w", t.Type, errTable)
		}
		if bytes.IndexByte([]byte(t.Params), 0) >= 0 {
			return nil, fmt.Errorf("target %s: a NUL in its parameters: %w", t.Type, errTable)
		}
		n := align8(TargetSpecLen + len(t.Params) + 1)
		b := make([]byte, n)
		ne.PutUint64(b[0:], t.Start)
		ne.PutUint64(b[8:], t.Length)
		ne.PutUint32(b[20:], uint32(n))
		copy(b[24:24+typeNameLen], t.Type)
		copy(b[TargetSpecLen:], t.Params)
		out = append(out, b...)
	}
	return out, nil
}

// parseTargets decodes the count specs of a DM_TABLE_STATUS reply's data,
// each spec's next counted from the first.
func parseTargets(data []byte, count uint32) ([]TargetSpec, error) {
	ne := binary.NativeEndian
	var out []TargetSpec
	off := 0
	for i := uint32(0); i < count; i++ {
		if off < 0 || off+TargetSpecLen > len(data) {
			return nil, fmt.Errorf("target %d at %d of %d bytes: %w", i, off, len(data), errShort)
		}
		b := data[off:]
		ts := TargetSpec{Start: ne.Uint64(b[0:]), Length: ne.Uint64(b[8:]), Status: int32(ne.Uint32(b[16:])),
			Next: ne.Uint32(b[20:]), Type: cString(b[24 : 24+typeNameLen]), Params: cString(b[TargetSpecLen:])}
		out = append(out, ts)
		if int(ts.Next) <= off && i+1 < count {
			return nil, fmt.Errorf("target %d: next %d does not move on: %w", i, ts.Next, errShort)
		}
		off = int(ts.Next)
	}
	return out, nil
}

// request builds a whole ioctl buffer: h with data after it, data_size and
// data_start set, and room for a reply of at least size bytes.
func request(h Header, data []byte, size int) ([]byte, error) {
	h.Version = Version
	h.DataStart = HeaderLen
	n := max(HeaderLen+len(data), size)
	h.DataSize = uint32(n)
	b, err := h.MarshalBinary()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	copy(buf, b)
	copy(buf[HeaderLen:], data)
	return buf, nil
}

// messageData is struct dm_target_msg (dm-ioctl.h): the sector (8 bytes)
// that picks the target, then the message, NUL-terminated.
func messageData(sector uint64, msg string) []byte {
	b := make([]byte, 8+len(msg)+1)
	binary.NativeEndian.PutUint64(b, sector)
	copy(b[8:], msg)
	return b
}

func align8(n int) int { return (n + 7) &^ 7 }

// cString is the C string at the start of b.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
