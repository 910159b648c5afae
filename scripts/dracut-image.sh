#!/bin/bash
# dracut-image.sh: build an initramfs with Debian's dracut 059, unpacked by scripts/deps.sh into its cache
# and never installed (it conflicts with initramfs-tools), for a kernel that is not installed either.
#
# Usage: scripts/dracut-image.sh -k KERNEL_DIR -o OUT (-b ISCSISTART | -r) [-d DRIVER,...] [-a MODULE,...]
#                                [-n INITIATORNAME_FILE]
#   -k  the unpacked kernel package: lib/modules/KVER (KVER is the directory's name)
#   -o  the image to write
#   -b  with contrib/dracut's iscsiboot module and this iscsistart, without dracut's iscsi and network modules
#   -r  the reference: dracut's own iscsi module, with network-legacy (dhclient) and the host's open-iscsi
#   -d  drivers for both (default virtio_pci,virtio_net,ext4,sd_mod: dracut's iscsi module leaves the disk driver
#       to 90kernel-modules, which -m leaves out)
#   -a  more dracut modules for both, such as mdraid (a RAID root across iSCSI disks). mdraid takes Debian's
#       mdadm, unpacked by scripts/deps.sh and never installed, through read-only overlays on /usr/sbin and
#       udev's rules directory in this script's private mount namespace, where dracut looks for it
#   -n  the image's /etc/iscsi/initiatorname.iscsi (dracut's iscsi module wants one without rd.iscsi.initiator)
#
# Both images get the same dracut modules besides iSCSI and network (base, rootfs-block,
# udev-rules and -a's), the same drivers and zstd, so their sizes compare the iSCSI parts alone.
set -euo pipefail

die() { echo "dracut-image.sh: $*" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
kdir="" out="" binary="" ref="" iname="" drivers="virtio_pci,virtio_net,ext4,sd_mod" addmods=""
while getopts k:o:b:rd:a:n: opt; do
	case $opt in
	k) kdir=$(realpath "$OPTARG") ;;
	o) out=$(realpath -m "$OPTARG") ;;
	b) binary=$(realpath "$OPTARG") ;;
	r) ref=1 ;;
	d) drivers=$OPTARG ;;
	a) addmods=$OPTARG ;;
	n) iname=$(realpath "$OPTARG") ;;
	*) die "bad option (see the head of $0)" ;;
	esac
done
[ -n "$kdir" ] && [ -n "$out" ] || die "-k KERNEL_DIR and -o OUT are required"
[ -n "$binary" ] || [ -n "$ref" ] || die "-b ISCSISTART or -r is required"
kver=$(basename "$kdir")
[ -d "$kdir/lib/modules/$kver" ] || die "$kdir has no lib/modules/$kver"
dracut=$("$here/deps.sh" dracut | tail -1)
case ",$addmods," in
*,mdraid,*) mdadm=$("$here/deps.sh" mdadm | tail -1) ;;
*) mdadm="" ;;
esac

if [ "${ISCSIBOOT_DRACUT_NS:-}" != 1 ]; then
	args=(-k "$kdir" -o "$out" -d "$drivers" -a "$addmods")
	[ -z "$binary" ] || args+=(-b "$binary")
	[ -z "$ref" ] || args+=(-r)
	[ -z "$iname" ] || args+=(-n "$iname")
	exec env ISCSIBOOT_DRACUT_NS=1 unshare -m --propagation private "$0" "${args[@]}"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Some module checks (require_kernel_modules) look in /lib/modules/KVER whatever --kmoddir says: give them
# the kernel there, in this private mount namespace only, as scripts/initramfs-tools-image.sh does.
moddir=$(realpath -m /lib/modules)
if [ -d "$moddir" ]; then
	mount -t tmpfs dracut-modules "$moddir"
else
	parent=$(dirname "$moddir")
	mkdir -p "$tmp/upper" "$tmp/work"
	mount -t overlay dracut-overlay -o "lowerdir=$parent,upperdir=$tmp/upper,workdir=$tmp/work" "$parent"
fi
mkdir -p "$moddir/$kver"
mount --bind "$kdir/lib/modules/$kver" "$moddir/$kver"
if [ -n "$mdadm" ]; then
	# where an installed mdadm would be: dracut's mdraid module takes the binaries from PATH and the rules
	# from udev's directory, and strips the incremental assembly from the rules it finds there
	for pair in "$(realpath /sbin):$mdadm/sbin" "$(realpath /lib/udev/rules.d):$mdadm/lib/udev/rules.d"; do
		mount -t overlay dracut-mdadm -o "ro,lowerdir=${pair%%:*}:${pair#*:}" "${pair%%:*}"
	done
fi
# dracut finds its modules under its base directory: a copy of the cached one, with ours added.
cp -a "$dracut/usr/lib/dracut" "$tmp/base"
mkdir -p "$tmp/confdir"
mods="base rootfs-block udev-rules ${addmods//,/ }"
if [ -n "$binary" ]; then
	cp -rL "$here/../contrib/dracut/95iscsiboot" "$tmp/base/modules.d/"
	mods="$mods iscsiboot"
	export ISCSIBOOT_ISCSISTART=$binary
else
	mods="$mods network-legacy network iscsi"
	# dracut's network module brings every NIC driver through kernel-network-modules: in this copy of dracut
	# that module brings none, so that both images hold the same drivers (-d) and the sizes compare iSCSI.
	printf '#!/bin/bash\ncheck() { return 0; }\ndepends() { return 0; }\ninstallkernel() { return 0; }\n' \
		>"$tmp/base/modules.d/90kernel-network-modules/module-setup.sh"
fi
if [ -n "$iname" ]; then
	# dracut's iscsi module copies the host's initiator name only in host-only mode; put it in as a file.
	extra=(--include "$iname" /etc/iscsi/initiatorname.iscsi)
else
	extra=()
fi
dracutbasedir="$tmp/base" "$dracut/usr/bin/dracut" --force ${DRACUT_VERBOSE:---quiet} --no-hostonly --no-hostonly-cmdline \
	--conf /dev/null --confdir "$tmp/confdir" --tmpdir "$tmp" --kver "$kver" \
	--kmoddir "$kdir/lib/modules/$kver" --no-early-microcode --zstd \
	-m "$mods" --add-drivers "${drivers//,/ }" "${extra[@]}" "$out"
