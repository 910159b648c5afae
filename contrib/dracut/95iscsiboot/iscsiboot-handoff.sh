#!/bin/sh
# iscsiboot's pre-pivot hook: hand the boot sessions' node records to the root's iscsid (see
# /sbin/iscsiboot-records), once the root is mounted at $NEWROOT.
[ -d /run/iscsiboot/nodes ] && rootmnt="$NEWROOT" /sbin/iscsiboot-records
