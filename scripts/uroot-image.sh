#!/bin/bash
# uroot-image.sh: build a u-root initramfs with u-root's own tool, mkuimage, whose /init is our
# cmd/iscsistart (in u-root's busybox) and which has no shell. Add the kernel modules afterwards with
# `iscsiboot-initramfs -append IMG -o IMG2 -modules ...` (no -binary: the image has the command).
#
# Usage: scripts/uroot-image.sh -o OUT
#
# mkuimage is u-root/mkuimage at 9a40452 (2025-09-05) built with golang.org/x/tools v0.38.0: the latest tag
# pins an x/tools that Go 1.26 no longer compiles. Both come through the Go module proxy into a throw-away
# module in the cache; nothing is vendored and the project's go.mod is untouched. The binary is cached.
set -euo pipefail

die() { echo "uroot-image.sh: $*" >&2; exit 1; }

MKUIMAGE_VERSION=v0.0.0-20250905073043-9a40452f5d3b
XTOOLS_VERSION=v0.38.0

here=$(cd "$(dirname "$0")" && pwd)
out=""
while getopts o: opt; do
	case $opt in
	o) out=$(realpath -m "$OPTARG") ;;
	*) die "bad option (see the head of $0)" ;;
	esac
done
[ -n "$out" ] || die "-o OUT is required"

cache=${ISCSIBOOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iscsiboot}/mkuimage-$MKUIMAGE_VERSION
mkuimage=$cache/mkuimage
if [ ! -x "$mkuimage" ]; then
	mkdir -p "$cache"
	mod=$(mktemp -d "$cache/build.XXXXXX")
	trap 'rm -rf "$mod"' EXIT
	(
		cd "$mod"
		go mod init iscsiboot.local/mkuimage >/dev/null 2>&1
		go get "github.com/u-root/mkuimage/cmd/mkuimage@$MKUIMAGE_VERSION" "golang.org/x/tools@$XTOOLS_VERSION" >&2
		CGO_ENABLED=0 go build -o "$mod/mkuimage" github.com/u-root/mkuimage/cmd/mkuimage
	) || die "building mkuimage $MKUIMAGE_VERSION failed"
	mv "$mod/mkuimage" "$mkuimage"
	rm -rf "$mod"
	trap - EXIT
	echo "uroot-image.sh: built $mkuimage" >&2
fi

# mkuimage builds the command from the project's module, as a u-root user builds theirs.
cd "$here/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$mkuimage" -initcmd=iscsistart -defaultsh="" -tmp-dir "$tmp" -o "$out" ./cmd/iscsistart >&2 ||
	die "mkuimage failed"
echo "$out"
