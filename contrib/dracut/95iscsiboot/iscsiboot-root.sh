#!/bin/sh
# iscsiboot's initqueue job: one call of our iscsistart, which reads the command line and the iBFT, brings
# the network up, logs in to every target and prints the root disk's device; /dev/root points at it for the
# forms whose root= names no file system of its own. A failed boot is dracut's to report (die).

type getarg > /dev/null 2>&1 || . /lib/dracut-lib.sh

# iscsi_tcp needs crc32c before its first connection, and nothing in modules.dep says so
modprobe -a -b -q crc32c_generic crc32c iscsi_tcp sd_mod
modprobe -a -b -q iscsi_boot_sysfs iscsi_ibft
if ! dev=$(/sbin/iscsistart --boot); then
    die "iscsiboot: no iSCSI root (see the lines above)"
fi
if [ -n "$dev" ] && [ ! -e /dev/root ]; then
    ln -s "$dev" /dev/root
fi
info "iscsiboot: root disk $dev"
: > /tmp/iscsiboot.done
