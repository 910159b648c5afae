#!/bin/bash
# initramfs-tools-image.sh: build an initramfs with Debian's own mkinitramfs (and whatever hooks the host's
# packages installed: open-iscsi's among them) for a kernel that is NOT installed on this machine, such as
# scripts/deps.sh's cached one, without writing into the host's /lib/modules, /boot or /etc.
#
# Usage: scripts/initramfs-tools-image.sh -k KERNEL_DIR -o OUT [-b ISCSISTART] [-s ISCSI_INITRAMFS]
#                                         [-n INITIATORNAME_FILE] [-m MODULE,...]
#   -k  the unpacked kernel package: boot/config-KVER and lib/modules/KVER (KVER is the directory's name)
#   -o  the image to write
#   -b  install this iscsistart with contrib/initramfs-tools/hooks/iscsiboot, in place of open-iscsi's
#   -s  a file to put in the image as /etc/iscsi.initramfs (open-iscsi's static target, ISCSI_TARGET_NAME=...)
#   -n  the image's /etc/initiatorname.iscsi (default: InitiatorName=iqn.2025-01.test:init)
#   -m  modules MODULES=list loads (default: virtio_pci,virtio_net,iscsi_tcp,crc32c_generic,sd_mod,ext4)
#
# It runs itself again in a private mount namespace (unshare -m), where it gives mkinitramfs what it reads
# from fixed paths: the kernel's modules at /lib/modules/KVER (a bind mount, over a tmpfs or an overlay of
# the directory above), /boot/config-KVER (a tmpfs on /boot), and the hooks' /etc/iscsi (a tmpfs holding
# only the initiator name and the static target). Everything vanishes with the namespace. Needs root (or a
# user namespace that maps it).
set -euo pipefail

die() { echo "initramfs-tools-image.sh: $*" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
kdir="" out="" binary="" static="" iname="" mods="virtio_pci,virtio_net,iscsi_tcp,crc32c_generic,sd_mod,ext4"
while getopts k:o:b:s:n:m: opt; do
	case $opt in
	k) kdir=$(realpath "$OPTARG") ;;
	o) out=$(realpath -m "$OPTARG") ;;
	b) binary=$(realpath "$OPTARG") ;;
	s) static=$(realpath "$OPTARG") ;;
	n) iname=$(realpath "$OPTARG") ;;
	m) mods=$OPTARG ;;
	*) die "bad option (see the head of $0)" ;;
	esac
done
[ -n "$kdir" ] && [ -n "$out" ] || die "-k KERNEL_DIR and -o OUT are required"
kver=$(basename "$kdir")
[ -d "$kdir/lib/modules/$kver" ] || die "$kdir has no lib/modules/$kver"
[ -f "$kdir/boot/config-$kver" ] || die "$kdir has no boot/config-$kver"
command -v mkinitramfs >/dev/null || die "no mkinitramfs (scripts/deps.sh installs initramfs-tools)"

if [ "${ISCSIBOOT_ITOOLS_NS:-}" != 1 ]; then
	args=(-k "$kdir" -o "$out" -m "$mods")
	[ -z "$binary" ] || args+=(-b "$binary")
	[ -z "$static" ] || args+=(-s "$static")
	[ -z "$iname" ] || args+=(-n "$iname")
	exec env ISCSIBOOT_ITOOLS_NS=1 unshare -m --propagation private "$0" "${args[@]}"
fi

tmp=$(mktemp -d)
trap 'umount -l "$tmp"; rmdir "$tmp"' EXIT
mount -t tmpfs itools "$tmp"

# /lib/modules/KVER: over the host's modules directory when there is one, else in an overlay of its parent.
moddir=$(realpath -m /lib/modules)
if [ -d "$moddir" ]; then
	mount -t tmpfs itools-modules "$moddir"
else
	parent=$(dirname "$moddir")
	mkdir -p "$tmp/upper" "$tmp/work"
	mount -t overlay itools-overlay -o "lowerdir=$parent,upperdir=$tmp/upper,workdir=$tmp/work" "$parent"
fi
mkdir -p "$moddir/$kver"
mount --bind "$kdir/lib/modules/$kver" "$moddir/$kver"

mount -t tmpfs itools-boot /boot
cp "$kdir/boot/config-$kver" /boot/

mkdir -p "$tmp/etc-iscsi"
if [ -n "$iname" ]; then
	cp "$iname" "$tmp/etc-iscsi/initiatorname.iscsi"
else
	echo "InitiatorName=iqn.2025-01.test:init" >"$tmp/etc-iscsi/initiatorname.iscsi"
fi
[ -z "$static" ] || cp "$static" "$tmp/etc-iscsi/iscsi.initramfs"
mkdir -p /etc/iscsi
mount --bind "$tmp/etc-iscsi" /etc/iscsi

# The configuration directory: the host's initramfs.conf with MODULES=list, our modules, our hook.
conf=$tmp/conf
mkdir -p "$conf/conf.d" "$conf/hooks" "$conf/scripts"
sed 's/^MODULES=.*/MODULES=list/' /etc/initramfs-tools/initramfs.conf >"$conf/initramfs.conf"
tr ',' '\n' <<<"$mods" >"$conf/modules"
if [ -n "$binary" ]; then
	install -m 0755 "$here/../contrib/initramfs-tools/hooks/iscsiboot" "$conf/hooks/iscsiboot"
	install -D -m 0755 "$here/../contrib/initramfs-tools/scripts/init-bottom/iscsiboot" \
		"$conf/scripts/init-bottom/iscsiboot"
	echo "ISCSIBOOT_ISCSISTART=$binary" >"$conf/conf.d/iscsiboot"
fi
mkinitramfs -d "$conf" -o "$out" "$kver"
