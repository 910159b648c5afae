#!/bin/bash
# uroot-image.sh: build a u-root initramfs with u-root's own tool, mkuimage, whose /init is our
# cmd/iscsistart (in u-root's busybox) and which has no shell. Add the kernel modules afterwards with
# `iscsiboot-initramfs -append IMG -o IMG2 -modules ...` (no -binary: the image has the command).
#
# Usage: scripts/uroot-image.sh -o OUT
#
# mkuimage is u-root/mkuimage at 9a40452 built with golang.org/x/tools v0.38.0, by `scripts/deps.sh mkuimage`
# (part of `make deps`) through the Go module proxy and cached; nothing is vendored and the project's go.mod
# is untouched.
set -euo pipefail

die() { echo "uroot-image.sh: $*" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
out=""
while getopts o: opt; do
	case $opt in
	o) out=$(realpath -m "$OPTARG") ;;
	*) die "bad option (see the head of $0)" ;;
	esac
done
[ -n "$out" ] || die "-o OUT is required"

mkuimage=$("$here/deps.sh" mkuimage | tail -1)

# mkuimage builds the command from the project's module, as a u-root user builds theirs.
cd "$here/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$mkuimage" -initcmd=iscsistart -defaultsh="" -tmp-dir "$tmp" -o "$out" ./cmd/iscsistart >&2 ||
	die "mkuimage failed"
echo "$out"
