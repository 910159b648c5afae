# iscsiboot: `make demo` shows the main job, `make test` passes the tests.
# Both install what they need on a fresh Debian 12 machine (scripts/deps.sh).

GO      ?= go
OUT     ?= out
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Inlining: the drop-in is built without any (all=-l: 11 % fewer gzip'd bytes, for its 1.5 MB budget; its
# login stays within 1.5 x the floor, BenchmarkTrace). The full build, our /init, keeps the runtime's and
# the standard library's, which its boot under TCG needs (0.2-0.35 s, BenchmarkInitImage), and drops only
# our own packages' (4 % of its bytes, no cost measured). qemu-tests/gobinary.go and cmd/iscsistart's
# TestDropinBuild build with the same flags.
GCFLAGS := github.com/iscsiboot/...=-l
DROPIN_GCFLAGS := all=-l
# Every fuzzer runs this long in `make test`; longer runs: make fuzz FUZZTIME=5m
FUZZTIME ?= 8s

.PHONY: all build deps test check unit fuzz demo demo-protocol bench sizes clean install

all: build

# out/iscsistart is the full build: our /init, dracut's --boot, u-root's uinit packages, the DHCP clients.
# out/dropin/iscsistart (-tags dropin) is open-iscsi's iscsistart and no more: initramfs-tools' hook puts it
# in Debian's image, whose own scripts run the network and the rest of the boot (README, "Two builds").
build:
	CGO_ENABLED=0 $(GO) build -trimpath -gcflags '$(GCFLAGS)' -ldflags '$(LDFLAGS)' -o $(OUT)/iscsistart ./cmd/iscsistart
	CGO_ENABLED=0 $(GO) build -trimpath -gcflags '$(DROPIN_GCFLAGS)' -ldflags '$(LDFLAGS)' -tags dropin -o $(OUT)/dropin/iscsistart ./cmd/iscsistart
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(OUT)/iscsiboot-initramfs ./cmd/iscsiboot-initramfs

# Debian packages (tgt, qemu, busybox, open-iscsi as the yardstick) and Debian's kernel, cached.
deps:
	scripts/deps.sh all >/dev/null

test: deps check unit fuzz

check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@# Linux-only code lives in _linux.go files with small stubs: the rest must build (and vet) elsewhere too.
	GOOS=darwin $(GO) vet ./...
	@# The drop-in build leaves packages out behind -tags dropin: it must build and vet on its own too.
	$(GO) vet -tags dropin ./...
	GOOS=darwin $(GO) vet -tags dropin ./...
	@$(GO) mod tidy -diff >/dev/null 2>&1 || { echo "go.mod/go.sum are not tidy: run go mod tidy"; $(GO) mod tidy -diff; exit 1; }

unit:
	$(GO) test -count=1 -timeout 40m ./...
	$(GO) test -count=1 -tags dropin ./netcfg ./cmd/iscsistart -run 'NoDHCP|Dropin'

# Each fuzz target for FUZZTIME, bounded; the seed corpora also run in `unit`. A run that fails without
# writing a failing input (go's fuzzer sometimes reports 'context deadline exceeded' as -fuzztime ends) is
# run once more; a real finding always writes its input and fails at once.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; \
	    out=$$($(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg 2>&1) || \
	      { echo "$$out" | grep -q 'Failing input written' && { echo "$$out" | tail -40; exit 1; }; \
	        echo "  (go's fuzzer failed without an input, as it sometimes does when -fuzztime ends: once more)"; \
	        out=$$($(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg 2>&1) || { echo "$$out" | tail -40; exit 1; }; }; \
	  done; \
	done

demo: deps build
	scripts/demo.sh

demo-protocol: deps build
	scripts/demo-protocol.sh

bench: deps build
	scripts/bench.sh

# what each package adds to the drop-in binary (go tool nm -size), its gzip -9 size, and the whole /init image's
sizes:
	scripts/sizes.sh

# make install [PREFIX=/usr/local] [DESTDIR=...]: the full build in $(PREFIX)/sbin (not over open-iscsi's
# /usr/sbin/iscsistart), the drop-in build as $(PREFIX)/lib/iscsiboot/iscsistart, iscsistart(8) in
# $(MANDIR)/man8, and the builders' pieces where initramfs-tools and dracut look for them; the dracut module
# finds the full build at $(PREFIX)/sbin/iscsistart, initramfs-tools' hook the drop-in.
PREFIX  ?= /usr/local
DESTDIR ?=
ITOOLS  ?= /etc/initramfs-tools
DRACUTMODDIR ?= /usr/lib/dracut/modules.d
MANDIR  ?= $(PREFIX)/share/man

install: build
	install -D -m 0755 $(OUT)/iscsistart $(DESTDIR)$(PREFIX)/sbin/iscsistart
	install -D -m 0755 $(OUT)/dropin/iscsistart $(DESTDIR)$(PREFIX)/lib/iscsiboot/iscsistart
	install -D -m 0755 $(OUT)/iscsiboot-initramfs $(DESTDIR)$(PREFIX)/bin/iscsiboot-initramfs
	install -D -m 0644 contrib/man/iscsistart.8 $(DESTDIR)$(MANDIR)/man8/iscsistart.8
	install -D -m 0755 contrib/initramfs-tools/hooks/iscsiboot $(DESTDIR)$(ITOOLS)/hooks/iscsiboot
	install -D -m 0755 contrib/initramfs-tools/scripts/init-bottom/iscsiboot $(DESTDIR)$(ITOOLS)/scripts/init-bottom/iscsiboot
	@if [ "$(PREFIX)" != /usr/local ]; then \
	  echo "ISCSIBOOT_ISCSISTART=$(PREFIX)/lib/iscsiboot/iscsistart" | install -D -m 0644 /dev/stdin $(DESTDIR)$(ITOOLS)/conf.d/iscsiboot; fi
	install -d $(DESTDIR)$(DRACUTMODDIR)/95iscsiboot
	for f in contrib/dracut/95iscsiboot/*; do install -m 0755 -T "$$(readlink -f $$f)" $(DESTDIR)$(DRACUTMODDIR)/95iscsiboot/$$(basename $$f); done

clean:
	rm -rf $(OUT)
