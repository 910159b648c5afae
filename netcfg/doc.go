// Package netcfg brings network interfaces up for an iSCSI boot: it finds a link by MAC address or name (and
// renames it, for dracut's ifname=), sets its MAC address and MTU, brings it up and waits (bounded) for carrier,
// creates VLAN sub-interfaces, and configures addresses,
// routes and name servers statically, with DHCPv4 (including option 17, the RFC 4173 iSCSI root path), with
// DHCPv6, or by waiting for a SLAAC address. It also writes the files other tools read afterwards:
// /etc/resolv.conf and Debian's /run/net-<dev>.conf and /run/initramfs/open-iscsi.interface. For an iSER
// boot over plain Ethernet it adds a soft-RoCE device (rdma_rxe) on a link over RDMA netlink, as iproute2's
// `rdma link add` does (AddSoftRoCE).
//
// The boot orchestrator calls Configure with plain data and gets plain data back. Everything talks to the
// kernel over rtnetlink (github.com/mdlayher/netlink) with small hand-written message codecs, and DHCP runs
// over github.com/insomniacslk/dhcp; no external command is ever run.
//
// netcfg never removes an address, route or link it did not create, never waits without a deadline, and never
// waits for operstate: virtio-net reports carrier at once and operstate "up" 0.8 s later while TCP already
// works, so carrier (IFF_LOWER_UP) is what counts. Adding an address, route or VLAN that already exists
// succeeds, so a boot script may call it twice. It never keeps a DHCP string (host and domain names, root
// path, initiator name, boot file) that fails its option's syntax: the value is dropped and named, escaped, in
// a warning line, and the files it writes refuse any value with a control byte.
package netcfg
