package handoff

import (
	"errors"
	"fmt"

	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/plan"
	"golang.org/x/sys/unix"
)

// LeaveRecords writes the node records of the sessions a login brought up
// (NodeRecord.WriteFiles: /run/iscsiboot/nodes, which moves into the
// real root with /run, and the initramfs's own /etc/iscsi/nodes), so that a
// step after the root is mounted (contrib/initramfs-tools' init-bottom
// script, dracut's module) can hand them to the root's iscsid, which then
// adopts the sessions with their root-disk timers instead of iscsid.conf's.
// It does so only in an initramfs (a root file system of ramfs or tmpfs):
// on a running system those files are iscsiadm's. It returns how many it
// wrote.
func LeaveRecords(k *boot.Kernel, p *plan.Plan, sessions []*boot.Session) (int, error) {
	if !InInitramfs() {
		return 0, nil
	}
	var errs []error
	n := 0
	for _, r := range NodeRecords(k, p, sessions) {
		if err := r.WriteFiles("/"); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("node records: %w", err)
	}
	return n, nil
}

// InInitramfs tells whether / is an initramfs: the kernel unpacks one into
// a ramfs or tmpfs, and a running system's root is neither.
func InInitramfs() bool {
	var st unix.Statfs_t
	if err := unix.Statfs("/", &st); err != nil {
		return false
	}
	return st.Type == unix.RAMFS_MAGIC || st.Type == unix.TMPFS_MAGIC
}
