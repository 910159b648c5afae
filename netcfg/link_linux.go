package netcfg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Link is a network interface as rtnetlink reports it.
type Link struct {
	Index   int
	Name    string
	MAC     net.HardwareAddr
	MTU     int
	Up      bool   // IFF_UP: administratively up
	Carrier bool   // IFF_LOWER_UP: the driver reports carrier; what a boot waits for, never operstate
	Kind    string // IFLA_INFO_KIND: "vlan", "veth", "bond", ...; "" for a plain NIC
	Parent  int    // IFLA_LINK: the lower link of a VLAN or the peer of a veth; 0 for none
	VLANID  int    // IFLA_VLAN_ID of a VLAN link
}

// parseLink decodes one RTM_NEWLINK message.
func parseLink(b []byte) (Link, error) {
	var h ifInfoMsg
	if err := h.UnmarshalBinary(b); err != nil {
		return Link{}, err
	}
	l := Link{
		Index:   int(h.Index),
		Up:      h.Flags&unix.IFF_UP != 0,
		Carrier: h.Flags&unix.IFF_LOWER_UP != 0,
	}
	ad, err := netlink.NewAttributeDecoder(b[ifInfoMsgLen:])
	if err != nil {
		return Link{}, fmt.Errorf("link attributes: %w", err)
	}
	for ad.Next() {
		switch ad.Type() {
		case unix.IFLA_IFNAME:
			l.Name = ad.String()
		case unix.IFLA_ADDRESS:
			l.MAC = net.HardwareAddr(bytes.Clone(ad.Bytes()))
		case unix.IFLA_MTU:
			l.MTU = int(ad.Uint32())
		case unix.IFLA_LINK:
			l.Parent = int(ad.Uint32())
		case unix.IFLA_LINKINFO:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					switch nad.Type() {
					case unix.IFLA_INFO_KIND:
						l.Kind = nad.String()
					case unix.IFLA_INFO_DATA:
						nad.Nested(func(dad *netlink.AttributeDecoder) error {
							for dad.Next() {
								// Only a VLAN's data is read, and IFLA_VLAN_ID is its attribute 1.
								if dad.Type() == unix.IFLA_VLAN_ID && l.Kind == "vlan" {
									l.VLANID = int(dad.Uint16())
								}
							}
							return dad.Err()
						})
					}
				}
				return nad.Err()
			})
		}
	}
	if err := ad.Err(); err != nil {
		return Link{}, fmt.Errorf("link attributes: %w", err)
	}
	return l, nil
}

// Links lists every link in the namespace.
func (c *Conn) Links(ctx context.Context) ([]Link, error) {
	req, _ := ifInfoMsg{Family: unix.AF_UNSPEC}.MarshalBinary()
	msgs, err := c.exec(ctx, unix.RTM_GETLINK, netlink.Dump, req)
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	links := make([]Link, 0, len(msgs))
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWLINK {
			continue
		}
		l, err := parseLink(m.Data)
		if err != nil {
			return nil, fmt.Errorf("list links: %w", err)
		}
		links = append(links, l)
	}
	return links, nil
}

// LinkByName finds the link called name.
func (c *Conn) LinkByName(ctx context.Context, name string) (Link, error) {
	links, err := c.Links(ctx)
	if err != nil {
		return Link{}, err
	}
	for _, l := range links {
		if l.Name == name {
			return l, nil
		}
	}
	return Link{}, fmt.Errorf("%w: no link named %q", ErrLinkNotFound, name)
}

// LinkByIndex finds the link with index idx.
func (c *Conn) LinkByIndex(ctx context.Context, idx int) (Link, error) {
	links, err := c.Links(ctx)
	if err != nil {
		return Link{}, err
	}
	for _, l := range links {
		if l.Index == idx {
			return l, nil
		}
	}
	return Link{}, fmt.Errorf("%w: no link with index %d", ErrLinkNotFound, idx)
}

// LinkByMAC finds the link with hardware address mac. VLAN links share their parent's address and are
// skipped: the firmware and ip= name the physical NIC.
func (c *Conn) LinkByMAC(ctx context.Context, mac net.HardwareAddr) (Link, error) {
	links, err := c.Links(ctx)
	if err != nil {
		return Link{}, err
	}
	for _, l := range links {
		if l.Kind != "vlan" && bytes.Equal(l.MAC, mac) {
			return l, nil
		}
	}
	return Link{}, fmt.Errorf("%w: no link with MAC %s", ErrLinkNotFound, mac)
}

// SetUp sets IFF_UP on the link. Setting it on a link that is up already changes nothing.
func (c *Conn) SetUp(ctx context.Context, idx int) error {
	req, _ := ifInfoMsg{Index: int32(idx), Flags: unix.IFF_UP, Change: unix.IFF_UP}.MarshalBinary()
	if _, err := c.exec(ctx, unix.RTM_NEWLINK, netlink.Acknowledge, req); err != nil {
		return fmt.Errorf("set link %d up: %w", idx, err)
	}
	return nil
}

