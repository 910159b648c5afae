#!/bin/bash
# make bench: our iscsistart against Debian's in the same QEMU run (BENCH_N boots each, default 5), and the
# boot storm (ISCSIBOOT_STORM logins at once against one tgtd, default 200). Table and raw marks: out/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_N:-5}
OUT=$(pwd)/out/bench
mkdir -p "$OUT"
BENCH_OUT=$OUT go test -count=1 -run '^$' -bench '^BenchmarkBoot$' -benchtime "${N}x" -timeout 40m ./qemu-tests/ 2>&1 |
	tee "$OUT/bench.log" | grep -vE '^\s+[0-9.]+ (\[|tgtd|ISCSIBOOT)' | grep -vE 'tgtadm|tgtd:' || true
grep -q '^ok' "$OUT/bench.log" || { echo "bench failed, see $OUT/bench.log" >&2; exit 1; }
ISCSIBOOT_STORM=${ISCSIBOOT_STORM:-200} go test -count=1 -v -run '^TestBootStorm$' ./cmd/iscsistart/ 2>&1 | tee "$OUT/storm.log" | grep -E 'boot storm|^(ok|FAIL)'
echo "table: $OUT/table.txt, raw marks: $OUT/raw-marks.txt"
