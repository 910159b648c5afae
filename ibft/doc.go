// Package ibft reads and writes the iSCSI Boot Firmware Table (iBFT), the
// ACPI table through which a NIC boot ROM, iPXE or an offload HBA tells the
// operating system which iSCSI disk it booted from.
//
// It parses the raw table (iBFT 1.03, as Linux's drivers/firmware/iscsi_ibft.c
// accepts it) and marshals tables the kernel accepts; finds the table on a
// running machine (ACPI, the legacy low-memory scan, the kernel's
// /sys/firmware/ibft view, offload HBAs' /sys/firmware/iscsi_boot*), with every
// path under a configurable root; prints the firmware records exactly as
// open-iscsi's "iscsistart -f" does; and gives higher layers the boot targets
// joined with their initiator name, NIC and CHAP settings.
//
// u-root's pkg/boot/ibft was not reused: it only marshals, fills one NIC and
// one target slot, and takes the LUN as a plain integer rather than the
// 8-byte SAM structure; here both directions and both slots are needed.
//
// It never touches the network, never changes system state, and never writes a
// CHAP secret into an error, a String or JSON form, or a log unless the caller
// explicitly asks for secrets.
package ibft
