#!/bin/sh
# unpack-time.sh: how long Debian's kernel takes to unpack each initramfs, and when it starts /init, under QEMU TCG.
#
#   scripts/unpack-time.sh [ROUNDS] IMAGE...      (e.g. after `make sizes`: 3 out/sizes/initrd.gzip out/sizes/initrd.zstd)
#
# Boots the images in turn, one VM at a time, ROUNDS times each (default 3), with no network, and prints the
# kernel's own times: "Trying to unpack rootfs image" to "Freeing initrd memory", and "Run /init". The unpack runs
# beside the rest of the kernel's start-up, so /init's start is what a boot feels. Each boot is killed at /init's
# start or after 40 s.
set -eu
rounds=3
case ${1:-} in [0-9]*) rounds=$1; shift ;; esac
[ $# -gt 0 ] || { echo "usage: $0 [ROUNDS] IMAGE..." >&2; exit 2; }
kdir=${ISCSIBOOT_KERNEL_DIR:-$(scripts/deps.sh kernel | tail -n 1)}
kver=$(basename "$kdir")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
stamp() { sed -n "/$1/{s/^\[ *\([0-9.]*\)\].*/\1/p;q}" "$log"; }
r=1
while [ "$r" -le "$rounds" ]; do
	for img in "$@"; do
		timeout 40 qemu-system-x86_64 -machine accel=tcg -m 512 -nographic -no-reboot -net none \
			-kernel "$kdir/boot/vmlinuz-$kver" -initrd "$img" -append 'console=ttyS0 panic=-1' >"$log" 2>&1 &
		pid=$!
		i=0
		while [ $i -lt 400 ] && ! grep -q 'Run /init' "$log"; do sleep 0.1; i=$((i + 1)); done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		a=$(stamp 'Trying to unpack'); b=$(stamp 'Freeing initrd memory'); c=$(stamp 'Run \/init')
		echo "$img round $r: unpack $(echo "${b:-0} ${a:-0}" | awk '{printf "%.2f", $1 - $2}') s, /init at ${c:-never} s"
	done
	r=$((r + 1))
done
