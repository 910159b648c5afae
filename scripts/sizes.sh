#!/bin/sh
# sizes.sh: what each package adds to the drop-in binary, to find what the boot path links and does not need.
#
#   scripts/sizes.sh [OUTDIR]     (default out/sizes)
#
# Builds ./cmd/iscsistart's drop-in (-tags dropin, what initramfs-tools' hook installs) as `make build` does
# (static, -trimpath, no inlining, -s -w) and once more with symbols, then prints the stripped size, its
# gzip -9 size (what it adds to a gzip'd initramfs), the same two for the full build, and a table of the bytes of
# code and read-only data each package's symbols hold (`go tool nm -size`; B/b zero-filled data is left out,
# generic instantiations count for the package of the function, not of their type arguments; the
# rest of the file is mostly the runtime's tables of every function, .gopclntab, which grow with the code). The table
# lands in OUTDIR/packages.txt. Last, the whole /init image for a virtio guest as the README builds it (the full build and
# the modules of -modules virtio_net,iscsi_tcp,sd_mod,ext4 from Debian's kernel, `scripts/deps.sh kernel`, or
# ISCSIBOOT_KERNEL_DIR) under each -compress.
set -eu
out=${1:-out/sizes}
mkdir -p "$out"
# The Makefile's DROPIN_GCFLAGS and GCFLAGS.
CGO_ENABLED=0 go build -trimpath -gcflags 'all=-l' -ldflags '-s -w' -tags dropin -o "$out/dropin/iscsistart" ./cmd/iscsistart
CGO_ENABLED=0 go build -trimpath -gcflags 'all=-l' -tags dropin -o "$out/iscsistart.syms" ./cmd/iscsistart
CGO_ENABLED=0 go build -trimpath -gcflags 'github.com/iscsiboot/...=-l' -ldflags '-s -w' -o "$out/iscsistart" ./cmd/iscsistart
stripped=$(wc -c <"$out/dropin/iscsistart")
gz=$(gzip -9 -c "$out/dropin/iscsistart" | wc -c)
# A symbol larger than the file is zero-filled memory nm shows as data (crypto/internal/fips140/drbg.memory).
go tool nm -size "$out/iscsistart.syms" | awk -v max="$stripped" '
NF >= 4 && $3 != "B" && $3 != "b" && $3 != "U" && $2 + 0 < max + 0 {
	size = $2; n = $4
	for (i = 5; i <= NF; i++) n = n " " $i
	sub(/^type:\*?/, "", n); sub(/^go:itab\.\*?/, "", n)
	if (n ~ /^go:(string|func)\./) { pkg = "(strings, closures)" }
	else {
		pre = ""; rest = n
		if (match(n, /^[^ (\[]*\//)) { pre = substr(n, 1, RLENGTH); rest = substr(n, RLENGTH + 1) }
		d = index(rest, "."); if (d > 0) rest = substr(rest, 1, d - 1)
		pkg = pre rest
	}
	if (pkg == "") pkg = "(unnamed)"
	sum[pkg] += size; total += size
}
END {
	for (k in sum) printf "%10d  %s\n", sum[k], k
	printf "%10d  %s\n", total, "(all symbols)"
}' | sort -rn >"$out/packages.txt"
echo "iscsistart, drop-in build: $stripped bytes stripped, $gz bytes gzip -9"
echo "iscsistart, full build: $(wc -c <"$out/iscsistart") bytes stripped, $(gzip -9 -c "$out/iscsistart" | wc -c) bytes gzip -9"
echo "bytes of code and read-only data of the drop-in by package (top 40; all in $out/packages.txt):"
head -41 "$out/packages.txt"

kdir=${ISCSIBOOT_KERNEL_DIR:-$(scripts/deps.sh kernel | tail -n 1)}
CGO_ENABLED=0 go build -trimpath -o "$out/iscsiboot-initramfs" ./cmd/iscsiboot-initramfs
echo "the whole /init image for a virtio guest (kernel $(basename "$kdir"), -modules virtio_net,iscsi_tcp,sd_mod,ext4):"
for c in gzip zstd xz; do
	"$out/iscsiboot-initramfs" -o "$out/initrd.$c" -binary "$out/iscsistart" -init -compress "$c" \
		-modules virtio_net,iscsi_tcp,sd_mod,ext4 -kernel-dir "$kdir" -kver "$(basename "$kdir")" >/dev/null
	printf '  -compress %-5s %8d bytes\n' "$c" "$(wc -c <"$out/initrd.$c")"
done
