# mariadb-tls-proxy — build and test plumbing.
#
#   make build   swift build -c release  ->  .build/release/mariadb-tls-proxy
#   make deps    install missing system packages / pytest (scripts/install-deps.sh)
#   make test    deps, release build, unit tests (swift test), integration suite (pytest)
#   make demo    release build, then scripts/demo.sh
#   make clean   remove build products, demo state and Python caches
#
# Variables: SWIFT (default swift), PYTHON (python3), PROXY_BIN, PYTEST_ARGS (-q),
#            SWIFT_BUILD_FLAGS, SWIFT_TEST_FLAGS.

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

build:
	@command -v $(SWIFT) >/dev/null || { echo "make: '$(SWIFT)' not found (looked on PATH and in /opt/swift/usr/bin)" >&2; exit 1; }
	$(SWIFT) build -c release $(SWIFT_BUILD_FLAGS)
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

demo: build
	PROXY_BIN="$(PROXY_BIN)" bash scripts/demo.sh

clean:
	-$(SWIFT) package clean
	rm -rf .build/release .build/debug demo-run .pytest_cache
	find Tests scripts -name __pycache__ -type d -prune -exec rm -rf {} +

# Also drops fetched package checkouts (the next build downloads them again).
distclean: clean
	rm -rf .build
