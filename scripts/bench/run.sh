#!/usr/bin/env bash
# run.sh — `make bench`: install the benchmark's packages if missing (scripts/install-deps.sh with
# sysbench, haproxy and a C compiler for the load client added), then run
# scripts/bench/bench.py.
#
# Expects the release binary (PROXY_BIN, default .build/release/mariadb-tls-proxy; the Makefile's
# bench target builds it first). All BENCH_* variables are passed through; see bench.py's header
# and docs/benchmarks.md. Exit status: 0 when the run completed (targets missed are reported in the
# table, not as a failure), 1 when the harness itself failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PYTHON=${PYTHON:-python3}
export PROXY_BIN=${PROXY_BIN:-$ROOT/.build/release/mariadb-tls-proxy}

[[ -x $PROXY_BIN ]] || { echo "bench: $PROXY_BIN not built (make build)" >&2; exit 1; }
EXTRA_APT_PACKAGES="sysbench haproxy gcc libc6-dev" bash "$ROOT/scripts/install-deps.sh"

# Up to the hard limit: 5,000 held TLS connections cost the proxy two descriptors each.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec "$PYTHON" "$ROOT/scripts/bench/bench.py"
