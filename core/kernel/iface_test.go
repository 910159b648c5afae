package kernel

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
)

// ifaceAttr is one SET_IFACE_PARAMS attribute written field by field from
// include/scsi/iscsi_if.h, checked by hand: struct nlattr (u16 nla_len =
// 4 + 12 + value, u16 nla_type = the ISCSI_NET_PARAM_* id), then packed
// struct iscsi_iface_param_info (u32 iface_num, u32 len, u16 param, u8
// iface_type = ISCSI_IFACE_TYPE_IPV4 1, u8 param_type = ISCSI_NET_PARAM
// 2), the value, zeros to a multiple of 4.
func ifaceAttr(param uint16, value ...byte) []byte {
	b := make([]byte, 16+len(value))
	binary.NativeEndian.PutUint16(b[0:], uint16(16+len(value)))
	binary.NativeEndian.PutUint16(b[2:], param)
	binary.NativeEndian.PutUint32(b[4:], 0)
	binary.NativeEndian.PutUint32(b[8:], uint32(len(value)))
	binary.NativeEndian.PutUint16(b[12:], param)
	b[14], b[15] = 1, 2
	copy(b[16:], value)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// SET_IFACE_PARAMS for a static IPv4 iface, as iscsiadm's
// __iface_build_net_config orders it: BOOTPROTO (4) static (1), IPV4_ADDR
// (1), IPV4_SUBNET (2), IPV4_GW (3), addresses in network order; then
// IFACE_ENABLE (12) enabled (2), VLAN_ENABLED (15), and with a VLAN its
// VLAN_TAG (16), the id in host order with priority 0. The uevent is
// ISCSI_UEVENT_SET_IFACE_PARAMS (10 + 21) with u.set_iface_params.host_no
// and count.
func TestSetIfaceParamsGolden(t *testing.T) {
	n := HostNet{Address: netip.MustParsePrefix("192.0.2.7/24"), Gateway: netip.MustParseAddr("192.0.2.1")}
	attrs := bytes.Join([][]byte{
		ifaceAttr(4, 1), ifaceAttr(1, 192, 0, 2, 7), ifaceAttr(2, 255, 255, 255, 0), ifaceAttr(3, 192, 0, 2, 1),
		ifaceAttr(12, 2), ifaceAttr(15, 1),
	}, nil)
	req, err := SetIfaceParamsRequest(handle, 5, n)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := req.MarshalBinary()
	want := golden([]field{{hdrType, 4, 31}, {hdrHandle, 8, handle}, {u, 4, 5}, {u + 4, 4, 6}}, string(attrs))
	if !bytes.Equal(got, want) {
		t.Errorf("SET_IFACE_PARAMS\ngot:\n%swant:\n%s", hex.Dump(got), hex.Dump(want))
	}

	vlan := make([]byte, 2)
	binary.NativeEndian.PutUint16(vlan, 100)
	n = HostNet{Iface: 0, Address: netip.MustParsePrefix("10.1.2.3/20"), VLAN: 100}
	attrs = bytes.Join([][]byte{
		ifaceAttr(4, 1), ifaceAttr(1, 10, 1, 2, 3), ifaceAttr(2, 255, 255, 240, 0),
		ifaceAttr(12, 2), ifaceAttr(15, 2), ifaceAttr(16, vlan...),
	}, nil)
	b, count, err := n.Attributes()
	if err != nil || count != 6 || !bytes.Equal(b, attrs) {
		t.Errorf("VLAN iface: %d attributes, %v\ngot:\n%swant:\n%s", count, err, hex.Dump(b), hex.Dump(attrs))
	}
}

func TestSetIfaceParamsRefused(t *testing.T) {
	for _, n := range []HostNet{
		{},
		{Address: netip.MustParsePrefix("fd00::1/64")},
		{Address: netip.MustParsePrefix("0.0.0.0/8")},
		{Address: netip.MustParsePrefix("10.0.0.1/8"), VLAN: 4095},
		{Address: netip.MustParsePrefix("10.0.0.1/8"), Gateway: netip.MustParseAddr("fd00::1")},
	} {
		if _, err := SetIfaceParamsRequest(handle, 5, n); !errors.Is(err, errHostNet) {
			t.Errorf("%+v: %v, want %v", n, err, errHostNet)
		}
	}
}
