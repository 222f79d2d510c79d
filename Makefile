# mariadb-tls-proxy — build and test plumbing.
#
#   make build   swift build -c release, self-contained (Swift runtime linked statically, no RUNPATH)
#                ->  .build/release/mariadb-tls-proxy (unstripped, for backtraces; install strips)
#   make deps    install missing system packages / pytest (scripts/install-deps.sh)
#   make test    deps, release build, unit tests (swift test), integration suite (pytest)
#   make demo    deps, release build, then scripts/demo.sh
#   make clean   remove build products, demo state and Python caches
#   make install       stripped binary, systemd units, sysusers entry, example config, docs, man page,
#                      certificate deploy hook (docs/operations.md)
#   make man           .build/man/mariadb-tls-proxy.8 from the binary's --help-man; checked with groff
#   make deb           deps, build, then a Debian package in .build/deb/ (scripts/build-deb.sh)
#   make uninstall     remove what install put in place, except config and the system user
#   make verify-units  systemd-analyze verify (and an offline security review) of systemd/*
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
CONFDIR := $(SYSCONFDIR)/mariadb-tls-proxy
UNITS := mariadb-tls-proxy.service mariadb-tls-proxy.socket
CONFIG_EXAMPLES := mariadb-tls-proxy.cnf accounts.sql
DOCS := README.md docs/operations.md docs/configuration.md docs/access-policy.md docs/architecture.md docs/security.md
# The certbot deploy hook (docs/operations.md), installed when the tree has it.
DEPLOY_HOOK := config/certificate-deploy-hook
MAN_PAGE := .build/man/mariadb-tls-proxy.8
# The paths as written in systemd/* and config/*, and what they become.
SUBSTITUTE_PATHS := sed -e 's|/usr/local/bin/mariadb-tls-proxy|$(BINDIR)/mariadb-tls-proxy|g' \
	-e 's|/usr/local/lib/mariadb-tls-proxy|$(HOOKDIR)|g' \
	-e 's|/usr/local/share/doc/mariadb-tls-proxy|$(DOCDIR)|g' \
	-e 's|/etc/mariadb-tls-proxy|$(CONFDIR)|g'

.PHONY: install uninstall verify-units man

# mariadb-tls-proxy(8), generated by the binary from its option table (--help-man), so it cannot
# drift from --help. Fails on any groff warning when groff is installed.
man:
	@test -x "$(PROXY_BIN)" || $(MAKE) --no-print-directory build
	@mkdir -p "$(dir $(MAN_PAGE))"
	"$(PROXY_BIN)" --help-man > "$(MAN_PAGE).tmp"
	@if command -v groff >/dev/null; then \
		warnings=$$(groff -man -Tutf8 -ww -z "$(MAN_PAGE).tmp" 2>&1); \
		if [ -n "$$warnings" ]; then echo "$$warnings" >&2; echo "make: groff warns about the man page" >&2; exit 1; fi; \
	fi
	@mv "$(MAN_PAGE).tmp" "$(MAN_PAGE)"
	@echo "wrote $(MAN_PAGE) (view: man -l $(MAN_PAGE))"

