# mariadb-tls-proxy — build and test plumbing.
#
#   make build   swift build -c release, self-contained (Swift runtime linked statically, no RUNPATH)
#                ->  .build/release/mariadb-tls-proxy (unstripped, for backtraces; install strips)
#   make deps    install missing system packages / pytest (scripts/install-deps.sh)
#   make test    deps, release build, unit tests (swift test), integration suite (pytest)
#   make demo    deps, release build, then scripts/demo.sh
#   make clean   remove build products, demo state and Python caches
#   make install       stripped binary, systemd units, sysusers entry, example config, docs, man page,
#                      certificate deploy hook (docs/operations.md; scripts/install.sh)
#   make man           .build/man/mariadb-tls-proxy.8 from the binary's --help-man; checked with groff
#   make deb           deps, build, then a Debian package in .build/deb/ (scripts/build-deb.sh)
#   make uninstall     remove what install put in place, except config and the system user
#   make verify-units  systemd-analyze verify (and an offline security review) of systemd/*
#   make fuzz / fuzz-regress   libFuzzer targets of FuzzTesting/ (scripts/fuzz.sh)
#   make format / format-check swift-format with .swift-format (scripts/format.sh)
#   make test-asan / test-tsan   unit + integration suites under Address/ThreadSanitizer
#   make bench         proxy vs native TLS MariaDB vs HAProxy (docs/benchmarks.md); bench-micro
#
# Variables: SWIFT (default swift), PYTHON (python3), PROXY_BIN, PYTEST_ARGS (-q),
#            SWIFT_BUILD_FLAGS, SWIFT_TEST_FLAGS.
# Install variables: DESTDIR (staging root), PREFIX (/usr/local), BINDIR ($(PREFIX)/bin),
#            SYSCONFDIR (/etc), UNITDIR ($(PREFIX)/lib/systemd/system),
#            SYSUSERSDIR ($(PREFIX)/lib/sysusers.d), DOCDIR ($(PREFIX)/share/doc/mariadb-tls-proxy),
#            MANDIR ($(PREFIX)/share/man), HOOKDIR ($(PREFIX)/lib/mariadb-tls-proxy), STRIP (strip).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
.NOTPARALLEL:

SWIFT ?= swift
PYTHON ?= python3
PYTEST_ARGS ?= -q
SWIFT_BUILD_FLAGS ?=
SWIFT_TEST_FLAGS ?=
PROXY_BIN ?= $(CURDIR)/.build/release/mariadb-tls-proxy
INTEGRATION_DIR := Tests/Integration

# Use the toolchain in /opt/swift when `swift` is not on PATH.
ifeq ($(shell command -v $(SWIFT) 2>/dev/null),)
export PATH := /opt/swift/usr/bin:$(PATH)
endif

.PHONY: all build deps test unit-test integration-test demo clean distclean

all: build

# A self-contained binary: the Swift runtime, standard library and FoundationEssentials are linked
# in (--static-swift-stdlib) and SwiftPM's RUNPATH $ORIGIN is left out (--disable-local-rpath), so
# it needs only the system's libssl3, libsystemd0, libc6, libstdc++6 and libgcc-s1 and runs without
# a Swift toolchain. The code imports FoundationEssentials, not Foundation, whose ICU data would
# triple the size.
RELEASE_BUILD_FLAGS := --static-swift-stdlib --disable-local-rpath

build:
	@command -v $(SWIFT) >/dev/null || { echo "make: '$(SWIFT)' not found (looked on PATH and in /opt/swift/usr/bin)" >&2; exit 1; }
	$(SWIFT) build -c release $(RELEASE_BUILD_FLAGS) $(SWIFT_BUILD_FLAGS)
	@test -x "$(PROXY_BIN)" || { echo "make: build finished but $(PROXY_BIN) is missing" >&2; exit 1; }
	@echo "built $(PROXY_BIN)"

