package kernel

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The ep_connect requests, laid out by hand from include/scsi/iscsi_if.h
// (struct iscsi_uevent, union u) and the socket address the kernel reads
// after the struct (iscsi_if_ep_connect: (struct sockaddr *)(ev + 1)).
func TestEndpointRequestGolden(t *testing.T) {
	const ep = 0x1_0000_0007 // an endpoint id above 32 bits shows a truncation
	// struct sockaddr_in for 10.0.2.2:3260: sa_family AF_INET (2) in host
	// order, sin_port 3260 = 0x0cbc in network order, sin_addr, 8 zero bytes.
	sin := make([]byte, 16)
	binary.NativeEndian.PutUint16(sin, 2)
	copy(sin[2:], []byte{0x0c, 0xbc, 10, 0, 2, 2})
	// struct sockaddr_in6 for [fd00::2]:3261: AF_INET6 (10), port 0x0cbd,
	// sin6_flowinfo 0, sin6_addr at 8, sin6_scope_id 0 at 24; 28 bytes.
	sin6 := make([]byte, 28)
	binary.NativeEndian.PutUint16(sin6, 10)
	copy(sin6[2:], []byte{0x0c, 0xbd})
	copy(sin6[8:], netip.MustParseAddr("fd00::2").AsSlice())
	v4 := netip.MustParseAddrPort("10.0.2.2:3260")
	tests := []struct {
		name   string
		e      *Uevent
		fields []field
		extra  string
	}{{
		name: "TRANSPORT_EP_CONNECT IPv4",
		e:    EPConnectRequest(handle, v4, true),
		fields: []field{
			{hdrType, 4, 22}, // ISCSI_UEVENT_TRANSPORT_EP_CONNECT = UEVENT_BASE(10) + 12
			{hdrHandle, 8, handle},
			{u + 0, 4, 1}, // ep_connect.non_blocking
		},
		extra: string(sin),
	}, {
		name: "TRANSPORT_EP_CONNECT IPv6, blocking",
		e:    EPConnectRequest(handle, netip.MustParseAddrPort("[fd00::2]:3261"), false),
		fields: []field{
			{hdrType, 4, 22},
			{hdrHandle, 8, handle},
		},
		extra: string(sin6),
	}, {
		name: "TRANSPORT_EP_CONNECT IPv4-mapped IPv6 is IPv4",
		e:    EPConnectRequest(handle, netip.MustParseAddrPort("[::ffff:10.0.2.2]:3260"), true),
		fields: []field{
			{hdrType, 4, 22},
			{hdrHandle, 8, handle},
			{u + 0, 4, 1},
		},
		extra: string(sin),
	}, {
		name: "TRANSPORT_EP_CONNECT_THROUGH_HOST",
		e:    EPConnectThroughHostRequest(handle, 7, v4, true),
		fields: []field{
			{hdrType, 4, 29}, // = 10 + 19
			{hdrHandle, 8, handle},
			{u + 0, 4, 7}, // ep_connect_through_host.host_no
			{u + 4, 4, 1}, // ep_connect_through_host.non_blocking
		},
		extra: string(sin),
	}, {
		name: "TRANSPORT_EP_POLL",
		e:    EPPollRequest(handle, ep, 10),
		fields: []field{
			{hdrType, 4, 23}, // = 10 + 13
			{hdrHandle, 8, handle},
			{u + 0, 8, ep}, // ep_poll.ep_handle, uint64_t
			{u + 8, 4, 10}, // ep_poll.timeout_ms
		},
	}, {
		name: "TRANSPORT_EP_DISCONNECT",
		e:    EPDisconnectRequest(handle, ep),
		fields: []field{
			{hdrType, 4, 24}, // = 10 + 14
			{hdrHandle, 8, handle},
			{u + 0, 8, ep}, // ep_disconnect.ep_handle
		},
	}, {
		name: "CREATE_BOUND_SESSION",
		e:    CreateBoundSessionRequest(handle, ep, 1, 128, 32),
		fields: []field{
			{hdrType, 4, 28}, // = 10 + 18
			{hdrHandle, 8, handle},
			{u + 0, 8, ep},   // c_bound_session.ep_handle
			{u + 8, 4, 1},    // c_bound_session.initial_cmdsn
			{u + 12, 2, 128}, // c_bound_session.cmds_max (uint16_t)
			{u + 14, 2, 32},  // c_bound_session.queue_depth (uint16_t)
		},
	}, {
		name: "BIND_CONN by endpoint handle",
		e:    BindConnRequest(handle, 5, 0, ep, true),
		fields: []field{
			{hdrType, 4, 15},
			{hdrHandle, 8, handle},
			{u + 0, 4, 5},
			{u + 8, 8, ep}, // b_conn.transport_eph: the endpoint's handle, as for a socket's fd
			{u + 16, 4, 1},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := tt.e.MarshalBinary()
			if want := golden(tt.fields, tt.extra); !bytes.Equal(got, want) {
				t.Fatalf("wire bytes\ngot:\n%swant:\n%s", hex.Dump(got), hex.Dump(want))
			}
		})
	}
}

