#!/usr/bin/env bash
# soak.sh — minutes of mixed client traffic against one proxy, watching its descriptors and memory.
#
# Starts, all under SOAK_DIR: test certificates (make-certs.sh), a private plaintext mariadbd
# (start-backend.sh) and a proxy with require_secure_transport=ON, connect_timeout=3 and a metrics
# endpoint. Then SOAK_WORKERS client threads (scripts/tools/soak.py) loop over
# a weighted mix for SOAK_SECONDS: TLS logins with queries and big results, the mariadb CLI,
# plaintext logins over the unix socket, wrong passwords (1045), plaintext TCP logins (3159),
# resets (SO_LINGER 0) after the login and in the middle of a result, closes in the middle of the
# TLS handshake and before the greeting, and the odd silent client cut at connect_timeout.
# Every SOAK_SAMPLE_SECONDS it prints the proxy's open fds (/proc/PID/fd), VmRSS, threads, open
# connections (from /metrics) and the operations done so far.
#
# Fails (exit 1) if any client behaviour did not get the answer it should, if the proxy's fd count
# after the load has drained exceeds the count before it by more than SOAK_FD_SLACK, if VmRSS at
# the end (median of the last 3 samples) exceeds the first sample after SOAK_WARMUP_SECONDS by more
# than SOAK_RSS_GROWTH_PCT percent, or if the proxy does not exit 0 on SIGTERM afterwards. It also
# prints the RSS trend after warm-up in KiB per 1000 client behaviours: a small leak shows as a
# steady slope long before it reaches the percentage (run longer, e.g. SOAK_SECONDS=600, to judge).
#
# Variables (defaults): SOAK_SECONDS (120), SOAK_SAMPLE_SECONDS (5), SOAK_WARMUP_SECONDS (20),
# SOAK_WORKERS (6), SOAK_FD_SLACK (8), SOAK_RSS_GROWTH_PCT (20), SOAK_DIR (a new temporary
# directory, removed afterwards unless the run failed or SOAK_KEEP=1), PROXY_BIN
# (.build/release/mariadb-tls-proxy), PYTHON (python3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
die() { echo "soak: $*" >&2; exit 1; }

PROXY_BIN=${PROXY_BIN:-$ROOT/.build/release/mariadb-tls-proxy}
PYTHON=${PYTHON:-python3}
SECONDS_TOTAL=${SOAK_SECONDS:-120}
SAMPLE=${SOAK_SAMPLE_SECONDS:-5}
WARMUP=${SOAK_WARMUP_SECONDS:-20}
WORKERS=${SOAK_WORKERS:-6}
FD_SLACK=${SOAK_FD_SLACK:-8}
RSS_PCT=${SOAK_RSS_GROWTH_PCT:-20}

[[ -x $PROXY_BIN ]] || die "$PROXY_BIN not built (make build)"
for n in "$SECONDS_TOTAL" "$SAMPLE" "$WARMUP" "$WORKERS" "$FD_SLACK" "$RSS_PCT"; do
    [[ $n =~ ^[0-9]+$ ]] || die "SOAK_* values must be whole numbers, got '$n'"
done
((WARMUP < SECONDS_TOTAL)) || die "SOAK_WARMUP_SECONDS ($WARMUP) must be less than SOAK_SECONDS ($SECONDS_TOTAL)"

created_dir=0
if [[ -n ${SOAK_DIR:-} ]]; then
    mkdir -p "$SOAK_DIR"
    DIR=$(cd "$SOAK_DIR" && pwd)
else
    # Short path: the sockets must fit in sun_path.
    DIR=$(mktemp -d /tmp/soak.XXXXXX)
    created_dir=1
fi

proxy_pid=
status=1
cleanup() {
    if [[ -n $proxy_pid ]] && kill -0 "$proxy_pid" 2>/dev/null; then
        kill -KILL "$proxy_pid" 2>/dev/null || true
    fi
    bash "$ROOT/scripts/stop-backend.sh" "$DIR/backend" >/dev/null 2>&1 || true
    if ((status == 0 && created_dir)) && [[ ${SOAK_KEEP:-0} != 1 ]]; then
        rm -rf "$DIR"
    else
        echo "soak: files kept in $DIR (proxy log: $DIR/proxy.log)"
    fi
}
trap cleanup EXIT

echo "soak: certificates and backend in $DIR"
bash "$ROOT/scripts/make-certs.sh" "$DIR/certs" >/dev/null
BACKEND_TMPDIR=$DIR/backend/tmp bash "$ROOT/scripts/start-backend.sh" "$DIR/backend" >"$DIR/backend.out" ||
    die "start-backend.sh failed (see $DIR/backend/error.log)"
# shellcheck disable=SC1091
source "$DIR/backend/backend.env"

PORT=$(free_port)
METRICS_PORT=$(free_port)
cat >"$DIR/proxy.cnf" <<EOF
[mariadb-tls-proxy]
bind_address = 127.0.0.1
port = $PORT
socket = $DIR/proxy.sock
backend_host = 127.0.0.1
backend_port = $BACKEND_PORT
ssl_cert = $DIR/certs/server-cert.pem
ssl_key = $DIR/certs/server-key.pem
ssl_ca = $DIR/certs/ca.pem
require_secure_transport = ON
connect_timeout = 3
metrics_address = 127.0.0.1:$METRICS_PORT
EOF

"$PROXY_BIN" --defaults-file="$DIR/proxy.cnf" </dev/null >"$DIR/proxy.log" 2>&1 &
proxy_pid=$!
wait_for_line "$DIR/proxy.log" "$proxy_pid" "ready for connections" 30 ||
    { tail -n 20 "$DIR/proxy.log" >&2; die "the proxy did not become ready"; }

echo "soak: proxy pid $proxy_pid on 127.0.0.1:$PORT; ${SECONDS_TOTAL}s with $WORKERS workers," \
    "a sample every ${SAMPLE}s, warm-up ${WARMUP}s"
load_rc=0
"$PYTHON" "$ROOT/scripts/tools/soak.py" --pid "$proxy_pid" --port "$PORT" \
    --socket "$DIR/proxy.sock" --ca "$DIR/certs/ca.pem" --metrics "127.0.0.1:$METRICS_PORT" \
    --seconds "$SECONDS_TOTAL" --sample "$SAMPLE" --warmup "$WARMUP" --workers "$WORKERS" \
    --fd-slack "$FD_SLACK" --rss-growth-pct "$RSS_PCT" || load_rc=$?

kill -TERM "$proxy_pid"
proxy_rc=0
wait "$proxy_pid" || proxy_rc=$?
proxy_pid=
echo "soak: proxy exited with $proxy_rc after SIGTERM;" \
    "$(grep -c 'connection closed' "$DIR/proxy.log" || true) connections logged"
grep -o 'outcome="[^"]*"\|outcome=[a-z]*' "$DIR/proxy.log" | sed -E 's/conn=[0-9]+//; s/\(([0-9]+)s\)/(Ns)/' |
    sort | uniq -c | sort -rn | head -n 20 || true

if ((load_rc != 0)); then
    echo "soak: FAILED (see above)" >&2
    exit 1
fi
if ((proxy_rc != 0)); then
    tail -n 20 "$DIR/proxy.log" >&2
    die "FAILED: the proxy exited with $proxy_rc after SIGTERM"
fi
status=0
echo "soak: passed"
