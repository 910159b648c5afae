#!/bin/sh
# iscsiboot's cmdline hook: when the command line asks for an iSCSI root in any of the forms dracut's 95iscsi
# reads, queue our login for once udev has settled (the NIC's driver is loaded then), and tell dracut's
# root handling where the root will be: root=iscsi:..., root=dhcp and netroot=dhcp's root=/dev/root become
# /dev/root, which our login links to the disk; root=LABEL=... and the like stay dracut's.

type getarg > /dev/null 2>&1 || . /lib/dracut-lib.sh

[ -z "$root" ] && root=$(getarg root=)
iscsiboot=""
case "$root" in
    iscsi:* | dhcp | dhcp6) iscsiboot=1 ;;
esac
for nroot in $(getargs netroot=); do
    case "$nroot" in
        iscsi:* | dhcp | dhcp6) iscsiboot=1 ;;
    esac
done
getargbool 0 rd.iscsi.firmware -d -y iscsi_firmware && iscsiboot=1
getargbool 0 rd.iscsi.ibft -d -y ip=ibft && iscsiboot=1
[ -n "$(getarg rd.iscsi.target.name=)" ] && iscsiboot=1
[ -n "$(getarg iscsi_target_name=)" ] && iscsiboot=1
getarg iscsi_auto > /dev/null && iscsiboot=1

if [ -n "$iscsiboot" ]; then
    case "$root" in
        iscsi:* | dhcp | dhcp6 | /dev/root | "")
            root=block:/dev/root
            rootok=1
            ;;
    esac
    echo '[ -e /tmp/iscsiboot.done ]' > "$hookdir"/initqueue/finished/iscsiboot.sh
    /sbin/initqueue --settled --onetime --unique --name iscsiboot /sbin/iscsiboot-root
fi
