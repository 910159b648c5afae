// Package boot turns what a machine says about its iSCSI root into a Plan,
// and runs it.
//
// The sources are the kernel command line in dracut's syntax (netroot=,
// root=iscsi:, rd.iscsi.*, ip=, vlan=, ifname=, ...) and its deprecated and
// Debian spellings (iscsi_*=, iscsi_auto), Debian's initramfs-tools
// variables (ISCSI_* in /etc/iscsi.initramfs, read and never run), the DHCP
// root-path, the iBFT, and iscsistart's flags. Each becomes a Plan; Merge
// combines them, flags over command line over firmware over defaults.
//
// A Plan is plain data: building and printing one (iscsistart --plan) reads
// its inputs and touches nothing. Passwords stay in the Plan for the login
// but never leave it: every printed form, errors included, shows
// "<redacted>".
package boot
