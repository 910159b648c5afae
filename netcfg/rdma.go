package netcfg

import (
	"fmt"
	"strings"

	"github.com/mdlayher/netlink"
)

// RDMA netlink (NETLINK_RDMA), the nldev client that adds and lists RDMA devices: Linux
// include/uapi/rdma/rdma_netlink.h. A message's type is RDMA_NL_GET_TYPE(client, op), (client << 10) + op;
// its payload is netlink attributes right after the header, with no family header of its own.
const (
	rdmaNLNLDev           = 5  // RDMA_NL_NLDEV, the RDMA device interface
	rdmaNLDevCmdNewLink   = 3  // RDMA_NLDEV_CMD_NEWLINK
	rdmaNLDevAttrDevName  = 2  // RDMA_NLDEV_ATTR_DEV_NAME, NUL-terminated string
	rdmaNLDevAttrNDevName = 51 // RDMA_NLDEV_ATTR_NDEV_NAME, NUL-terminated string
	rdmaNLDevAttrLinkType = 65 // RDMA_NLDEV_ATTR_LINK_TYPE, NUL-terminated string
	// ibDeviceNameMax is IB_DEVICE_NAME_MAX (include/rdma/ib_verbs.h), the NUL included.
	ibDeviceNameMax = 64
)

// rdmaNLType is RDMA_NL_GET_TYPE(client, op).
func rdmaNLType(client, op int) netlink.HeaderType { return netlink.HeaderType(client<<10 + op) }

// SoftRoCEType is the RDMA link type of soft-RoCE, the kernel's rdma_rxe driver, as iproute2's
// `rdma link add NAME type rxe netdev DEV` sends it.
const SoftRoCEType = "rxe"

// SoftRoCE is a soft-RoCE device over a network device, ready for RDMA connections.
type SoftRoCE struct {
	Name   string // the RDMA device: rxe_eth0, or the name another tool gave it
	Netdev string // the network device it runs over
	Added  bool   // false when the network device had one already
	// GIDReady says an address of the network device is in the port's GID table: without one the
	// connection manager finds no route from the device's address, and a connection fails until the
	// kernel's GID worker has caught up.
	GIDReady bool
}

// SoftRoCEName is the name iscsiboot gives the soft-RoCE device it adds over netdev: "rxe_eth0". A name of
// its own per network device never collides with another link's, as "rxe0" would with a boot script's.
func SoftRoCEName(netdev string) string { return "rxe_" + netdev }

// newLinkRequest is the payload of RDMA_NLDEV_CMD_NEWLINK asking for an RDMA device ibdev of type
// linkType over the network device netdev, in the attribute order iproute2's rdma/link.c uses. The kernel
// (drivers/infiniband/core/nldev.c, nldev_newlink) needs all three and refuses a '%' in the name.
func newLinkRequest(ibdev, linkType, netdev string) ([]byte, error) {
	if !validLinkName(netdev) {
		return nil, fmt.Errorf("%w %q", errBadName, netdev)
	}
	if ibdev == "" || len(ibdev) >= ibDeviceNameMax || strings.ContainsAny(ibdev, "%/\x00") {
		return nil, fmt.Errorf("%w %q: an RDMA device name is 1-%d bytes without %%, / or NUL", errBadName, ibdev, ibDeviceNameMax-1)
	}
	ae := netlink.NewAttributeEncoder()
	ae.String(rdmaNLDevAttrDevName, ibdev)
	ae.String(rdmaNLDevAttrLinkType, linkType)
	ae.String(rdmaNLDevAttrNDevName, netdev)
	return ae.Encode()
}
