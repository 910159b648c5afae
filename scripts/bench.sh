#!/bin/bash
# make bench: our iscsistart against Debian's in the same QEMU run, and the boot storm.
#
# BenchmarkBoot (qemu-tests/measure_test.go) is a Go benchmark, so `go test ./...` and `make test` never run it;
# only -bench selects it. It boots BENCH_N times with each tool (default 5), interleaved, one VM at a time.
# BenchmarkFaultBoot (qemu-tests/measure_faults_test.go) then boots BENCH_N times per tool and scenario through a
# firmware table: live portal only, a refused portal before it, a silent one before it, the target 5 s late.
# BenchmarkMultipathBoot (qemu-tests/measure_multipath_test.go) then boots BENCH_N times each: our drop-in on one
# path, on two portals with --multipath until the map exists, and Debian's iscsistart on one path.
# BenchmarkTrace (qemu-tests/measure_trace_test.go) then boots BENCH_N times each: our drop-in with ISCSIBOOT_TRACE=1,
# the floor (qemu-tests/internal/floor: connect, one login PDU, bind, scan, nothing else) and Debian's iscsistart; it
# shows where each of our milliseconds above the floor goes.
# BenchmarkISERBoot (qemu-tests/measure_iser_test.go) then boots BENCH_N times each, against one LIO target guest
# with soft-RoCE: our drop-in and Debian's iscsistart, each over iSER and over iscsi_tcp.
# BenchmarkImages (qemu-tests/measure_images_test.go) then builds whole images and boots each BENCH_N times:
# initramfs-tools and dracut with open-iscsi (dracut: its own iscsi module) and with ours, u-root with ours,
# and our own /init image beside a busybox + open-iscsi iscsistart image with the same modules; it counts
# the bytes each login tool adds to its image (libraries other programs there load left out).
# BenchmarkInitImage (qemu-tests/measure_initimage_test.go) then boots our /init image and the busybox +
# iscsistart one BENCH_N times each on one and on two vCPUs (init.txt).
# TestBootStorm (cmd/iscsistart) then runs ISCSIBOOT_STORM logins at once against one tgtd (default 200).
#
#   BENCH_N=7 BENCH_OUT=/tmp/b scripts/bench.sh
#
# BENCH_OUT (default out/bench) receives each benchmark's table (TABLES below: table.txt, faults.txt, ...) with
# its raw marks beside it (raw-marks.txt, faults-raw-marks.txt, ...: every boot's in-guest and host marks),
# sizes.txt (each file of either tool), bench.log and storm.log (the whole go test output), and logs/ (consoles
# of a failed run).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_N:-5}
case "$N" in '' | *[!0-9]* | 0*) echo "BENCH_N must be a positive integer, not '$N'" >&2; exit 2 ;; esac
OUT=${BENCH_OUT:-out/bench}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# The benchmarks `go test -bench` runs, and the table each writes (a file of OUT; its raw marks beside it).
BENCHES='Boot|FaultBoot|MultipathBoot|Trace|ISERBoot|Images|InitImage'
TABLES='table faults multipath trace iser images init'
# A failed run must not leave the previous run's tables looking current: every .txt in OUT is this script's.
rm -f "$OUT"/*.txt

echo "bench: $N boots each, results in $OUT"
# The consoles and the test's log go to bench.log; the terminal gets the result line, the table comes last.
# Go runs a benchmark once with b.N=1 before the b.N=BENCH_N run it reports; table.txt is from the latter.
BENCH_OUT=$OUT ISCSIBOOT_QEMU_LOGS=$OUT/logs \
	go test -count=1 -run '^$' -bench "^Benchmark($BENCHES)\$" -benchtime "${N}x" -timeout 150m ./qemu-tests/ 2>&1 |
	tee "$OUT/bench.log" | grep -E '^(Benchmark|ok|FAIL)' || true
missing=
for t in $TABLES; do [ -s "$OUT/$t.txt" ] || missing="$missing $t.txt"; done
if ! grep -q '^ok' "$OUT/bench.log" || [ -n "$missing" ]; then
	[ -z "$missing" ] || echo "bench: no$missing" >&2
	# The test's log without the consoles and tgtd's chatter.
	grep -vE '^\s+[0-9.]+ (\[|tgtd|ISCSIBOOT)' "$OUT/bench.log" | grep -vE 'tgtadm|tgtd:' | tail -60 >&2
	echo "bench failed, see $OUT/bench.log and $OUT/logs" >&2
	exit 1
fi
rmdir "$OUT/logs" 2>/dev/null || true

# Each file the tool needs, on disk: our drop-in as the benchmark builds it, Debian's with what ldd says it loads.
CGO_ENABLED=0 go build -trimpath -gcflags=all=-l -ldflags='-s -w' -tags dropin -o "$OUT/iscsistart" ./cmd/iscsistart
{
	echo "ours (static):"
	stat -c '%12s  %n' "$OUT/iscsistart"
	echo "Debian's (dynamic):"
	# shellcheck disable=SC2046 # one word per library path
	stat -L -c '%12s  %n' /usr/sbin/iscsistart $(ldd /usr/sbin/iscsistart | grep -oE '/[^ ]+ \(0x' | cut -d' ' -f1) |
		awk '{ t += $1; print } END { printf "%12d  total\n", t }'
} >"$OUT/sizes.txt"

ISCSIBOOT_STORM=${ISCSIBOOT_STORM:-200} go test -count=1 -v -run '^TestBootStorm$' ./cmd/iscsistart/ 2>&1 |
	tee "$OUT/storm.log" | grep -E 'boot storm|^(ok|FAIL)' || true
grep -q '^ok' "$OUT/storm.log" || { echo "boot storm failed, see $OUT/storm.log" >&2; exit 1; }

for t in $TABLES; do
	echo
	cat "$OUT/$t.txt"
done
echo
cat "$OUT/sizes.txt"
echo "in $OUT: the tables ($(echo $TABLES | sed 's/\([a-z]*\)/\1.txt/g')), their raw marks, sizes.txt, bench.log, storm.log"