// SetMTU sets the link's MTU.
func (c *Conn) SetMTU(ctx context.Context, idx, mtu int) error {
	h, _ := ifInfoMsg{Index: int32(idx)}.MarshalBinary()
	ae := netlink.NewAttributeEncoder()
	ae.Uint32(unix.IFLA_MTU, uint32(mtu))
	attrs, err := ae.Encode()
	if err != nil {
		return fmt.Errorf("set MTU: %w", err)
	}
	if _, err := c.exec(ctx, unix.RTM_NEWLINK, netlink.Acknowledge, append(h, attrs...)); err != nil {
		return fmt.Errorf("set MTU %d on link %d: %w", mtu, idx, err)
	}
	return nil
}

// SetName renames the link. The kernel refuses (EBUSY) while most links are up.
func (c *Conn) SetName(ctx context.Context, idx int, name string) error {
	h, _ := ifInfoMsg{Index: int32(idx)}.MarshalBinary()
	ae := netlink.NewAttributeEncoder()
	ae.String(unix.IFLA_IFNAME, name)
	attrs, err := ae.Encode()
	if err != nil {
		return fmt.Errorf("rename link %d: %w", idx, err)
	}
	if _, err := c.exec(ctx, unix.RTM_NEWLINK, netlink.Acknowledge, append(h, attrs...)); err != nil {
		return fmt.Errorf("rename link %d to %q: %w", idx, name, err)
	}
	return nil
}

// SetHardwareAddr sets the link's MAC address. Many drivers refuse (EBUSY) while the link is up.
func (c *Conn) SetHardwareAddr(ctx context.Context, idx int, mac net.HardwareAddr) error {
	h, _ := ifInfoMsg{Index: int32(idx)}.MarshalBinary()
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(unix.IFLA_ADDRESS, mac)
	attrs, err := ae.Encode()
	if err != nil {
		return fmt.Errorf("set MAC: %w", err)
	}
	if _, err := c.exec(ctx, unix.RTM_NEWLINK, netlink.Acknowledge, append(h, attrs...)); err != nil {
		return fmt.Errorf("set MAC %s on link %d: %w", mac, idx, err)
	}
	return nil
}

// carrierPoll is how often WaitCarrier looks. A dump of one link costs microseconds; 20 ms keeps the delay
// after carrier below what anyone would notice at boot.
const carrierPoll = 20 * time.Millisecond

// WaitCarrier waits until the link reports carrier (IFF_LOWER_UP), at most timeout. It never looks at
// operstate: virtio-net turns it "up" 0.8 s after carrier, and TCP works in between. The error on timeout
// wraps ErrNoCarrier and reads "no carrier after 10s".
func (c *Conn) WaitCarrier(ctx context.Context, idx int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	t := time.NewTicker(carrierPoll)
	defer t.Stop()
	for {
		l, err := c.LinkByIndex(ctx, idx)
		if err != nil {
			return err
		}
		if l.Carrier {
			return nil
		}
		if !time.Now().Before(deadline) {
			return &timeoutError{what: "no carrier after " + timeout.String(), err: ErrNoCarrier}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for carrier: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// AddVLAN creates the 802.1Q sub-interface name (VLANName(parent, id) when empty) on the link parent and
// returns it. If a link of that name exists already and is that VLAN on that parent, it is returned as it is.
func (c *Conn) AddVLAN(ctx context.Context, parent Link, id int, name string) (Link, error) {
	if id < 1 || id > 4094 {
		return Link{}, fmt.Errorf("add VLAN: %w: %d", errBadVLAN, id)
	}
	if name == "" {
		name = VLANName(parent.Name, id)
	}
	h, _ := ifInfoMsg{}.MarshalBinary()
	ae := netlink.NewAttributeEncoder()
	ae.String(unix.IFLA_IFNAME, name)
	ae.Uint32(unix.IFLA_LINK, uint32(parent.Index))
	ae.Nested(unix.IFLA_LINKINFO, func(nae *netlink.AttributeEncoder) error {
		nae.String(unix.IFLA_INFO_KIND, "vlan")
		nae.Nested(unix.IFLA_INFO_DATA, func(dae *netlink.AttributeEncoder) error {
			dae.Uint16(unix.IFLA_VLAN_ID, uint16(id))
			return nil
		})
		return nil
	})
	attrs, err := ae.Encode()
	if err != nil {
		return Link{}, fmt.Errorf("add VLAN %s: %w", name, err)
	}
	_, err = c.exec(ctx, unix.RTM_NEWLINK, netlink.Acknowledge|netlink.Create|netlink.Excl, append(h, attrs...))
	// EEXIST is success when the link there is the one we would have made (a second run of the same plan).
	if errors.Is(err, unix.EOPNOTSUPP) {
		return Link{}, fmt.Errorf("add VLAN %s: %w: %w", name, errNoVLANSupport, err)
	}
	if err != nil && !isExist(err) {
		return Link{}, fmt.Errorf("add VLAN %s: %w", name, err)
	}
	l, lerr := c.LinkByName(ctx, name)
	if lerr != nil {
		return Link{}, fmt.Errorf("add VLAN %s: %w", name, lerr)
	}
	if l.Kind != "vlan" || l.VLANID != id || l.Parent != parent.Index {
		return Link{}, fmt.Errorf("add VLAN: %s %w %d on %s (kind %q, id %d)",
			name, errVLANMismatch, id, parent.Name, l.Kind, l.VLANID)
	}
	return l, nil
}
