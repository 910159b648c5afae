// Package kernel drives the Linux kernel's iSCSI transport over
// NETLINK_ISCSI (include/scsi/iscsi_if.h): it creates sessions and
// connections, binds a connected TCP socket to them, carries login PDUs
// between the kernel and package core (SEND_PDU out, RECV_PDU in), sets the
// negotiated and identity parameters, starts the connection, and finds the
// SCSI host and block device the session brings, through sysfs.
//
// It never speaks the iSCSI login itself (package core does) and never
// touches the network configuration.
package kernel
