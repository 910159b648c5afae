#!/bin/bash
# uroot-image.sh: build a u-root initramfs with u-root's own tool, mkuimage (busybox mode, no shell), in one
# of two forms:
#   default  /init is our cmd/iscsistart (its own /init mode);
#   -u       /init is u-root's own init (cmds/core/init, at the u-root version of our go.mod), and /bin/uinit
#            our cmd/iscsiboot-uinit, which uses our packages as a library. Built as a u-root user builds
#            their own uinit: from a module of their own that requires u-root and iscsiboot (here a
#            throw-away one, with iscsiboot replaced by this checkout).
# Add the kernel modules afterwards with `iscsiboot-initramfs -append IMG -o IMG2 -modules ...` (no -binary:
# the image has the command).
#
# Usage: scripts/uroot-image.sh [-u] -o OUT
#
# mkuimage is u-root/mkuimage at 9a40452 built with golang.org/x/tools v0.38.0, by `scripts/deps.sh mkuimage`
# (part of `make deps`) through the Go module proxy and cached. With -u, `scripts/deps.sh uroot-init DIR`
# makes the throw-away module, and the modules u-root's init needs (vishvananda/netlink, klauspost/compress,
# ulikunitz/xz) come the same way into Go's module cache the first time (make deps); only that module
# requires them. Nothing is vendored and the project's go.mod is untouched.
set -euo pipefail

die() { echo "uroot-image.sh: $*" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
out=""
uinit=""
while getopts o:u opt; do
	case $opt in
	o) out=$(realpath -m "$OPTARG") ;;
	u) uinit=1 ;;
	*) die "bad option (see the head of $0)" ;;
	esac
done
[ -n "$out" ] || die "-o OUT is required"

mkuimage=$("$here/deps.sh" mkuimage | tail -1)

cd "$here/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$uinit" ]; then
	# mkuimage builds the command from the project's module, as a u-root user builds theirs.
	"$mkuimage" -initcmd=iscsistart -defaultsh="" -tmp-dir "$tmp" -o "$out" ./cmd/iscsistart >&2 ||
		die "mkuimage failed"
	echo "$out"
	exit 0
fi

mkdir "$tmp/mod" "$tmp/build"
mod=$("$here/deps.sh" uroot-init "$tmp/mod" | tail -1)
cd "$mod"
"$mkuimage" -go-mod=mod -initcmd=init -uinitcmd=iscsiboot-uinit -defaultsh="" -tmp-dir "$tmp/build" -o "$out" \
	github.com/u-root/u-root/cmds/core/init github.com/iscsiboot/iscsiboot/cmd/iscsiboot-uinit >&2 ||
	die "mkuimage failed"
echo "$out"
