package kernel

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Requests and events of the transports the kernel connects itself (iSER,
// offload NICs), from enum iscsi_uevent_e (include/scsi/iscsi_if.h) after
// the ones in uevent.go.
const (
	UeventEPConnectThroughHost EventType = 29 // ISCSI_UEVENT_TRANSPORT_EP_CONNECT_THROUGH_HOST = UEVENT_BASE + 19
	UeventPathUpdate           EventType = 30 // ISCSI_UEVENT_PATH_UPDATE = UEVENT_BASE + 20
	UeventSetIfaceParams       EventType = 31 // ISCSI_UEVENT_SET_IFACE_PARAMS = UEVENT_BASE + 21

	KeventPathReq EventType = 107 // ISCSI_KEVENT_PATH_REQ = KEVENT_BASE + 7
	KeventIfDown  EventType = 108 // ISCSI_KEVENT_IF_DOWN = KEVENT_BASE + 8
)

// Sizes of the socket addresses the kernel reads after an EP_CONNECT
// uevent (iscsi_if_ep_connect takes the struct sockaddr that follows the
// struct): struct sockaddr_in and struct sockaddr_in6 (include/uapi/
// linux/in.h, in6.h).
const (
	sockaddrInLen  = 16
	sockaddrIn6Len = 28
)

// Address families of struct sockaddr (include/linux/socket.h).
const (
	afInet  = 2
	afInet6 = 10
)

// sockaddr encodes a as the struct sockaddr_in or sockaddr_in6 the
// kernel's ep_connect reads: the family in host byte order, the port in
// network byte order, then the address; an IPv6 zone is not carried (an
// offload host's connection leaves through its own port).
func sockaddr(a netip.AddrPort) []byte {
	ip := a.Addr().Unmap()
	if ip.Is4() {
		b := make([]byte, sockaddrInLen)
		ne.PutUint16(b[0:], afInet)                 // sin_family
		binary.BigEndian.PutUint16(b[2:], a.Port()) // sin_port
		v4 := ip.As4()
		copy(b[4:], v4[:]) // sin_addr; sin_zero stays 0
		return b
	}
	b := make([]byte, sockaddrIn6Len)
	ne.PutUint16(b[0:], afInet6)                // sin6_family
	binary.BigEndian.PutUint16(b[2:], a.Port()) // sin6_port; sin6_flowinfo at 4 stays 0
	v6 := ip.As16()
	copy(b[8:], v6[:]) // sin6_addr; sin6_scope_id at 24 stays 0
	return b
}

// EPConnectRequest is u.ep_connect with the portal's socket address after
// the struct: the kernel transport opens the connection itself (iSER's
// RDMA CM, an offload NIC's TCP stack). nonBlocking asks it to start the
// connect and return at once; EP_POLL then waits for it.
func EPConnectRequest(handle uint64, addr netip.AddrPort, nonBlocking bool) *Uevent {
	e := newRequest(UeventEPConnect, handle, b32(nonBlocking))
	e.Extra = sockaddr(addr)
	return e
}

// EPConnectThroughHostRequest is u.ep_connect_through_host: the same,
// through the offload SCSI host hostNo (open-iscsi's bind_ep transports:
// bnx2i, cxgb4i, qedi, be2iscsi, qla4xxx).
func EPConnectThroughHostRequest(handle uint64, hostNo uint32, addr netip.AddrPort, nonBlocking bool) *Uevent {
	e := newRequest(UeventEPConnectThroughHost, handle, hostNo, b32(nonBlocking))
	e.Extra = sockaddr(addr)
	return e
}

// EPPollRequest is u.ep_poll: a u64 endpoint handle at offset 0, then
// timeout_ms. The kernel answers in r.retcode: 1 connected, 0 not yet, a
// negative errno when the connect failed.
func EPPollRequest(handle, ep uint64, timeoutMS uint32) *Uevent {
	e := newRequest(UeventEPPoll, handle)
	ne.PutUint64(e.U[0:], ep)
	put32(e.U[:], 2, timeoutMS)
	return e
}

// EPDisconnectRequest is u.ep_disconnect: the u64 endpoint handle.
func EPDisconnectRequest(handle, ep uint64) *Uevent {
	e := newRequest(UeventEPDisconnect, handle)
	ne.PutUint64(e.U[0:], ep)
	return e
}

// CreateBoundSessionRequest is u.c_bound_session: the u64 endpoint the
// session's SCSI host is made on, then CREATE_SESSION's fields
// (initial_cmdsn, and cmds_max and queue_depth as two u16).
func CreateBoundSessionRequest(handle, ep uint64, initialCmdSN uint32, cmdsMax, queueDepth uint16) *Uevent {
	e := newRequest(UeventCreateBoundSession, handle)
	ne.PutUint64(e.U[0:], ep)
	put32(e.U[:], 2, initialCmdSN)
	ne.PutUint16(e.U[12:], cmdsMax)
	ne.PutUint16(e.U[14:], queueDepth)
	return e
}

// EPHandle is r.ep_connect_ret.handle, the endpoint an EP_CONNECT made.
func (e *Uevent) EPHandle() uint64 { return ne.Uint64(e.R[0:]) }

func b32(v bool) uint32 {
	if v {
		return 1
	}
	return 0
}

// PathLen is sizeof(struct iscsi_path) (include/scsi/iscsi_if.h): u64
// handle; mac_addr[6], mac_addr_old[6]; u32 ip_addr_len at 20; src and
// dst, each a union of in_addr and in6_addr, at 24 and 40; u16 vlan_id at
// 56 and pmtu at 58; aligned to 8 bytes, so 64.
const PathLen = 64

// Path is struct iscsi_path: the route an offload NIC asks for with
// ISCSI_KEVENT_PATH_REQ (its destination filled in) and gets with
// ISCSI_UEVENT_PATH_UPDATE (source address, next hop's MAC, VLAN, MTU
// filled in), as iscsid's uip daemon answers it from the routing table.
type Path struct {
	Handle uint64     // the kernel's endpoint, echoed back
	MAC    [6]byte    // the next hop's hardware address
	OldMAC [6]byte    // mac_addr_old, unused by the drivers
	Src    netip.Addr // the local address the route leaves from
	Dst    netip.Addr // the portal
	VLAN   uint16     // 0: none
	MTU    uint16     // the path MTU; 0 leaves the driver's
}

// MarshalBinary encodes p as struct iscsi_path: in IPv4 form
// (ip_addr_len 4) when both addresses are IPv4 (or IPv4-mapped), else in
// IPv6 form, an IPv4 address then IPv4-mapped. Dst must be valid; an
// invalid Src is left zero.
func (p *Path) MarshalBinary() ([]byte, error) {
	if !p.Dst.IsValid() {
		return nil, fmt.Errorf("iscsi_path: destination %v: %w", p.Dst, errPathFamily)
	}
	b := make([]byte, PathLen)
	ne.PutUint64(b[0:], p.Handle)
	copy(b[8:14], p.MAC[:])
	copy(b[14:20], p.OldMAC[:])
	if p.Dst.Unmap().Is4() && (!p.Src.IsValid() || p.Src.Unmap().Is4()) {
		ne.PutUint32(b[20:], 4)
		if p.Src.IsValid() {
			v := p.Src.Unmap().As4()
			copy(b[24:], v[:])
		}
		v := p.Dst.Unmap().As4()
		copy(b[40:], v[:])
	} else {
		ne.PutUint32(b[20:], 16)
		if p.Src.IsValid() {
			v := p.Src.As16()
			copy(b[24:], v[:])
		}
		v := p.Dst.As16()
		copy(b[40:], v[:])
	}
	ne.PutUint16(b[56:], p.VLAN)
	ne.PutUint16(b[58:], p.MTU)
	return b, nil
}

// UnmarshalBinary decodes a struct iscsi_path, as it follows a PATH_REQ.
func (p *Path) UnmarshalBinary(b []byte) error {
	if len(b) < PathLen {
		return fmt.Errorf("iscsi_path: %d bytes, want %d: %w", len(b), PathLen, errShortPath)
	}
	*p = Path{Handle: ne.Uint64(b[0:])}
	copy(p.MAC[:], b[8:14])
	copy(p.OldMAC[:], b[14:20])
	switch n := ne.Uint32(b[20:]); n {
	case 4:
		p.Src = netip.AddrFrom4([4]byte(b[24:28]))
		p.Dst = netip.AddrFrom4([4]byte(b[40:44]))
	case 16:
		p.Src = netip.AddrFrom16([16]byte(b[24:40]))
		p.Dst = netip.AddrFrom16([16]byte(b[40:56]))
	default:
		return fmt.Errorf("iscsi_path: ip_addr_len %d, want 4 or 16: %w", n, errPathFamily)
	}
	if p.Src.IsUnspecified() {
		p.Src = netip.Addr{}
	}
	p.VLAN = ne.Uint16(b[56:])
	p.MTU = ne.Uint16(b[58:])
	return nil
}

// PathUpdateRequest is u.set_path with the struct iscsi_path after it:
// the answer to a PATH_REQ from host hostNo.
func PathUpdateRequest(handle uint64, hostNo uint32, p *Path) (*Uevent, error) {
	b, err := p.MarshalBinary()
	if err != nil {
		return nil, err
	}
	e := newRequest(UeventPathUpdate, handle, hostNo)
	e.Extra = b
	return e, nil
}

// PathReqHost is r.req_path.host_no of a PATH_REQ event.
func (e *Uevent) PathReqHost() uint32 { return u32(e.R[:], 0) }