# The installed binary is stripped (a third of the size); the unstripped one stays in .build for
# symbolicating backtraces.
install: man
	install -d -m 0755 "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(UNITDIR)" "$(DESTDIR)$(SYSUSERSDIR)" "$(DESTDIR)$(DOCDIR)" "$(DESTDIR)$(CONFDIR)" \
		"$(DESTDIR)$(MANDIR)/man8"
	install -m 0755 -s --strip-program="$(STRIP)" "$(PROXY_BIN)" "$(DESTDIR)$(BINDIR)/mariadb-tls-proxy"
	gzip -9n < "$(MAN_PAGE)" > "$(DESTDIR)$(MANDIR)/man8/mariadb-tls-proxy.8.gz"
	chmod 0644 "$(DESTDIR)$(MANDIR)/man8/mariadb-tls-proxy.8.gz"
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for unit in $(UNITS); do \
		$(SUBSTITUTE_PATHS) "systemd/$$unit" > "$$tmp/$$unit"; \
		echo "install -m 0644 systemd/$$unit $(DESTDIR)$(UNITDIR)/$$unit"; \
		install -m 0644 "$$tmp/$$unit" "$(DESTDIR)$(UNITDIR)/$$unit"; \
	done; \
	for file in $(CONFIG_EXAMPLES); do \
		target="$(DESTDIR)$(CONFDIR)/$$file"; \
		if [ -e "$$target" ]; then echo "keeping existing $$target"; continue; fi; \
		$(SUBSTITUTE_PATHS) "config/$$file" > "$$tmp/$$file"; \
		mode=0644; if [ "$$file" = accounts.sql ]; then mode=0640; fi; \
		echo "install -m $$mode config/$$file $$target"; \
		install -m "$$mode" "$$tmp/$$file" "$$target"; \
	done; \
	install -d -m 0755 "$(DESTDIR)$(HOOKDIR)"; \
	$(SUBSTITUTE_PATHS) "$(DEPLOY_HOOK)" > "$$tmp/hook"; \
	echo "install -m 0755 $(DEPLOY_HOOK) $(DESTDIR)$(HOOKDIR)/certificate-deploy-hook"; \
	install -m 0755 "$$tmp/hook" "$(DESTDIR)$(HOOKDIR)/certificate-deploy-hook"
	install -m 0644 systemd/sysusers.conf "$(DESTDIR)$(SYSUSERSDIR)/mariadb-tls-proxy.conf"
	install -m 0644 $(DOCS) "$(DESTDIR)$(DOCDIR)/"
	@# Certificates and keys go to CONFDIR/tls: readable by the service's group, not by others.
	@if [ ! -d "$(DESTDIR)$(CONFDIR)/tls" ]; then install -d -m 0750 "$(DESTDIR)$(CONFDIR)/tls"; fi
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
		if command -v systemd-sysusers >/dev/null; then \
			echo "systemd-sysusers $(SYSUSERSDIR)/mariadb-tls-proxy.conf"; \
			systemd-sysusers "$(SYSUSERSDIR)/mariadb-tls-proxy.conf"; \
		fi; \
		if getent group mariadb-tls-proxy >/dev/null; then \
			chgrp mariadb-tls-proxy "$(CONFDIR)/tls"; \
			if [ -e "$(CONFDIR)/accounts.sql" ] && [ "$$(stat -c %g "$(CONFDIR)/accounts.sql")" = 0 ]; then chgrp mariadb-tls-proxy "$(CONFDIR)/accounts.sql"; fi; \
		fi; \
		if [ -d /run/systemd/system ]; then echo "systemctl daemon-reload"; systemctl daemon-reload; fi; \
	fi
	@echo "installed; next: edit $(CONFDIR)/mariadb-tls-proxy.cnf, put certificates in $(CONFDIR)/tls/, then"
	@echo "  systemctl enable --now mariadb-tls-proxy.service   (or mariadb-tls-proxy.socket; see $(DOCDIR)/operations.md)"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/mariadb-tls-proxy"
	rm -f $(addprefix "$(DESTDIR)$(UNITDIR)/,$(addsuffix ",$(UNITS)))
	rm -f "$(DESTDIR)$(SYSUSERSDIR)/mariadb-tls-proxy.conf"
	rm -f "$(DESTDIR)$(MANDIR)/man8/mariadb-tls-proxy.8.gz" "$(DESTDIR)$(HOOKDIR)/certificate-deploy-hook"
	-rmdir "$(DESTDIR)$(HOOKDIR)" 2>/dev/null
	rm -f $(addprefix "$(DESTDIR)$(DOCDIR)/,$(addsuffix ",$(notdir $(DOCS))))
	-rmdir "$(DESTDIR)$(DOCDIR)" 2>/dev/null
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then echo "systemctl daemon-reload"; systemctl daemon-reload; fi
	@echo "kept $(CONFDIR) and the mariadb-tls-proxy user; remove them by hand if no longer needed"

# --- Debian package (scripts/build-deb.sh) ---------------------------------------------------
# make deb   .build/deb/mariadb-tls-proxy_<version>_<arch>.deb from the release binary: `make install`
#            into a staging root (PREFIX=/usr, BINDIR=/usr/sbin), maintainer scripts and control
#            template from packaging/debian/, Depends: from dpkg-shlibdeps. Variables: DEB_OUTPUT_DIR.
DEB_OUTPUT_DIR ?= $(CURDIR)/.build/deb

.PHONY: deb

deb: deps
	$(MAKE) --no-print-directory build
	PROXY_BIN="$(PROXY_BIN)" DEB_OUTPUT_DIR="$(DEB_OUTPUT_DIR)" MAKE="$(MAKE)" bash scripts/build-deb.sh

# Verifies copies of the shipped units whose ExecStart= names an existing executable (the
# release binary if built, else /bin/true), and fails on any message, not only on errors:
# systemd-analyze only warns about unknown keys. The security review fails above exposure 1.5
# (--threshold counts tenths); the shipped unit scores 1.2.
verify-units:
	@command -v systemd-analyze >/dev/null || { echo "make: systemd-analyze not found (apt-get install systemd)" >&2; exit 1; }
	@bin="$(PROXY_BIN)"; if [ ! -x "$$bin" ]; then echo "($(PROXY_BIN) not built; verifying with /bin/true as ExecStart)"; bin=/bin/true; fi; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for unit in $(UNITS); do sed -e "s|/usr/local/bin/mariadb-tls-proxy|$$bin|g" "systemd/$$unit" > "$$tmp/$$unit"; done; \
	echo "systemd-analyze verify $(UNITS)"; \
	out=$$(systemd-analyze verify $(addprefix "$$tmp"/,$(UNITS)) 2>&1) || { echo "$$out" >&2; exit 1; }; \
	if [ -n "$$out" ]; then echo "$$out" >&2; exit 1; fi; \
	echo "systemd-analyze security --offline=yes mariadb-tls-proxy.service"; \
	systemd-analyze security --offline=yes --threshold=15 "$$tmp/mariadb-tls-proxy.service" | tail -n 1; \
	echo "units OK"

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
FUZZ_LIMIT := $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS),-max_total_time=$(FUZZ_SECONDS))
FUZZ_LIMIT_TEXT := $(if $(FUZZ_RUNS),$(FUZZ_RUNS) executions,$(FUZZ_SECONDS) s)
FUZZ_TARGETS ?= FuzzClientStream FuzzBackendStream FuzzOptionFile FuzzAccountsFile
FUZZ_NICE ?= nice -n 19
FUZZ_FLAGS ?=
FUZZ_CONFIGURATION ?= release
FUZZ_ASAN_OPTIONS ?= malloc_context_size=0:quarantine_size_mb=64
FUZZ_DIR := $(CURDIR)/FuzzTesting
FUZZ_BIN := $(FUZZ_DIR)/.build-fuzz/$(FUZZ_CONFIGURATION)

