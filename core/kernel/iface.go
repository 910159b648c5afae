package kernel

import (
	"errors"
	"fmt"
	"net/netip"
)

// NetParam is an iSCSI iface network parameter id, the kernel's enum
// iscsi_net_param (include/scsi/iscsi_if.h), carried in SET_IFACE_PARAMS.
type NetParam uint16

// The ids of enum iscsi_net_param an IPv4 iface is set up with
// (include/scsi/iscsi_if.h).
const (
	NetParamIPv4Addr      NetParam = 1
	NetParamIPv4Subnet    NetParam = 2
	NetParamIPv4Gateway   NetParam = 3
	NetParamIPv4BootProto NetParam = 4
	NetParamIfaceEnable   NetParam = 12
	NetParamVLANEnabled   NetParam = 15
	NetParamVLANTag       NetParam = 16
)

// Values of the iface parameters (include/scsi/iscsi_if.h):
// ISCSI_IFACE_TYPE_IPV4, ISCSI_NET_PARAM (enum iscsi_param_type),
// ISCSI_BOOTPROTO_STATIC, and the enable/disable pairs ISCSI_IFACE_ENABLE
// and ISCSI_VLAN_ENABLE / ISCSI_VLAN_DISABLE.
const (
	ifaceTypeIPv4   = 1
	paramTypeNet    = 2
	bootProtoStatic = 1
	stateEnable     = 2
	stateDisable    = 1
)

// IfaceParamInfoLen is sizeof(struct iscsi_iface_param_info), packed:
// u32 iface_num, u32 len, u16 param, u8 iface_type, u8 param_type, then
// the value.
const IfaceParamInfoLen = 12

// nlaHdrLen is sizeof(struct nlattr): u16 nla_len, u16 nla_type.
const nlaHdrLen = 4

var errHostNet = errors.New("not an IPv4 iface the kernel takes")

// HostNet is the network of an offload host's iSCSI iface: what
// open-iscsi's iface record gives as iface.ipaddress, iface.subnet_mask,
// iface.gateway and iface.vlan_id, and iscsiadm sends to the host in
// SET_IFACE_PARAMS (usr/iface.c, __iface_build_net_config).
type HostNet struct {
	Iface   uint32       // iface_num, 0 for the host's first
	Address netip.Prefix // IPv4 address and prefix length (the subnet mask)
	Gateway netip.Addr   // invalid: none
	VLAN    uint16       // 802.1Q id, 0 for none
}

// Attributes encodes n as SET_IFACE_PARAMS carries it: one netlink
// attribute per parameter, whose type is the ISCSI_NET_PARAM_* id and
// whose payload is struct iscsi_iface_param_info with the value (addresses
// in network order, numbers in host order), each padded to 4 bytes; in
// iscsiadm's order for a static IPv4 iface: boot protocol, address,
// subnet mask, gateway, iface enabled, VLAN state and tag. It returns the
// bytes and the number of attributes.
func (n HostNet) Attributes() ([]byte, int, error) {
	a := n.Address.Addr().Unmap()
	if !n.Address.IsValid() || !a.Is4() || a.IsUnspecified() || n.VLAN > 4094 ||
		(n.Gateway.IsValid() && !n.Gateway.Unmap().Is4()) {
		return nil, 0, fmt.Errorf("iface %d: address %v, gateway %v, VLAN %d: %w", n.Iface, n.Address, n.Gateway, n.VLAN, errHostNet)
	}
	var b []byte
	count := 0
	put := func(p NetParam, v []byte) {
		l := nlaHdrLen + IfaceParamInfoLen + len(v)
		at := len(b)
		b = append(b, make([]byte, (l+3)&^3)...)
		ne.PutUint16(b[at:], uint16(l))
		ne.PutUint16(b[at+2:], uint16(p))
		info := b[at+nlaHdrLen:]
		ne.PutUint32(info[0:], n.Iface)
		ne.PutUint32(info[4:], uint32(len(v)))
		ne.PutUint16(info[8:], uint16(p))
		info[10], info[11] = ifaceTypeIPv4, paramTypeNet
		copy(info[IfaceParamInfoLen:], v)
		count++
	}
	put(NetParamIPv4BootProto, []byte{bootProtoStatic})
	v4 := a.As4()
	put(NetParamIPv4Addr, v4[:])
	m := prefixMask(n.Address.Bits())
	put(NetParamIPv4Subnet, m[:])
	if n.Gateway.IsValid() {
		g := n.Gateway.Unmap().As4()
		put(NetParamIPv4Gateway, g[:])
	}
	put(NetParamIfaceEnable, []byte{stateEnable})
	if n.VLAN == 0 {
		put(NetParamVLANEnabled, []byte{stateDisable})
	} else {
		put(NetParamVLANEnabled, []byte{stateEnable})
		tag := make([]byte, 2)
		ne.PutUint16(tag, n.VLAN) // priority 0 in bits 15-13
		put(NetParamVLANTag, tag)
	}
	return b, count, nil
}

// prefixMask is the IPv4 netmask of a prefix length.
func prefixMask(bits int) [4]byte {
	v := ^uint32(0) << (32 - bits)
	if bits == 0 {
		v = 0
	}
	return [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

// SetIfaceParamsRequest is u.set_iface_params (host_no, count) with the
// iface's parameters after the struct (HostNet.Attributes).
func SetIfaceParamsRequest(handle uint64, hostNo uint32, n HostNet) (*Uevent, error) {
	b, count, err := n.Attributes()
	if err != nil {
		return nil, err
	}
	e := newRequest(UeventSetIfaceParams, handle, hostNo, uint32(count))
	e.Extra = b
	return e, nil
}

// HostIP says whether a transport's hosts need the address of their iSCSI
// iface set before they connect, as open-iscsi's transport table does
// (usr/transport.c, set_host_ip): required for bnx2i and qedi, optional
// for cxgb3i, not needed for the others.
type HostIP int

const (
	HostIPNone HostIP = iota
	HostIPOptional
	HostIPRequired
)

// HostIP is t's need for its iface's address.
func (t Transport) HostIP() HostIP {
	switch t.Name {
	case "bnx2i", "qedi":
		return HostIPRequired
	case "cxgb3i":
		return HostIPOptional
	}
	return HostIPNone
}
