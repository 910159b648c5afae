#!/bin/bash
# make bench: our iscsistart against Debian's in the same QEMU run, and the boot storm.
#
# BenchmarkBoot (qemu-tests/measure_test.go) is a Go benchmark, so `go test ./...` and `make test` never run it;
# only -bench selects it. It boots BENCH_N times with each tool (default 5), interleaved, one VM at a time.
# BenchmarkFaultBoot (qemu-tests/measure_faults_test.go) then boots BENCH_N times per tool and scenario through a
# firmware table: live portal only, a refused portal before it, a silent one before it, the target 5 s late.
# BenchmarkMultipathBoot (qemu-tests/measure_multipath_test.go) then boots BENCH_N times each: our drop-in on one
# path, on two portals with --multipath until the map exists, and Debian's iscsistart on one path.
# BenchmarkImages (qemu-tests/measure_images_test.go) then builds whole images and boots each BENCH_N times:
# initramfs-tools and dracut with open-iscsi (dracut: its own iscsi module) and with ours, u-root with ours,
# and our own /init image beside a busybox + open-iscsi iscsistart image with the same modules; it counts
# the bytes each login tool adds to its image (libraries other programs there load left out).
# TestBootStorm (cmd/iscsistart) then runs ISCSIBOOT_STORM logins at once against one tgtd (default 200).
#
#   BENCH_N=7 BENCH_OUT=/tmp/b scripts/bench.sh
#
# BENCH_OUT (default out/bench) receives table.txt, faults.txt, multipath.txt, images.txt, raw-marks.txt,
# faults-raw-marks.txt, multipath-raw-marks.txt and images-raw-marks.txt (every boot's in-guest and host marks),
# sizes.txt (each file of either tool), bench.log and storm.log (the whole go test output), and logs/ (consoles
# of a failed run).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_N:-5}
case "$N" in '' | *[!0-9]* | 0*) echo "BENCH_N must be a positive integer, not '$N'" >&2; exit 2 ;; esac
OUT=${BENCH_OUT:-out/bench}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# A failed run must not leave the previous run's table looking current.
rm -f "$OUT/table.txt" "$OUT/raw-marks.txt" "$OUT/sizes.txt" "$OUT/faults.txt" "$OUT/faults-raw-marks.txt" \
	"$OUT/multipath.txt" "$OUT/multipath-raw-marks.txt" "$OUT/images.txt" "$OUT/images-raw-marks.txt"

echo "bench: $N boots each, results in $OUT"
# The consoles and the test's log go to bench.log; the terminal gets the result line, the table comes last.
# Go runs a benchmark once with b.N=1 before the b.N=BENCH_N run it reports; table.txt is from the latter.
BENCH_OUT=$OUT ISCSIBOOT_QEMU_LOGS=$OUT/logs \
	go test -count=1 -run '^$' -bench '^Benchmark(Boot|FaultBoot|MultipathBoot|Images)$' -benchtime "${N}x" -timeout 120m ./qemu-tests/ 2>&1 |
	tee "$OUT/bench.log" | grep -E '^(Benchmark|ok|FAIL)' || true
if ! grep -q '^ok' "$OUT/bench.log" || [ ! -s "$OUT/table.txt" ] || [ ! -s "$OUT/faults.txt" ] || [ ! -s "$OUT/multipath.txt" ] ||
	[ ! -s "$OUT/images.txt" ]; then
	# The test's log without the consoles and tgtd's chatter.
	grep -vE '^\s+[0-9.]+ (\[|tgtd|ISCSIBOOT)' "$OUT/bench.log" | grep -vE 'tgtadm|tgtd:' | tail -60 >&2
	echo "bench failed, see $OUT/bench.log and $OUT/logs" >&2
	exit 1
fi
rmdir "$OUT/logs" 2>/dev/null || true

# Each file the tool needs, on disk: ours as the benchmark builds it, Debian's with what ldd says it loads.
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$OUT/iscsistart" ./cmd/iscsistart
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

echo
cat "$OUT/table.txt"
echo
cat "$OUT/faults.txt"
echo
cat "$OUT/multipath.txt"
echo
cat "$OUT/images.txt"
echo
cat "$OUT/sizes.txt"
echo "in $OUT: table.txt, faults.txt, multipath.txt, images.txt, raw-marks.txt, faults-raw-marks.txt, multipath-raw-marks.txt,"
echo "images-raw-marks.txt, sizes.txt, bench.log, storm.log"
