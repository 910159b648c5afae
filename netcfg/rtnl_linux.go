package netcfg

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// The fixed headers of rtnetlink messages, from linux/rtnetlink.h and linux/if_addr.h. Everything after them
// is netlink attributes in native byte order.
const (
	ifInfoMsgLen = 16 // struct ifinfomsg
	ifAddrMsgLen = 8  // struct ifaddrmsg
	rtMsgLen     = 12 // struct rtmsg
)

// ifInfoMsg is struct ifinfomsg (linux/rtnetlink.h): the header of RTM_{NEW,DEL,GET}LINK.
type ifInfoMsg struct {
	Family uint8  // AF_UNSPEC
	Type   uint16 // ARPHRD_*
	Index  int32  // interface index; 0 lets the kernel choose on create
	Flags  uint32 // IFF_* flags
	Change uint32 // which IFF_* flags a request changes
}

func (m ifInfoMsg) MarshalBinary() ([]byte, error) {
	b := make([]byte, ifInfoMsgLen)
	b[0] = m.Family
	binary.NativeEndian.PutUint16(b[2:4], m.Type)
	binary.NativeEndian.PutUint32(b[4:8], uint32(m.Index))
	binary.NativeEndian.PutUint32(b[8:12], m.Flags)
	binary.NativeEndian.PutUint32(b[12:16], m.Change)
	return b, nil
}

func (m *ifInfoMsg) UnmarshalBinary(b []byte) error {
	if len(b) < ifInfoMsgLen {
		return fmt.Errorf("ifinfomsg: %w: %d bytes, want %d", errShortMessage, len(b), ifInfoMsgLen)
	}
	m.Family = b[0]
	m.Type = binary.NativeEndian.Uint16(b[2:4])
	m.Index = int32(binary.NativeEndian.Uint32(b[4:8]))
	m.Flags = binary.NativeEndian.Uint32(b[8:12])
	m.Change = binary.NativeEndian.Uint32(b[12:16])
	return nil
}

// ifAddrMsg is struct ifaddrmsg (linux/if_addr.h): the header of RTM_{NEW,DEL,GET}ADDR.
type ifAddrMsg struct {
	Family    uint8  // AF_INET or AF_INET6
	PrefixLen uint8  // prefix length of the address
	Flags     uint8  // IFA_F_* (the low 8 bits; IFA_FLAGS carries all 32)
	Scope     uint8  // RT_SCOPE_*
	Index     uint32 // interface index
}

func (m ifAddrMsg) MarshalBinary() ([]byte, error) {
	b := make([]byte, ifAddrMsgLen)
	b[0], b[1], b[2], b[3] = m.Family, m.PrefixLen, m.Flags, m.Scope
	binary.NativeEndian.PutUint32(b[4:8], m.Index)
	return b, nil
}

func (m *ifAddrMsg) UnmarshalBinary(b []byte) error {
	if len(b) < ifAddrMsgLen {
		return fmt.Errorf("ifaddrmsg: %w: %d bytes, want %d", errShortMessage, len(b), ifAddrMsgLen)
	}
	m.Family, m.PrefixLen, m.Flags, m.Scope = b[0], b[1], b[2], b[3]
	m.Index = binary.NativeEndian.Uint32(b[4:8])
	return nil
}

// rtMsg is struct rtmsg (linux/rtnetlink.h): the header of RTM_{NEW,DEL,GET}ROUTE.
type rtMsg struct {
	Family   uint8  // AF_INET or AF_INET6
	DstLen   uint8  // destination prefix length
	SrcLen   uint8  // source prefix length
	TOS      uint8  // type of service
	Table    uint8  // RT_TABLE_* (RTA_TABLE carries tables above 255)
	Protocol uint8  // RTPROT_*: who installed the route
	Scope    uint8  // RT_SCOPE_*
	Type     uint8  // RTN_*
	Flags    uint32 // RTM_F_*
}

func (m rtMsg) MarshalBinary() ([]byte, error) {
	b := make([]byte, rtMsgLen)
	b[0], b[1], b[2], b[3] = m.Family, m.DstLen, m.SrcLen, m.TOS
	b[4], b[5], b[6], b[7] = m.Table, m.Protocol, m.Scope, m.Type
	binary.NativeEndian.PutUint32(b[8:12], m.Flags)
	return b, nil
}

func (m *rtMsg) UnmarshalBinary(b []byte) error {
	if len(b) < rtMsgLen {
		return fmt.Errorf("rtmsg: %w: %d bytes, want %d", errShortMessage, len(b), rtMsgLen)
	}
	m.Family, m.DstLen, m.SrcLen, m.TOS = b[0], b[1], b[2], b[3]
	m.Table, m.Protocol, m.Scope, m.Type = b[4], b[5], b[6], b[7]
	m.Flags = binary.NativeEndian.Uint32(b[8:12])
	return nil
}

// Conn talks rtnetlink to the kernel. It is safe for concurrent use, but the deadline of a call applies to
// the whole socket, so parallel work is best done on one Conn each.
type Conn struct {
	c          *netlink.Conn
	noDeadline bool // the socket takes no deadlines: nltest's fake kernel, which answers at once
}

// Dial opens an rtnetlink socket in the caller's network namespace.
func Dial() (*Conn, error) {
	c, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{Strict: true})
	if err != nil {
		return nil, fmt.Errorf("dial rtnetlink: %w", err)
	}
	return &Conn{c: c}, nil
}

// NewConn wraps an existing rtnetlink socket, e.g. one opened in another network namespace
// (netlink.Config.NetNS) or a fake from nltest.
func NewConn(c *netlink.Conn) *Conn {
	return &Conn{c: c, noDeadline: c.SetDeadline(time.Time{}) != nil}
}

// Close closes the socket.
func (c *Conn) Close() error { return c.c.Close() }

// defaultCallTimeout bounds one rtnetlink request when ctx has no deadline: the kernel answers in
// microseconds, so anything longer is a bug worth an error, not a hang.
const defaultCallTimeout = 5 * time.Second

// exec sends one request and returns its replies, bounded by ctx.
func (c *Conn) exec(ctx context.Context, typ netlink.HeaderType, flags netlink.HeaderFlags, data []byte) ([]netlink.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(defaultCallTimeout)
	}
	if !c.noDeadline {
		if err := c.c.SetDeadline(dl); err != nil {
			return nil, fmt.Errorf("set netlink deadline: %w", err)
		}
	}
	// A cancel without a deadline must still unblock the read.
	stop := context.AfterFunc(ctx, func() {
		if !c.noDeadline {
			_ = c.c.SetDeadline(time.Unix(1, 0))
		}
	})
	defer stop()
	msgs, err := c.c.Execute(netlink.Message{
		Header: netlink.Header{Type: typ, Flags: netlink.Request | flags},
		Data:   data,
	})
	// The socket's timer can fire a moment before ctx's: either way the caller's time is up.
	if err != nil && (ctx.Err() != nil || !time.Now().Before(dl)) {
		cause := ctx.Err()
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		return nil, fmt.Errorf("%w: %w", cause, err)
	}
	return msgs, err
}

// isExist reports an EEXIST from the kernel: the address, route or link is already there.
func isExist(err error) bool { return errors.Is(err, unix.EEXIST) }

// addrFromSlice turns 4 or 16 bytes from an attribute into an address.
func addrFromSlice(b []byte) (netip.Addr, bool) {
	return netip.AddrFromSlice(b)
}

// macString prints a hardware address, "" for none.
func macString(hw net.HardwareAddr) string {
	if len(hw) == 0 {
		return ""
	}
	return hw.String()
}
