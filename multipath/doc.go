// Package multipath turns the several paths of one iSCSI disk into one
// device-mapper multipath map, as multipathd would make it, without
// libdevmapper, udev or multipathd in the initramfs: it groups SCSI disks by
// their WWID (VPD page 0x83, as multipath-tools formats it, or the kernel's
// sysfs wwid), names the map as multipathd does (the WWID, or the alias of
// /etc/multipath/bindings) with multipathd's uuid ("mpath-" + WWID) so that
// the real root's multipathd adopts it, writes the "multipath" target's
// table line (drivers/md/dm-mpath.c), and drives the device-mapper through
// its ioctls on /dev/mapper/control (include/uapi/linux/dm-ioctl.h): create,
// load, resume, status, message (reinstate_path), remove.
//
// The wire formats (struct dm_ioctl, struct dm_target_spec, the table and
// status lines, VPD page 0x83, the bindings and wwids files) are pure Go and portable;
// only the ioctls and sysfs reads are Linux-only.
//
// It never imports the rest of this project: package boot calls it after
// the logins, and the resident loop calls it to put a path back into use.
package multipath
