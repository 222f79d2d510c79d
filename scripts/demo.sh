#!/usr/bin/env bash
# demo.sh [--keep] — show mariadb-tls-proxy in front of a plaintext MariaDB, end to end.
#
# Creates throwaway certificates and a private --skip-ssl backend under DEMO_DIR
# (default <repo>/demo-run), starts the proxy with require_secure_transport=ON, runs a
# few clients against it, then stops everything. --keep leaves both running until you
# press Enter (or until stdin closes) and prints the commands to try.
#
# Env: PROXY_BIN (default <repo>/.build/release/mariadb-tls-proxy), DEMO_DIR.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$REPO/scripts/lib.sh"

KEEP=0
[[ ${1:-} == --keep ]] && KEEP=1
PROXY_BIN=${PROXY_BIN:-$REPO/.build/release/mariadb-tls-proxy}
DEMO_DIR=${DEMO_DIR:-$REPO/demo-run}

[[ -x $PROXY_BIN ]] || { echo "demo: $PROXY_BIN not found; run 'make build' first" >&2; exit 1; }

mkdir -p "$DEMO_DIR"
DEMO_DIR=$(cd "$DEMO_DIR" && pwd)
CERTS=$DEMO_DIR/certs
PROXY_LOG=$DEMO_DIR/proxy.log
PROXY_PID=

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# show CMD...: print the command, run it with stderr folded into stdout.
show() { printf '$ %s\n' "$*"; "$@" 2>&1; }
# show_grep REGEX CMD...: same, keeping only the output lines matching REGEX.
show_grep() {
    local rx=$1
    shift
    printf '$ %s | grep -E %q\n' "$*" "$rx"
    "$@" 2>&1 | grep -E "$rx"
}

cleanup() {
    local rc=$?
    if [[ -n $PROXY_PID ]] && kill -0 "$PROXY_PID" 2>/dev/null; then
        kill -TERM "$PROXY_PID" 2>/dev/null || true
        wait "$PROXY_PID" 2>/dev/null || true
    fi
    bash "$REPO/scripts/stop-backend.sh" "$DEMO_DIR/backend" || true
    exit "$rc"
}
trap cleanup EXIT INT TERM

step "Certificates (scripts/make-certs.sh $CERTS)"
bash "$REPO/scripts/make-certs.sh" "$CERTS"
ls "$CERTS"

step "Private plaintext MariaDB backend (--skip-ssl)"
bash "$REPO/scripts/start-backend.sh" "$DEMO_DIR/backend" >/dev/null
# shellcheck disable=SC1091
source "$DEMO_DIR/backend/backend.env"
echo "backend: 127.0.0.1:$BACKEND_PORT, socket $BACKEND_SOCKET (pid $BACKEND_PID)"

PORT=$(free_port)
SOCK=$DEMO_DIR/proxy.sock
cat >"$DEMO_DIR/proxy.cnf" <<EOF
[mariadb-tls-proxy]
bind_address=127.0.0.1
port=$PORT
socket=$SOCK
backend_host=127.0.0.1
backend_port=$BACKEND_PORT
ssl_cert=$CERTS/server-cert.pem
ssl_key=$CERTS/server-key.pem
ssl_ca=$CERTS/ca.pem
require_secure_transport=ON
EOF

step "Proxy configuration ($DEMO_DIR/proxy.cnf)"
cat "$DEMO_DIR/proxy.cnf"
show "$PROXY_BIN" --defaults-file="$DEMO_DIR/proxy.cnf" --check && echo "--check: OK"

step "Starting the proxy"
"$PROXY_BIN" --defaults-file="$DEMO_DIR/proxy.cnf" </dev/null >"$DEMO_DIR/proxy.stdout" 2>"$PROXY_LOG" &
PROXY_PID=$!
if ! wait_for_line "$PROXY_LOG" "$PROXY_PID" "ready for connections" 30; then
    echo "demo: the proxy did not become ready:" >&2
    cat "$PROXY_LOG" >&2
    exit 1
fi
grep "ready for connections" "$PROXY_LOG"

M=(mariadb --no-defaults --connect-timeout=10 -u app -papp-pass)
TLS=(--ssl --ssl-ca="$CERTS/ca.pem" --ssl-verify-server-cert)

step "1. TLS over TCP, server certificate verified"
show_grep "SSL:|Current user|Connection:" "${M[@]}" -h 127.0.0.1 -P "$PORT" "${TLS[@]}" -e "status"
show "${M[@]}" -h 127.0.0.1 -P "$PORT" "${TLS[@]}" -e "SELECT CURRENT_USER(), @@version, @@port AS backend_port"

step "2. Plaintext TCP is refused (require_secure_transport=ON)"
show "${M[@]}" -h 127.0.0.1 -P "$PORT" --skip-ssl -e "SELECT 1" || true

step "3. The unix socket counts as secure, TLS optional there"
show_grep "SSL:|Connection:" "${M[@]}" -S "$SOCK" --skip-ssl -e "status"

step "4. A client certificate from another CA is refused in the TLS handshake"
show "${M[@]}" -h 127.0.0.1 -P "$PORT" "${TLS[@]}" \
    --ssl-cert="$CERTS/other-client-cert.pem" --ssl-key="$CERTS/other-client-key.pem" -e "SELECT 1" || true

step "5. openssl s_client -starttls mysql"
show_grep "^subject=|^issuer=|Cipher is|Verify return code" \
    openssl s_client -starttls mysql -connect "127.0.0.1:$PORT" -CAfile "$CERTS/ca.pem" </dev/null || true

step "Proxy log (one line per finished connection)"
grep "connection closed" "$PROXY_LOG" || true

if ((KEEP)); then
    step "Running. Try:"
    echo "  ${M[*]} -h 127.0.0.1 -P $PORT ${TLS[*]}"
    echo "  ${M[*]} -S $SOCK"
    echo "  tail -f $PROXY_LOG"
    echo "Press Enter to stop."
    read -r _ || true
fi

step "SIGTERM"
kill -TERM "$PROXY_PID"
rc=0
wait "$PROXY_PID" || rc=$?
PROXY_PID=
echo "proxy exited with status $rc"
[[ $rc -eq 0 ]]
