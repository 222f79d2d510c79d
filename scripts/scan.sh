#!/usr/bin/env bash
# scan.sh [HOST:PORT] — testssl.sh --starttls mysql against the proxy, then check the findings.
#
# Without HOST:PORT it scans a proxy of its own, with the default TLS settings: test certificates
# (make-certs.sh), a private plaintext mariadbd (start-backend.sh, which the proxy needs for the
# greeting) and PROXY_BIN, all under SCAN_DIR. With HOST:PORT it scans that proxy (a deployment;
# nothing is started) — pass SCAN_CA=ca.pem if its certificate is from a private CA.
#
# The scan (SCAN_CHECKS, default "-p -E -S -P -f -U": protocols, every cipher per protocol, server
# defaults and certificate, server preference, forward secrecy, all vulnerability checks) writes
# SCAN_DIR/testssl.json (--jsonfile) and SCAN_DIR/testssl.log. The result fails (exit 1) on:
# a protocol below TLS 1.2, a weak TLS 1.2 cipher (NULL/EXPORT/RC4/3DES/DES/MD5/anonymous, CBC
# without forward secrecy, and — unless SCAN_ANY_FS_CIPHER=1, for a deliberately configured
# ssl_cipher — anything but AEAD with ECDHE/DHE), client-initiated renegotiation, missing RFC 5746,
# TLS compression (CRIME), or any finding of severity MEDIUM or above. With the test certificates
# cert_revocation is ignored (they carry no CRL or OCSP URI); SCAN_IGNORE adds more finding ids.
# Checker: scripts/tools/testssl_check.py (test_tls_scan.py runs it too).
#
# testssl.sh is installed with apt-get (Debian package testssl.sh) when missing.
# Takes about 1.5 minutes against a local proxy.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
die() { echo "scan: $*" >&2; exit 1; }

PROXY_BIN=${PROXY_BIN:-$ROOT/.build/release/mariadb-tls-proxy}
PYTHON=${PYTHON:-python3}
CHECKS=${SCAN_CHECKS:--p -E -S -P -f -U}
TARGET=${1:-}

find_testssl() { command -v testssl.sh || command -v testssl || true; }

TESTSSL=$(find_testssl)
if [[ -z $TESTSSL ]]; then
    command -v apt-get >/dev/null || die "testssl.sh not found and no apt-get to install it"
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        sudo -n true 2>/dev/null || die "testssl.sh not found; install it (apt-get install testssl.sh) or run as root"
        SUDO=(sudo -n)
    fi
    echo "scan: installing testssl.sh (apt-get)"
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Use-Pty=0 testssl.sh </dev/null
    TESTSSL=$(find_testssl)
    [[ -n $TESTSSL ]] || die "testssl.sh still not found after installing the package"
fi

if [[ -n ${SCAN_DIR:-} ]]; then
    mkdir -p "$SCAN_DIR"
    DIR=$(cd "$SCAN_DIR" && pwd)
else
    DIR=$(mktemp -d /tmp/scan.XXXXXX)
fi

proxy_pid=
started_backend=0
cleanup() {
    if [[ -n $proxy_pid ]] && kill -0 "$proxy_pid" 2>/dev/null; then
        kill -TERM "$proxy_pid" 2>/dev/null || true
        timeout 30 tail --pid="$proxy_pid" -f /dev/null || kill -KILL "$proxy_pid" 2>/dev/null || true
    fi
    if ((started_backend)); then
        bash "$ROOT/scripts/stop-backend.sh" "$DIR/backend" >/dev/null 2>&1 || true
    fi
    echo "scan: results in $DIR (testssl.json, testssl.log)"
}
trap cleanup EXIT

IGNORE=()
CA_ARGS=()
if [[ -z $TARGET ]]; then
    [[ -x $PROXY_BIN ]] || die "$PROXY_BIN not built (make build)"
    bash "$ROOT/scripts/make-certs.sh" "$DIR/certs" >/dev/null
    started_backend=1
    BACKEND_TMPDIR=$DIR/backend/tmp bash "$ROOT/scripts/start-backend.sh" "$DIR/backend" >"$DIR/backend.out" ||
        die "start-backend.sh failed (see $DIR/backend/error.log)"
    # shellcheck disable=SC1091
    source "$DIR/backend/backend.env"
    PORT=$(free_port)
    cat >"$DIR/proxy.cnf" <<EOF
[mariadb-tls-proxy]
bind_address = 127.0.0.1
port = $PORT
backend_host = 127.0.0.1
backend_port = $BACKEND_PORT
ssl_cert = $DIR/certs/server-cert.pem
ssl_key = $DIR/certs/server-key.pem
ssl_ca = $DIR/certs/ca.pem
EOF
    "$PROXY_BIN" --defaults-file="$DIR/proxy.cnf" </dev/null >"$DIR/proxy.log" 2>&1 &
    proxy_pid=$!
    wait_for_line "$DIR/proxy.log" "$proxy_pid" "ready for connections" 30 ||
        { tail -n 20 "$DIR/proxy.log" >&2; die "the proxy did not become ready"; }
    TARGET=127.0.0.1:$PORT
    CA_ARGS=(--add-ca "$DIR/certs/ca.pem")
    IGNORE=(--ignore cert_revocation)
elif [[ -n ${SCAN_CA:-} ]]; then
    CA_ARGS=(--add-ca "$SCAN_CA")
fi
for id in ${SCAN_IGNORE:-}; do IGNORE+=(--ignore "$id"); done
CHECK_ARGS=()
if [[ ${SCAN_ANY_FS_CIPHER:-0} == 1 ]]; then CHECK_ARGS+=(--any-fs-cipher); fi

rm -f "$DIR/testssl.json" "$DIR/testssl.log"
echo "scan: $TESTSSL --starttls mysql $CHECKS $TARGET"
# shellcheck disable=SC2086 # CHECKS is a list of options
(cd "$DIR" && "$TESTSSL" --quiet --color 0 --warnings off -n none --openssl-timeout 10 --connect-timeout 10 \
    "${CA_ARGS[@]}" --starttls mysql $CHECKS --jsonfile "$DIR/testssl.json" --logfile "$DIR/testssl.log" \
    "$TARGET" </dev/null) || echo "scan: testssl.sh exited with $? (its exit code counts findings; judged below)"
[[ -s $DIR/testssl.json ]] || die "testssl.sh wrote no JSON result"

echo "scan: findings"
rc=0
"$PYTHON" "$ROOT/scripts/tools/testssl_check.py" "$DIR/testssl.json" \
    "${CHECK_ARGS[@]}" "${IGNORE[@]}" || rc=$?
if [[ -n $proxy_pid ]]; then
    kill -0 "$proxy_pid" 2>/dev/null || { tail -n 20 "$DIR/proxy.log" >&2; die "the proxy died during the scan"; }
fi
if ((rc != 0)); then
    echo "scan: FAILED" >&2
    exit 1
fi
echo "scan: passed"
