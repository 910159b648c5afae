#!/bin/bash
# iscsiboot's dracut module, in place of dracut's 95iscsi: the same command line (netroot=iscsi:...,
# root=iscsi:..., netroot=dhcp with DHCP's root-path, rd.iscsi.*, ip=, rd.iscsi.firmware with the iBFT) is
# read by our static iscsistart (--boot), which brings the network up, logs in and leaves the hand-off
# files; dracut's own root handling (rootfs-block) mounts the root. No iscsid, iscsiadm, dhclient or network
# module in the image.
#
# Install: this directory as /usr/lib/dracut/modules.d/95iscsiboot, the binary as /usr/local/sbin/iscsistart
# (`make install` does both), then `dracut --add iscsiboot --omit "iscsi network" ...`. ISCSIBOOT_ISCSISTART
# in dracut's environment names another binary.
#
# A root on md RAID across the LUNs of several targets needs nothing more here: our one initqueue job
# logs in to every target before it returns, and dracut's mdraid module, added with --add, assembles
# the volume from udev's events for the new disks, with rd.auto or rd.md.uuid= on the command line.

iscsiboot_binary() {
    echo "${ISCSIBOOT_ISCSISTART:-/usr/local/sbin/iscsistart}"
}

# called by dracut
check() {
    [[ -x $(iscsiboot_binary) ]] || return 1
    # only when asked for (--add iscsiboot): it replaces 95iscsi, which hostonly picks for an iSCSI root
    return 255
}

# called by dracut
depends() {
    echo rootfs-block
    return 0
}

# called by dracut
installkernel() {
    # the offload HBAs 95iscsi brings; our iscsistart logs in through their transports too
    instmods bnx2i qla4xxx cxgb3i cxgb4i be2iscsi qedi
    hostonly="" instmods iscsi_tcp iscsi_ibft crc32c crc32c_generic iscsi_boot_sysfs sd_mod
    dracut_instmods -o -s iscsi_register_transport =drivers/scsi
}

# called by dracut
install() {
    inst_simple "$(iscsiboot_binary)" /sbin/iscsistart
    inst_hook cmdline 90 "$moddir/parse-iscsiboot.sh"
    inst_script "$moddir/iscsiboot-root.sh" /sbin/iscsiboot-root
    inst_script "$moddir/iscsiboot-records.sh" /sbin/iscsiboot-records
    # what iscsiboot-records runs besides the tools dracut's base module brings
    inst_multiple find sort wc dirname touch
    inst_hook pre-pivot 90 "$moddir/iscsiboot-handoff.sh"
    if [[ $hostonly ]] && [[ -r /etc/iscsi/initiatorname.iscsi ]]; then
        inst_simple /etc/iscsi/initiatorname.iscsi
    fi
}
