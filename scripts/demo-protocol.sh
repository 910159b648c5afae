#!/bin/bash
# make demo-protocol: our iscsistart against a real tgtd, in a private network namespace where only 127.0.0.1 exists.
# Discovery, then a full login with mutual CHAP and CRC32C digests, the negotiated parameters and the LUNs,
# then a wrong password decoded. Nothing leaves the machine; tgtd is stopped at the end.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$HERE/out/iscsistart}
if [ "${1:-}" != inside ]; then
	exec unshare -r -n -m "$0" inside
fi
WORK=$(mktemp -d)
ip link set lo up
mount -t tmpfs -o mode=755 demo-run /run   # tgtd's socket path /var/run/tgtd/socket.N is compiled in
mkdir -p /run/tgtd
ts() { printf '[%6.3f] %s\n' "$(awk -v s="$START" 'BEGIN{srand(); } {print $1 - s}' /proc/uptime)" "$*"; }
START=$(cut -d' ' -f1 /proc/uptime)
CP=$$
tgtd -f -C $CP --iscsi portal=127.0.0.1:3260 >"$WORK/tgtd.log" 2>&1 &
TGTD=$!
stop() {
	tgtadm -C $CP --op delete --mode target --tid 1 --force >/dev/null 2>&1 || true
	tgtadm -C $CP --op delete --mode system >/dev/null 2>&1 || true
	for _ in $(seq 30); do kill -0 $TGTD 2>/dev/null || break; sleep 0.1; done
	kill -9 $TGTD 2>/dev/null || true
	rm -rf "$WORK"
}
trap stop EXIT
for _ in $(seq 50); do tgtadm -C $CP --op show --mode sys >/dev/null 2>&1 && break; sleep 0.1; done
T() { tgtadm -C $CP --lld iscsi "$@"; }
truncate -s 64M "$WORK/disk.img"
T --op new --mode target --tid 1 -T iqn.2025-01.test:disk1
T --op new --mode logicalunit --tid 1 --lun 1 -b "$WORK/disk.img"
T --op bind --mode target --tid 1 -I ALL
T --op new --mode account --user alice --password alice-secret-1
T --op new --mode account --user disk1 --password target-secret-2
T --op bind --mode account --tid 1 --user alice
T --op bind --mode account --tid 1 --user disk1 --outgoing
T --op update --mode target --tid 1 --name HeaderDigest --value CRC32C
T --op update --mode target --tid 1 --name DataDigest --value CRC32C
ts "tgtd up on 127.0.0.1:3260 (private namespace): target iqn.2025-01.test:disk1, mutual CHAP, CRC32C digests"
echo; ts "\$ iscsistart --discover -a 127.0.0.1"
"$BIN" --discover -a 127.0.0.1
echo; ts "\$ iscsistart --probe -i iqn.2025-01.test:init -t iqn.2025-01.test:disk1 -g 1 -a 127.0.0.1 -u alice -w *** -U disk1 -W *** -P node.conn[0].iscsi.HeaderDigest=CRC32C -P node.conn[0].iscsi.DataDigest=CRC32C"
"$BIN" --probe -i iqn.2025-01.test:init -t iqn.2025-01.test:disk1 -g 1 -a 127.0.0.1 \
	-u alice -w alice-secret-1 -U disk1 -W target-secret-2 \
	-P 'node.conn[0].iscsi.HeaderDigest=CRC32C' -P 'node.conn[0].iscsi.DataDigest=CRC32C'
echo; ts "\$ iscsistart --probe ... -w <wrong password>   (expect exit 24, ISCSI_ERR_LOGIN_AUTH_FAILED)"
set +e
"$BIN" --probe -i iqn.2025-01.test:init -t iqn.2025-01.test:disk1 -g 1 -a 127.0.0.1 -u alice -w not-the-password
rc=$?
set -e
ts "exit code $rc"
[ $rc = 24 ]