deps:
	bash scripts/install-deps.sh

unit-test:
	$(SWIFT) test $(SWIFT_TEST_FLAGS)

integration-test:
	@test -x "$(PROXY_BIN)" || { echo "make: $(PROXY_BIN) not built; run 'make build'" >&2; exit 1; }
	PROXY_BIN="$(PROXY_BIN)" $(PYTHON) -m pytest $(INTEGRATION_DIR) $(PYTEST_ARGS)

# Sequential on purpose: deps, then the release build, then unit tests, then the
# integration suite against the release binary.
test: deps
	$(MAKE) --no-print-directory build
	$(MAKE) --no-print-directory unit-test
	$(MAKE) --no-print-directory integration-test

# Like test: installs what it needs first (mariadb-server, openssl, ...), so it works on a fresh machine.
demo: deps
	$(MAKE) --no-print-directory build
	PROXY_BIN="$(PROXY_BIN)" bash scripts/demo.sh

clean:
	-$(SWIFT) package clean
	rm -rf .build/release .build/debug .build/man .build/deb demo-run .pytest_cache
	find Tests scripts -name __pycache__ -type d -prune -exec rm -rf {} +

# Also drops fetched package checkouts (the next build downloads them again).
distclean: clean
	rm -rf .build .build-asan .build-tsan Benchmarks/.build-bench FuzzTesting/.build-fuzz

# --- Installation (systemd) ------------------------------------------------------------------
# The units in systemd/ name /usr/local/bin, /etc/mariadb-tls-proxy and the default DOCDIR;
# install rewrites those paths for the chosen PREFIX/SYSCONFDIR/DOCDIR. Existing configuration
# is never overwritten. With an empty DESTDIR, as root, on a systemd host, install also creates
# the system user (systemd-sysusers) and runs systemctl daemon-reload; it starts nothing.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DOCDIR ?= $(PREFIX)/share/doc/mariadb-tls-proxy
MANDIR ?= $(PREFIX)/share/man
HOOKDIR ?= $(PREFIX)/lib/mariadb-tls-proxy
STRIP ?= strip
MAN_PAGE := .build/man/mariadb-tls-proxy.8
INSTALL_ENV := DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" BINDIR="$(BINDIR)" SYSCONFDIR="$(SYSCONFDIR)" \
	UNITDIR="$(UNITDIR)" SYSUSERSDIR="$(SYSUSERSDIR)" DOCDIR="$(DOCDIR)" MANDIR="$(MANDIR)" HOOKDIR="$(HOOKDIR)" \
	STRIP="$(STRIP)" PROXY_BIN="$(PROXY_BIN)" MAN_PAGE="$(MAN_PAGE)"

.PHONY: install uninstall verify-units man

# mariadb-tls-proxy(8), generated by the binary from its option table (--help-man), so it cannot
# drift from --help. Fails on any groff warning when groff is installed (scripts/man.sh).
man:
	@test -x "$(PROXY_BIN)" || $(MAKE) --no-print-directory build
	@PROXY_BIN="$(PROXY_BIN)" MAN_PAGE="$(MAN_PAGE)" bash scripts/man.sh

# scripts/install.sh: the file lists, the path rewriting and the root-only steps.
install: man
	@$(INSTALL_ENV) bash scripts/install.sh install

uninstall:
	@$(INSTALL_ENV) bash scripts/install.sh uninstall

# --- Debian package (scripts/build-deb.sh) ---------------------------------------------------
# make deb   .build/deb/mariadb-tls-proxy_<version>_<arch>.deb from the release binary: `make install`
#            into a staging root (PREFIX=/usr, BINDIR=/usr/sbin), maintainer scripts and control
#            template from packaging/debian/, Depends: from dpkg-shlibdeps. Variables: DEB_OUTPUT_DIR.
DEB_OUTPUT_DIR ?= $(CURDIR)/.build/deb

.PHONY: deb

