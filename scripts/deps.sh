#!/bin/bash
# deps.sh: everything the tests need on a Debian host, installed or cached idempotently.
#
# Usage: scripts/deps.sh [all|packages|kernel|dracut|mdadm|mkuimage|uroot-init [DIR]]
#   packages  install the Debian packages the tests use (root only when something is missing)
#   kernel    fetch Debian's current linux-image-amd64 into the cache, depmod it, extract an uncompressed
#             vmlinux for QEMU's PVH boot; the last line on stdout is the kernel directory
#   dracut    fetch Debian's dracut (dracut-core, dracut-network) into the cache, unpacked and NOT installed:
#             it conflicts with initramfs-tools as a package; the last line on stdout is its directory
#   mdadm     fetch Debian's mdadm into the cache, unpacked and NOT installed: dracut's mdraid module and the
#             RAID scenario's preparation guest take it from there; the last line on stdout is its directory
#   mkuimage  build u-root's mkuimage into the cache (for scripts/uroot-image.sh) from the Go module proxy,
#             in a throw-away module, never vendored; the last line on stdout is the binary
#   uroot-init  the module scripts/uroot-image.sh -u builds in: u-root's own init (cmds/core/init, at the
#             u-root version of go.mod) and our cmd/iscsiboot-uinit, with what they need in Go's module
#             cache, fetched through the Go module proxy the first time only; made in DIR (printed), or
#             in a throw-away directory just to fill the cache
#   all       all of them (the default; what `make deps` runs)
#
# Kernel cache: ${ISCSIBOOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iscsiboot}/kernel/<kver>/ holding
# boot/vmlinuz-<kver>, lib/modules/<kver>/ (with modules.dep) and vmlinux. A finished directory has a
# .complete file; anything without it is rebuilt, so an interrupted run never leaves a half kernel in use.
# Everything but the final path goes to stderr, so callers can take the path from stdout.
set -euo pipefail

# initramfs-tools (with zstd, its default compressor) builds the Debian-image scenarios (qemu-tests/itools*).
# isc-dhcp-client and iputils-arping are what dracut's own network-legacy module puts in its iSCSI image,
# the yardstick for contrib/dracut's.
# dmsetup shows the multipath scenarios' maps in the guest's root; multipath-tools' multipathd is the
# hand-off partner of a multipath root (copied into the guest's root image, never run on the host).
# groff-base checks that the iscsistart(8) man page renders without a warning.
PKGS=(qemu-system-x86 tgt busybox-static cpio ipxe-qemu open-iscsi kmod xz-utils iproute2 e2fsprogs
	initramfs-tools zstd isc-dhcp-client iputils-arping dmsetup multipath-tools groff-base)
CACHE=${ISCSIBOOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iscsiboot}

log() { echo "deps.sh: $*" >&2; }
die() { log "$*"; exit 1; }

missing_packages() {
	local p st
	for p in "${PKGS[@]}"; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$st" = installed ] || echo "$p"
	done
}

# The postinst scripts of tgt and open-iscsi start their daemons where an init system lets them. A system
# tgtd would hold port 3260 and /run/tgtd on the host; the tests run their own in a private namespace, so
# stop the packaged services and keep them from starting at boot.
stop_initd() {
	log "stopping /etc/init.d/$1 (the tests run their own tgtd)"
	"/etc/init.d/$1" stop >/dev/null 2>&1 || true
}

stop_services() {
	local svc
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		for svc in tgt iscsid iscsid.socket open-iscsi multipathd multipathd.socket; do
			if systemctl is-active --quiet "$svc" 2>/dev/null; then
				log "stopping system service $svc (the tests run their own tgtd)"
				systemctl stop "$svc" || true
			fi
			systemctl disable --quiet "$svc" 2>/dev/null || true
		done
	else
		# no systemd: the sysvinit scripts, only for a daemon that really runs
		pgrep -x tgtd >/dev/null && [ -x /etc/init.d/tgt ] && stop_initd tgt
		pgrep -x iscsid >/dev/null && [ -x /etc/init.d/iscsid ] && stop_initd iscsid
		pgrep -x multipathd >/dev/null && [ -x /etc/init.d/multipath-tools ] && stop_initd multipath-tools
	fi
	local d pids=""
	for d in tgtd iscsid multipathd; do pids="$pids $(pgrep -x "$d" 2>/dev/null || true)"; done
	pids=$(echo $pids)
	[ -z "$pids" ] || log "warning: system tgtd/iscsid/multipathd still running (pids $pids), stop them by hand"
}

