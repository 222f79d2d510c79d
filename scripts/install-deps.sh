#!/usr/bin/env bash
# install-deps.sh — install what the build and the tests need, and only what is missing.
#
# apt packages: libssl-dev libsystemd-dev pkg-config mariadb-server mariadb-client systemd
#               mariadb-test openssl python3 testssl.sh (the TLS scan test)
#               dpkg-dev (dpkg-shlibdeps, and binutils' strip/readelf, for `make deb`)
#               groff-base (the man page check)
#               qemu-system-x86 busybox-static (the kernel TLS test boots a VM)
# python:       pytest and cryptography (via pip) if `python3` cannot import them.
# Connector/C 3.4 (MariaDB 11.4+'s client library, for the zero-configuration TLS test): the
#               libraries of PyPI's mariadb-binary 2.0.0rc2 wheel (Connector/C 3.4.8), downloaded
#               with pip and unpacked into CONNECTOR_C34_DIR (default .build/test-deps/connector-c-3.4).
# EXTRA_APT_PACKAGES: more Debian packages to check and install the same way (space-separated;
#               `make bench` adds sysbench haproxy gcc libc6-dev).
# A no-op (no apt-get update, no network) when everything is present.
#
# Installing mariadb-server must not start a system MariaDB service: while apt-get runs we
# install a temporary /usr/sbin/policy-rc.d that forbids service starts (only if none exists),
# and remove it afterwards. The tests run their own private mariadbd (scripts/start-backend.sh).
set -euo pipefail

# qemu-system-x86 and busybox-static boot Debian's kernel (fetched by scripts/ktls-vm/fetch-kernel.sh)
# for test_kernel_tls.py: the kernel TLS path needs a kernel with the tls module.
APT_PACKAGES=(libssl-dev libsystemd-dev pkg-config mariadb-server mariadb-client mariadb-test openssl python3 systemd testssl.sh
    dpkg-dev groff-base qemu-system-x86 busybox-static)
read -r -a extra_packages <<<"${EXTRA_APT_PACKAGES:-}"
APT_PACKAGES+=("${extra_packages[@]}")
PYTHON=${PYTHON:-python3}

log() { echo "install-deps: $*" >&2; }
die() { log "$*"; exit 1; }

is_installed() { # dpkg package
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

have_pytest() { "$PYTHON" -m pytest --version >/dev/null 2>&1; }
have_cryptography() { "$PYTHON" -c 'import cryptography' >/dev/null 2>&1; }
have_pip() { "$PYTHON" -m pip --version >/dev/null 2>&1; }

SUDO=()
as_root() {
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            SUDO=(sudo -n)
        else
            die "need root to install: $* (re-run as root, or install them yourself)"
        fi
    fi
}

missing=()
if command -v dpkg-query >/dev/null; then
    for p in "${APT_PACKAGES[@]}"; do
        is_installed "$p" || missing+=("$p")
    done
    # pip is needed only if pytest is missing and pip is too.
    if ! have_pytest && ! have_pip && ! is_installed python3-pip; then
        missing+=(python3-pip)
    fi
else
    for tool in pkg-config mariadbd mariadb openssl "$PYTHON"; do
        command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || missing+=("$tool")
    done
    if ((${#missing[@]})); then
        die "no dpkg/apt-get here; please install: ${missing[*]}"
    fi
fi

if ((${#missing[@]})); then
    command -v apt-get >/dev/null || die "apt-get not found; please install: ${missing[*]}"
    as_root "${missing[*]}"
    log "installing: ${missing[*]}"

    policy=/usr/sbin/policy-rc.d
    created_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\n# temporary, from scripts/install-deps.sh: no service starts\nexit 101\n' |
            "${SUDO[@]}" tee "$policy" >/dev/null
        "${SUDO[@]}" chmod 0755 "$policy"
        created_policy=1
    fi
    cleanup_policy() { ((created_policy)) && "${SUDO[@]}" rm -f "$policy" || true; }
    trap cleanup_policy EXIT

    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Use-Pty=0 "${missing[@]}" </dev/null

    cleanup_policy
    trap - EXIT
fi

pip_install() { # package check-function
    local package=$1 check=$2
    have_pip || die "$PYTHON has no pip; install python3-pip or $package for $PYTHON"
    local pip_args=(install --quiet --disable-pip-version-check "$package")
    # Debian marks its python externally managed (PEP 668); pip then installs into /usr/local.
    if "$PYTHON" -c 'import os, sys, sysconfig; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)'; then
        pip_args+=(--break-system-packages)
    fi
    log "installing $package with: $PYTHON -m pip ${pip_args[*]}"
    if [[ $(id -u) -ne 0 ]] && ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.prefix != sys.base_prefix else 1)'; then
        pip_args+=(--user)
    fi
    "$PYTHON" -m pip "${pip_args[@]}"
    "$check" || die "$package still not importable by $PYTHON after pip install"
}

have_pytest || pip_install pytest have_pytest
have_cryptography || pip_install cryptography have_cryptography

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONNECTOR_C34_DIR=${CONNECTOR_C34_DIR:-$ROOT/.build/test-deps/connector-c-3.4}
if [[ ! -e $CONNECTOR_C34_DIR/libmariadb.so.3 ]]; then
    [[ $(uname -m) == x86_64 ]] || die "Connector/C 3.4 for the tests comes from an x86_64 wheel; on $(uname -m) put a libmariadb.so.3 of 3.4 (and its libraries) in CONNECTOR_C34_DIR=$CONNECTOR_C34_DIR"
    have_pip || die "$PYTHON has no pip, needed to download Connector/C 3.4 (PyPI mariadb-binary)"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    log "downloading Connector/C 3.4.8 (PyPI mariadb-binary==2.0.0rc2) into $CONNECTOR_C34_DIR"
    # The wheel is for CPython 3.11, but only its C libraries are used: ask for that wheel whatever $PYTHON is.
    "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --python-version 3.11 --implementation cp --abi cp311 --platform manylinux2014_x86_64 \
        mariadb-binary==2.0.0rc2 -d "$tmp" ||
        die "cannot download mariadb-binary==2.0.0rc2 from PyPI (offline?); the zero-configuration TLS test needs it (or set CONNECTOR_C34_DIR)"
    "$PYTHON" -m zipfile -e "$tmp"/mariadb_binary-*.whl "$tmp/wheel"
    mkdir -p "$CONNECTOR_C34_DIR"
    cp "$tmp"/wheel/mariadb_binary.libs/* "$CONNECTOR_C34_DIR"/
    (cd "$CONNECTOR_C34_DIR" && ln -sf libmariadb-*.so.3 libmariadb.so.3)
    [[ -e $CONNECTOR_C34_DIR/libmariadb.so.3 ]] || die "the wheel has no libmariadb-*.so.3"
    rm -rf "$tmp"
    trap - EXIT
fi

exit 0