deb: deps
	$(MAKE) --no-print-directory build
	PROXY_BIN="$(PROXY_BIN)" DEB_OUTPUT_DIR="$(DEB_OUTPUT_DIR)" MAKE="$(MAKE)" bash scripts/build-deb.sh

# systemd-analyze verify of the shipped units (ExecStart= the release binary if built, else
# /bin/true), failing on any message, and an offline security review (scripts/verify-units.sh).
verify-units:
	@PROXY_BIN="$(PROXY_BIN)" bash scripts/verify-units.sh

# --- Fuzzing (FuzzTesting/README.md) ---------------------------------------------------------
#   make fuzz          build the libFuzzer targets, run each for FUZZ_SECONDS over a scratch copy of
#                      FuzzTesting/Corpus/<target> (+ FailCases/<target>); fails on any crash, whose
#                      input is kept in FuzzTesting/FailCases/<target>/
#   make fuzz-regress  run every target once over Corpus/ and FailCases/ (no fuzzing; seconds)
# Variables: FUZZ_SECONDS (60, per target), FUZZ_RUNS (instead of a time: stop each target after
#            that many executions, e.g. 10000000), FUZZ_TARGETS (all four), FUZZ_NICE (nice -n 19),
#            FUZZ_FLAGS (extra libFuzzer flags, e.g. -max_len=4096, or -jobs=2 -workers=2 -reload=1: the
#            runs pass -reload=0, since re-listing a big corpus directory costs more than it finds),
#            FUZZ_CONFIGURATION (release: 4-13x the executions per second of debug, whose -Onone code
#            gives finer coverage; both work), FUZZ_ASAN_OPTIONS for the fuzzing runs
#            (malloc_context_size=0:quarantine_size_mb=64, about +25 %; fuzz-regress uses ASan's defaults,
#            with full allocation stacks in its reports).
# New inputs found while fuzzing stay in FuzzTesting/.build-fuzz/runs/<target>/corpus; copy the
# interesting ones into Corpus/ by hand (or minimise first with -merge=1).

FUZZ_SECONDS ?= 60
FUZZ_RUNS ?=
FUZZ_TARGETS ?= FuzzClientStream FuzzBackendStream FuzzOptionFile FuzzAccountsFile
FUZZ_NICE ?= nice -n 19
FUZZ_FLAGS ?=
FUZZ_CONFIGURATION ?= release
FUZZ_ASAN_OPTIONS ?= malloc_context_size=0:quarantine_size_mb=64
FUZZ_ENV := SWIFT="$(SWIFT)" FUZZ_SECONDS="$(FUZZ_SECONDS)" FUZZ_RUNS="$(FUZZ_RUNS)" FUZZ_TARGETS="$(FUZZ_TARGETS)" \
	FUZZ_NICE="$(FUZZ_NICE)" FUZZ_FLAGS="$(FUZZ_FLAGS)" FUZZ_CONFIGURATION="$(FUZZ_CONFIGURATION)" \
	FUZZ_ASAN_OPTIONS="$(FUZZ_ASAN_OPTIONS)"

.PHONY: fuzz fuzz-build fuzz-regress

fuzz-build:
	@$(FUZZ_ENV) bash scripts/fuzz.sh build

fuzz: fuzz-build
	@$(FUZZ_ENV) bash scripts/fuzz.sh run

fuzz-regress: fuzz-build
	@$(FUZZ_ENV) bash scripts/fuzz.sh regress

# --- Formatting (.swift-format; scripts/format.sh) -------------------------------------------
# make format         rewrite every tracked Swift file with swift-format (in the toolchain)
# make format-check   change nothing; fail listing the files `make format` would change
.PHONY: format format-check

format:
	SWIFT="$(SWIFT)" bash scripts/format.sh

format-check:
	SWIFT="$(SWIFT)" bash scripts/format.sh --check

