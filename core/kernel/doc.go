// Package kernel drives the Linux kernel's iSCSI transport over
// NETLINK_ISCSI (include/scsi/iscsi_if.h), and holds the whole kernel
// session: Initiator.Login connects, creates the session and connection,
// binds the socket, sets the identity and recovery parameters, carries the
// login PDUs between the kernel and package core's state machine (SEND_PDU
// out, RECV_PDU in), sets the negotiated parameters, starts the
// connection, scans the LUN and waits for its disk; Reopen logs in again
// after a connection error, as iscsid does. Redirects go through core's
// one redirect loop. Sysfs finds the SCSI host, the block device and the
// sessions the kernel already has.
//
// It never decides what to log in to (package plan does), never speaks
// the iSCSI login itself (package core does) and never touches the
// network configuration (package netcfg does).
package kernel