// The kernel's reply to EP_CONNECT carries the endpoint in
// r.ep_connect_ret.handle, a u64 at the start of union r.
func TestEPHandleReply(t *testing.T) {
	b := golden([]field{{hdrType, 4, 22}, {r, 8, 0xdead_0000_0001}}, "")
	var e Uevent
	if err := e.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got := e.EPHandle(); got != 0xdead_0000_0001 {
		t.Errorf("EPHandle = %#x, want 0xdead00000001", got)
	}
}

// struct iscsi_path, by hand: handle, mac_addr[6], mac_addr_old[6],
// ip_addr_len, src and dst (in6_addr-sized unions), vlan_id, pmtu; 64
// bytes with its aligned(8).
func TestPathGolden(t *testing.T) {
	p := &Path{Handle: 0x11, MAC: [6]byte{0x52, 0x54, 0, 0x12, 0x34, 0x56},
		Src: netip.MustParseAddr("10.0.2.15"), Dst: netip.MustParseAddr("10.0.2.2"), VLAN: 5, MTU: 1500}
	want := make([]byte, 64)
	binary.NativeEndian.PutUint64(want[0:], 0x11)
	copy(want[8:], []byte{0x52, 0x54, 0, 0x12, 0x34, 0x56})
	binary.NativeEndian.PutUint32(want[20:], 4)
	copy(want[24:], []byte{10, 0, 2, 15})
	copy(want[40:], []byte{10, 0, 2, 2})
	binary.NativeEndian.PutUint16(want[56:], 5)
	binary.NativeEndian.PutUint16(want[58:], 1500)
	got, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("wire bytes\ngot:\n%swant:\n%s", hex.Dump(got), hex.Dump(want))
	}
	var back Path
	if err := back.UnmarshalBinary(got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*p, back, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	req, err := PathUpdateRequest(handle, 3, p)
	if err != nil {
		t.Fatal(err)
	}
	wire, _ := req.MarshalBinary()
	if want := golden([]field{{hdrType, 4, 30}, {hdrHandle, 8, handle}, {u, 4, 3}}, string(want)); !bytes.Equal(wire, want) {
		t.Errorf("PATH_UPDATE (10 + 20, set_path.host_no, then struct iscsi_path)\ngot:\n%swant:\n%s", hex.Dump(wire), hex.Dump(want))
	}
}

func TestPathErrors(t *testing.T) {
	if _, err := (&Path{Src: netip.MustParseAddr("fd00::1")}).MarshalBinary(); !errors.Is(err, errPathFamily) {
		t.Errorf("no destination: %v, want %v", err, errPathFamily)
	}
	mixed := &Path{Src: netip.MustParseAddr("fd00::1"), Dst: netip.MustParseAddr("10.0.2.2")}
	if b, err := mixed.MarshalBinary(); err != nil || binary.NativeEndian.Uint32(b[20:]) != 16 || b[50] != 0xff {
		t.Errorf("mixed families: %v, want the IPv6 form with the IPv4 destination mapped:\n%s", err, hex.Dump(b))
	}
	var p Path
	if err := p.UnmarshalBinary(make([]byte, 63)); !errors.Is(err, errShortPath) {
		t.Errorf("63 bytes: %v, want %v", err, errShortPath)
	}
	b := make([]byte, 64)
	binary.NativeEndian.PutUint32(b[20:], 5) // ip_addr_len neither 4 nor 16
	if err := p.UnmarshalBinary(b); !errors.Is(err, errPathFamily) {
		t.Errorf("ip_addr_len 5: %v, want %v", err, errPathFamily)
	}
}

// A PATH_REQ's struct iscsi_path comes from the kernel: any bytes decode
// to an error or to a path that encodes, and its encoding decodes and
// encodes to the same bytes.
func FuzzPath(f *testing.F) {
	p := &Path{Handle: 1, Dst: netip.MustParseAddr("10.0.2.2")}
	b, _ := p.MarshalBinary()
	f.Add(b)
	p6 := &Path{Handle: 2, Src: netip.MustParseAddr("fd00::1"), Dst: netip.MustParseAddr("fd00::2"), VLAN: 7}
	b6, _ := p6.MarshalBinary()
	f.Add(b6)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Path
		if err := p.UnmarshalBinary(b); err != nil {
			return
		}
		out, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", p, err)
		}
		var q Path
		if err := q.UnmarshalBinary(out); err != nil {
			t.Fatalf("%+v encodes to bytes that do not decode: %v", p, err)
		}
		again, err := q.MarshalBinary()
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("encoding not stable: %+v\n%s then %+v\n%s (%v)", p, hex.Dump(out), q, hex.Dump(again), err)
		}
	})
}

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