# --- Soak and TLS scan (not part of `make test`) ----------------------------------------------
# make soak   minutes of mixed TLS logins, refusals and abrupt disconnects against one proxy;
#             fails on fd or RSS growth (scripts/soak.sh; SOAK_SECONDS, SOAK_WORKERS, ...)
# make scan   testssl.sh --starttls mysql against a proxy with the test certificates (installs
#             the Debian package testssl.sh if missing); fails on any TLS weakness (scripts/scan.sh)
SOAK_SECONDS ?= 120

.PHONY: soak scan

soak:
	@test -x "$(PROXY_BIN)" || $(MAKE) --no-print-directory build
	PROXY_BIN="$(PROXY_BIN)" PYTHON="$(PYTHON)" SOAK_SECONDS="$(SOAK_SECONDS)" bash scripts/soak.sh

scan:
	@test -x "$(PROXY_BIN)" || $(MAKE) --no-print-directory build
	PROXY_BIN="$(PROXY_BIN)" PYTHON="$(PYTHON)" bash scripts/scan.sh

# --- Sanitizers (scripts/sanitize.sh) ----------------------------------------------------------
# make test-asan   unit tests and the integration suite (against an ASan-built proxy) under
#                  AddressSanitizer + LeakSanitizer; fails on a test failure or any report
# make test-tsan   the same under ThreadSanitizer
# Scratch paths .build-asan / .build-tsan; reports in <scratch>/sanitizer-reports/.
.PHONY: test-asan test-tsan

test-asan: deps
	SWIFT="$(SWIFT)" PYTHON="$(PYTHON)" PYTEST_ARGS="$(PYTEST_ARGS)" bash scripts/sanitize.sh address

test-tsan: deps
	SWIFT="$(SWIFT)" PYTHON="$(PYTHON)" PYTEST_ARGS="$(PYTEST_ARGS)" bash scripts/sanitize.sh thread

# --- Benchmarks (docs/benchmarks.md; not part of `make test`) -------------------------------
# make bench         the proxy against native TLS MariaDB, HAProxy (a plaintext hop) and a direct
#                    server: P1 sysbench point selects, P2 bulk MB/s, P3 logins/s, P4 KiB per idle
#                    TLS connection; installs sysbench/haproxy if missing (scripts/bench/run.sh);
#                    about 11-12 minutes; rewrites the generated part of docs/benchmarks.md.
# make bench-micro   ordo-one/benchmark micro-benchmarks of the hot pure code (Benchmarks/).
# Variables: BENCH_ROUNDS (3), BENCH_SECONDS (20), BENCH_PARTS (P1 P2 P3 P4); from the command line
#            or environment also BENCH_DIR, BENCH_KEEP, BENCH_P3_SECONDS, BENCH_WARMUP, BENCH_ROWS,
#            BENCH_BULK_REPEAT, BENCH_HOLD_COUNTS, BENCH_UPDATE_DOC (see docs/benchmarks.md).
BENCH_ROUNDS ?= 3
BENCH_SECONDS ?= 20
BENCH_PARTS ?= P1 P2 P3 P4

.PHONY: bench

bench: deps build
	PROXY_BIN="$(PROXY_BIN)" PYTHON="$(PYTHON)" BENCH_ROUNDS="$(BENCH_ROUNDS)" \
		BENCH_SECONDS="$(BENCH_SECONDS)" BENCH_PARTS="$(BENCH_PARTS)" bash scripts/bench/run.sh

# Variables: BENCH_MICRO_ARGS (after `benchmark`: e.g. --filter 'Relay.*', or
#            baseline update main / baseline compare main; see Benchmarks/README.md).
BENCH_MICRO_ARGS ?=

.PHONY: bench-micro

bench-micro:
	$(SWIFT) package --package-path Benchmarks --scratch-path Benchmarks/.build-bench \
		--allow-writing-to-package-directory benchmark $(BENCH_MICRO_ARGS)
