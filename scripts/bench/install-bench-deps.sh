#!/usr/bin/env bash
# install-bench-deps.sh — install what `make bench` needs on top of scripts/install-deps.sh,
# and only what is missing: sysbench (oltp_point_select), haproxy (the TCP-hop reference),
# a C compiler for the lean load client (Benchmarks/LoadClient), and the MariaDB server/client
# and OpenSSL headers (via scripts/install-deps.sh's list, checked here too).
#
# A no-op (no apt-get update, no network) when everything is present.
# Installing haproxy (or mariadb-server) must not start a system service: while apt-get runs a
# temporary /usr/sbin/policy-rc.d forbids service starts (only if none exists) and is removed
# afterwards, as in scripts/install-deps.sh. The benchmark runs its own private haproxy.
set -euo pipefail

APT_PACKAGES=(sysbench haproxy gcc libc6-dev libssl-dev mariadb-server mariadb-client openssl python3)

log() { echo "install-bench-deps: $*" >&2; }
die() { log "$*"; exit 1; }

is_installed() { # dpkg package
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    fi
fi

missing=()
if command -v dpkg-query >/dev/null; then
    for p in "${APT_PACKAGES[@]}"; do
        is_installed "$p" || missing+=("$p")
    done
else
    for tool in sysbench haproxy cc mariadbd mariadb openssl python3; do
        command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || missing+=("$tool")
    done
    ((${#missing[@]} == 0)) || die "no dpkg/apt-get here; please install: ${missing[*]}"
fi

if ((${#missing[@]})); then
    command -v apt-get >/dev/null || die "apt-get not found; please install: ${missing[*]}"
    if [[ $(id -u) -ne 0 && ${#SUDO[@]} -eq 0 ]]; then
        die "need root to install: ${missing[*]} (re-run as root, or install them yourself)"
    fi
    log "installing: ${missing[*]}"

    policy=/usr/sbin/policy-rc.d
    created_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\n# temporary, from scripts/bench/install-bench-deps.sh: no service starts\nexit 101\n' |
            "${SUDO[@]}" tee "$policy" >/dev/null
        "${SUDO[@]}" chmod 0755 "$policy"
        created_policy=1
    fi
    cleanup_policy() { if ((created_policy)); then "${SUDO[@]}" rm -f "$policy" || true; fi; }
    trap cleanup_policy EXIT

    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Use-Pty=0 "${missing[@]}" </dev/null

    cleanup_policy
    trap - EXIT
fi

for tool in sysbench haproxy cc; do
    command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || die "$tool still missing after install"
done
exit 0
