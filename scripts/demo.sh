#!/bin/bash
# make demo: boot Debian's kernel in QEMU (TCG) from an iSCSI root disk through our binary.
# tgtd serves an ext4 image on 127.0.0.1 inside a private network namespace; the guest reaches it through
# slirp's 10.0.2.2. The initramfs is made by iscsiboot-initramfs: our static iscsistart as /init plus the
# kernel modules. It takes its address by DHCP, logs in through the kernel's iSCSI transport, mounts the
# disk, switches to it, and the root's own init prints its os-release. Each line carries the host time.
set -euo pipefail
cd "$(dirname "$0")/.."
ISCSIBOOT_DEMO=1 go test -count=1 -v -run '^TestInitBoot$' ./qemu-tests/ 2>&1 |
	grep -E '^(demo:|  *[0-9]+\.[0-9]+  |--- |ok|FAIL)' | grep -v '^ *[0-9.]*  \[' || { echo "demo failed; run: go test -v -run TestInitBoot ./qemu-tests/" >&2; exit 1; }
