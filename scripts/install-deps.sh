#!/usr/bin/env bash
# install-deps.sh — install what the build and the tests need, and only what is missing.
#
# apt packages: libssl-dev libsystemd-dev pkg-config mariadb-server mariadb-client systemd
#               mariadb-test openssl python3 testssl.sh (the TLS scan test)
#               dpkg-dev (dpkg-shlibdeps, and binutils' strip/readelf, for `make deb`)
#               groff-base (the man page check)
# python:       pytest (via pip) if `python3 -m pytest` does not work.
# EXTRA_APT_PACKAGES: more Debian packages to check and install the same way (space-separated;
#               `make bench` adds sysbench haproxy gcc libc6-dev).
# A no-op (no apt-get update, no network) when everything is present.
#
# Installing mariadb-server must not start a system MariaDB service: while apt-get runs we
# install a temporary /usr/sbin/policy-rc.d that forbids service starts (only if none exists),
# and remove it afterwards. The tests run their own private mariadbd (scripts/start-backend.sh).
set -euo pipefail

APT_PACKAGES=(libssl-dev libsystemd-dev pkg-config mariadb-server mariadb-client mariadb-test openssl python3 systemd testssl.sh
    dpkg-dev groff-base)
read -r -a extra_packages <<<"${EXTRA_APT_PACKAGES:-}"
APT_PACKAGES+=("${extra_packages[@]}")
PYTHON=${PYTHON:-python3}

log() { echo "install-deps: $*" >&2; }
die() { log "$*"; exit 1; }

is_installed() { # dpkg package
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

have_pytest() { "$PYTHON" -m pytest --version >/dev/null 2>&1; }
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

if ! have_pytest; then
    have_pip || die "$PYTHON has no pip; install python3-pip or pytest for $PYTHON"
    pip_args=(install --quiet --disable-pip-version-check pytest)
    # Debian marks its python externally managed (PEP 668); pip then installs into /usr/local.
    if "$PYTHON" -c 'import os, sys, sysconfig; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)'; then
        pip_args+=(--break-system-packages)
    fi
    log "installing pytest with: $PYTHON -m pip ${pip_args[*]}"
    if [[ $(id -u) -ne 0 ]] && ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.prefix != sys.base_prefix else 1)'; then
        pip_args+=(--user)
    fi
    "$PYTHON" -m pip "${pip_args[@]}"
    have_pytest || die "pytest still not importable by $PYTHON after pip install"
fi

exit 0