.PHONY: fuzz fuzz-build fuzz-regress

fuzz-build:
	cd "$(FUZZ_DIR)" && $(FUZZ_NICE) $(SWIFT) build -c $(FUZZ_CONFIGURATION) --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address

fuzz: fuzz-build
	@failed=(); summary=(); \
	for target in $(FUZZ_TARGETS); do \
		run="$(FUZZ_DIR)/.build-fuzz/runs/$$target"; \
		rm -rf "$$run"; mkdir -p "$$run/corpus" "$$run/artifacts"; \
		cp "$(FUZZ_DIR)/Corpus/$$target"/* "$$run/corpus/"; \
		if compgen -G "$(FUZZ_DIR)/FailCases/$$target/*" >/dev/null; then cp "$(FUZZ_DIR)/FailCases/$$target"/* "$$run/corpus/"; fi; \
		echo "== $$target: $(FUZZ_LIMIT_TEXT), log $$run/log"; \
		rc=0; \
		ASAN_OPTIONS="$(FUZZ_ASAN_OPTIONS)" $(FUZZ_NICE) "$(FUZZ_BIN)/$$target" $(FUZZ_LIMIT) -rss_limit_mb=4096 -timeout=30 \
			-print_final_stats=1 -reload=0 -artifact_prefix="$$run/artifacts/" $(FUZZ_FLAGS) "$$run/corpus" >"$$run/log" 2>&1 || rc=$$?; \
		units=$$(sed -n 's/^stat::number_of_executed_units: *//p' "$$run/log" | tail -n 1); \
		rate=$$(sed -n 's/^stat::average_exec_per_sec: *//p' "$$run/log" | tail -n 1); \
		grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)' "$$run/log" | tail -n 1 || true; \
		line="$$target: $${units:-?} executions, $${rate:-?} exec/s"; \
		if [ "$$rc" -ne 0 ] || compgen -G "$$run/artifacts/*" >/dev/null; then \
			mkdir -p "$(FUZZ_DIR)/FailCases/$$target"; \
			for artifact in "$$run/artifacts"/*; do [ -e "$$artifact" ] && cp "$$artifact" "$(FUZZ_DIR)/FailCases/$$target/"; done; \
			grep -E -A 30 '^==[0-9]+==|Fatal error|fuzz oracle failed|^SUMMARY' "$$run/log" | head -n 60 >&2 || tail -n 40 "$$run/log" >&2; \
			line="$$line -- FAILED (rc $$rc), input(s) saved in FuzzTesting/FailCases/$$target/"; \
			failed+=("$$target"); \
		fi; \
		echo "$$line"; summary+=("$$line"); \
	done; \
	echo "== fuzz summary ($(FUZZ_LIMIT_TEXT) per target)"; printf '  %s\n' "$${summary[@]}"; \
	if [ $${#failed[@]} -gt 0 ]; then echo "make: fuzzing found crashes in: $${failed[*]}" >&2; exit 1; fi

fuzz-regress: fuzz-build
	@for target in $(FUZZ_TARGETS); do \
		dirs=("$(FUZZ_DIR)/Corpus/$$target"); \
		if [ -d "$(FUZZ_DIR)/FailCases/$$target" ]; then dirs+=("$(FUZZ_DIR)/FailCases/$$target"); fi; \
		echo "== $$target: replaying $$(find "$${dirs[@]}" -type f | wc -l) inputs"; \
		rc=0; out=$$("$(FUZZ_BIN)/$$target" -runs=0 -rss_limit_mb=4096 -timeout=30 "$${dirs[@]}" 2>&1) || rc=$$?; \
		grep -E '^#[0-9]+[[:space:]]+DONE' <<<"$$out" || true; \
		if [ "$$rc" -ne 0 ]; then tail -n 40 <<<"$$out" >&2; echo "make: $$target failed on a corpus input (rc $$rc)" >&2; exit 1; fi; \
	done; echo "fuzz-regress: all inputs pass"

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
