// Package plan turns what a machine says about its iSCSI root into a Plan:
// plain data, portable, unit-testable anywhere.
//
// It holds the model (Plan, Target, Portal, Auth, Interface), the one
// table of session values (Settings: every open-iscsi record name with
// its default, root-disk value, kernel parameter, type and range), one
// source per input, and Merge, which combines them, flags over command
// line over firmware over defaults. The sources are the kernel command
// line in dracut's syntax (netroot=, root=iscsi:, rd.iscsi.*, ip=, vlan=,
// ifname=, ...) and its deprecated and Debian spellings (iscsi_*=,
// iscsi_auto), Debian's initramfs-tools variables (ISCSI_* in
// /etc/iscsi.initramfs, read and never run), the DHCP root-path, the iBFT,
// and iscsistart's flags (built by cmd/iscsistart from the same types).
//
// Building and printing a plan (iscsistart --plan) reads its inputs and
// touches nothing: this package makes no system call and opens no socket;
// it never imports boot or netcfg, and of core/kernel it uses only the
// parameter ids that its table of session values names. Passwords stay in
// the Plan for the login but never leave it: every printed form, errors
// included, shows "<redacted>".
package plan