install_packages() {
	local missing
	missing=$(missing_packages)
	if [ -z "$missing" ]; then
		return 0
	fi
	missing=$(echo $missing)
	if [ "$(id -u)" != 0 ]; then
		die "missing Debian packages: $missing; run 'sudo $0 packages' (or: apt-get install $missing)"
	fi
	log "installing $missing"
	# policy-rc.d 101 tells invoke-rc.d not to start services from postinst; only ours is removed afterwards.
	local policy=/usr/sbin/policy-rc.d ours=0
	if [ ! -e $policy ]; then
		printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy && ours=1
	fi
	local rc=0
	{ apt-get update -q >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2; } || rc=$?
	[ $ours = 0 ] || rm -f $policy
	[ $rc = 0 ] || die "apt-get install $missing failed (exit $rc)"
	stop_services
}

# extract_vmlinux BZIMAGE OUT: the ELF inside a bzImage, found by the magic of its compressed payload.
# QEMU boots an ELF vmlinux through its PVH note, which skips the slow in-guest decompression under TCG.
extract_vmlinux() {
	local img=$1 out=$2 magic tool off
	for spec in '\xfd7zXZ\x00:xz -dc --single-stream' '\x1f\x8b\x08:gzip -dc' '\x28\xb5\x2f\xfd:zstd -dc'; do
		magic=${spec%%:*}
		tool=${spec#*:}
		for off in $(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1); do
			command -v "${tool%% *}" >/dev/null || die "${tool%% *} needed to unpack the kernel payload"
			# decompressors complain about the bytes after the payload; the ELF check below is the test
			tail -c +$((off + 1)) "$img" | $tool >"$out" 2>/dev/null || true
			if [ "$(head -c 4 "$out" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
				return 0
			fi
		done
	done
	rm -f "$out"
	die "no ELF payload found in $img"
}

fetch_kernel() {
	local pkg kver dir tmp deb
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
	[ -n "$pkg" ] || die "cannot resolve linux-image-amd64 (apt-cache depends); is apt's package list present?"
	kver=${pkg#linux-image-}
	dir=$CACHE/kernel/$kver
	if [ -e "$dir/.complete" ]; then
		echo "$dir"
		return 0
	fi
	mkdir -p "$CACHE/kernel"
	tmp=$(mktemp -d "$CACHE/kernel/.tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	log "fetching $pkg"
	(cd "$tmp" && apt-get download -q "$pkg" >&2) || die "apt-get download $pkg failed"
	deb=$(ls "$tmp"/"$pkg"_*.deb)
	mkdir "$tmp/root"
	dpkg-deb -x "$deb" "$tmp/root"
	rm -f "$deb"
	# newer Debian ships modules under /usr/lib; depmod -b looks under lib/
	if [ ! -d "$tmp/root/lib/modules" ] && [ -d "$tmp/root/usr/lib/modules" ]; then
		ln -s usr/lib "$tmp/root/lib"
	fi
	[ -d "$tmp/root/lib/modules/$kver" ] || die "$pkg has no lib/modules/$kver"
	# the .deb ships no modules.dep
	depmod -b "$tmp/root" "$kver"
	extract_vmlinux "$tmp/root/boot/vmlinuz-$kver" "$tmp/root/vmlinux"
	touch "$tmp/root/.complete"
	rm -rf "$dir"
	mv "$tmp/root" "$dir"
	rm -rf "$tmp"
	trap - EXIT
	log "kernel $kver cached in $dir"
	echo "$dir"
}

# fetch_unpacked NAME CHECK PKG...: Debian's packages PKG..., at the candidate version of the first, unpacked
# into $CACHE/NAME/VERSION, not installed; CHECK is an executable the unpacked tree must hold. Prints the
# directory, made once.
fetch_unpacked() {
	local name=$1 check=$2 ver dir tmp deb
	shift 2
	ver=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/{print $2; exit}')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "cannot resolve $1 (apt-cache policy)"
	dir=$CACHE/$name/$ver
	if [ -e "$dir/.complete" ]; then
		echo "$dir"
		return 0
	fi
	mkdir -p "$CACHE/$name"
	tmp=$(mktemp -d "$CACHE/$name/.tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	log "fetching $* $ver"
	(cd "$tmp" && apt-get download -q "${@/%/=$ver}" >&2) || die "apt-get download $* failed"
	mkdir "$tmp/root"
	for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
	[ -x "$tmp/root/$check" ] || die "$1 $ver has no $check"
	touch "$tmp/root/.complete"
	rm -rf "$dir"
	mv "$tmp/root" "$dir"
	rm -rf "$tmp"
	trap - EXIT
	log "$name $ver cached in $dir"
	echo "$dir"
}

# fetch_dracut: Debian's dracut packages unpacked into the cache, for scripts/dracut-image.sh.
fetch_dracut() { fetch_unpacked dracut usr/bin/dracut dracut-core dracut-network; }

# fetch_mdadm: Debian's mdadm unpacked into the cache. Installed, it would add its hook to every image the
# host's mkinitramfs builds (the initramfs-tools scenarios' included) and assemble arrays on the host; the
# dracut RAID scenario needs its binary and udev rules alone (scripts/dracut-image.sh -a mdraid).
fetch_mdadm() { fetch_unpacked mdadm sbin/mdadm mdadm; }

# build_mkuimage: u-root/mkuimage at 9a40452 (2025-09-05) built with golang.org/x/tools v0.38.0, since the
# latest tag pins an x/tools that Go 1.26 no longer compiles. Both come through the Go module proxy into a
# throw-away module; the project's go.mod is untouched.
MKUIMAGE_VERSION=v0.0.0-20250905073043-9a40452f5d3b
XTOOLS_VERSION=v0.38.0
build_mkuimage() {
	local dir=$CACHE/mkuimage-$MKUIMAGE_VERSION mod
	if [ -x "$dir/mkuimage" ]; then
		echo "$dir/mkuimage"
		return
	fi
	mkdir -p "$dir"
	mod=$(mktemp -d "$dir/.tmp.XXXXXX")
	trap 'rm -rf "$mod"' EXIT
	log "building mkuimage $MKUIMAGE_VERSION with golang.org/x/tools $XTOOLS_VERSION"
	(
		cd "$mod"
		go mod init iscsiboot.local/mkuimage >/dev/null 2>&1
		go get "github.com/u-root/mkuimage/cmd/mkuimage@$MKUIMAGE_VERSION" "golang.org/x/tools@$XTOOLS_VERSION" >&2
		CGO_ENABLED=0 go build -o "$mod/mkuimage" github.com/u-root/mkuimage/cmd/mkuimage
	) || die "building mkuimage $MKUIMAGE_VERSION failed"
	mv "$mod/mkuimage" "$dir/mkuimage"
	rm -rf "$mod"
	trap - EXIT
	log "mkuimage cached in $dir"
	echo "$dir/mkuimage"
}

# uroot_init_module DIR: a module in DIR that requires u-root and this checkout of iscsiboot (replaced by
# its path), as a u-root user's own module for their uinit would, with every module that u-root's init
# and cmd/iscsiboot-uinit need in Go's module cache. Offline when the cache has them, as in the tests'
# network namespace; else through the Go module proxy (make deps). Only this module requires u-root's
# init's own dependencies (vishvananda/netlink, klauspost/compress, ulikunitz/xz): the project's go.mod
# is untouched.
UROOT_INIT_PKGS=(github.com/u-root/u-root/cmds/core/init github.com/iscsiboot/iscsiboot/cmd/iscsiboot-uinit)
uroot_init_module() {
	local dir=$1 src uver
	src=$(cd "$(dirname "$0")/.." && pwd)
	uver=$(cd "$src" && go list -m -f '{{.Version}}' github.com/u-root/u-root) || die "no u-root version in $src/go.mod"
	(
		cd "$dir"
		go mod init iscsiboot.local/uimage >/dev/null 2>&1
		go mod edit -require=github.com/iscsiboot/iscsiboot@v0.0.0-00010101000000-000000000000 \
			-replace=github.com/iscsiboot/iscsiboot="$src" -require="github.com/u-root/u-root@$uver"
		GOPROXY=off GOFLAGS="${GOFLAGS:-} -mod=mod" go list -deps "${UROOT_INIT_PKGS[@]}" >/dev/null 2>&1 || {
			log "fetching the modules of u-root's init $uver"
			GOFLAGS="${GOFLAGS:-} -mod=mod" go list -deps "${UROOT_INIT_PKGS[@]}" >/dev/null
		}
	) || die "the module of u-root's init $uver and cmd/iscsiboot-uinit: its modules are not in Go's module cache (scripts/deps.sh uroot-init, with the Go module proxy, fetches them)"
	echo "$dir"
}

cache_uroot_init() {
	local mod
	mod=$(mktemp -d)
	trap 'rm -rf "$mod"' EXIT
	uroot_init_module "$mod" >/dev/null
	rm -rf "$mod"
	trap - EXIT
}

case "${1:-all}" in
packages) install_packages ;;
kernel) fetch_kernel ;;
dracut) fetch_dracut ;;
mdadm) fetch_mdadm ;;
mkuimage) build_mkuimage ;;
uroot-init)
	if [ -n "${2:-}" ]; then
		uroot_init_module "$2"
	else
		cache_uroot_init
	fi
	;;
all)
	install_packages
	stop_services
	fetch_dracut >/dev/null
	fetch_mdadm >/dev/null
	build_mkuimage >/dev/null
	cache_uroot_init
	fetch_kernel
	;;
*) die "usage: $0 [all|packages|kernel|dracut|mdadm|mkuimage|uroot-init [DIR]]" ;;
esac
