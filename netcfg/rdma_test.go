package netcfg

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/mdlayher/netlink"
)

// newLinkGolden is the whole RDMA_NLDEV_CMD_NEWLINK message of `rdma link add rxe_eth0 type rxe netdev
// eth0` (iproute2 rdma/link.c), sequence 1: the netlink header, then DEV_NAME, LINK_TYPE and NDEV_NAME as
// NUL-terminated strings, each padded to 4 bytes.
var newLinkGolden = []byte{
	0x34, 0x00, 0x00, 0x00, // nlmsg_len 52
	0x03, 0x14, // nlmsg_type RDMA_NL_GET_TYPE(RDMA_NL_NLDEV 5, RDMA_NLDEV_CMD_NEWLINK 3) = 0x1403
	0x05, 0x00, // NLM_F_REQUEST | NLM_F_ACK
	0x01, 0x00, 0x00, 0x00, // nlmsg_seq
	0x00, 0x00, 0x00, 0x00, // nlmsg_pid
	0x0d, 0x00, 0x02, 0x00, 'r', 'x', 'e', '_', 'e', 't', 'h', '0', 0x00, 0x00, 0x00, 0x00, // DEV_NAME
	0x08, 0x00, 0x41, 0x00, 'r', 'x', 'e', 0x00, // LINK_TYPE (65)
	0x09, 0x00, 0x33, 0x00, 'e', 't', 'h', '0', 0x00, 0x00, 0x00, 0x00, // NDEV_NAME (51)
}

func TestNewLinkRequestGolden(t *testing.T) {
	data, err := newLinkRequest(SoftRoCEName("eth0"), SoftRoCEType, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	m := netlink.Message{
		Header: netlink.Header{Type: rdmaNLType(rdmaNLNLDev, rdmaNLDevCmdNewLink), Flags: netlink.Request | netlink.Acknowledge, Sequence: 1},
		Data:   data,
	}
	m.Header.Length = uint32(16 + len(data)) // struct nlmsghdr is 16 bytes
	got, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, newLinkGolden) {
		t.Fatalf("NEWLINK message:\n%s\nwant:\n%s", hex.Dump(got), hex.Dump(newLinkGolden))
	}
}

func TestNewLinkRequestRefuses(t *testing.T) {
	long := string(bytes.Repeat([]byte{'r'}, ibDeviceNameMax))
	for _, tt := range []struct{ name, ibdev, netdev string }{
		{"empty netdev", "rxe0", ""},
		{"long netdev", "rxe0", "abcdefghijklmnop"},
		{"slash in netdev", "rxe0", "a/b"},
		{"empty name", "", "eth0"},
		{"percent in name", "rxe%d", "eth0"},
		{"long name", long, "eth0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newLinkRequest(tt.ibdev, SoftRoCEType, tt.netdev); !errors.Is(err, errBadName) {
				t.Fatalf("newLinkRequest(%q, %q) = %v, want %v", tt.ibdev, tt.netdev, err, errBadName)
			}
		})
	}
}
