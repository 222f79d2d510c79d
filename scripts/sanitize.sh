#!/usr/bin/env bash
# sanitize.sh address|thread — the whole test suite (Swift unit tests, then the integration suite
# against a proxy built with the same sanitizer) under AddressSanitizer or ThreadSanitizer.
#
#   make test-asan   = scripts/sanitize.sh address   (scratch path .build-asan)
#   make test-tsan   = scripts/sanitize.sh thread    (scratch path .build-tsan)
#
# One debug build per sanitizer (`swift build --build-tests --sanitize=…`): it holds both the test
# bundle and the instrumented mariadb-tls-proxy the integration suite runs. Every sanitizer report,
# from the unit tests or from any proxy process the suite starts, goes to a file under
# <scratch>/sanitizer-reports (log_path=…); the run fails when a test fails or when any report
# exists, so a report in a proxy whose test otherwise passed is not missed.
#
# Suppressions (scripts/sanitizers/): only the toolchain's own test harness (LeakSanitizer in
# libXCTest). ASan runs with detect_leaks=1 and fails on any leak in our code or our dependencies.
#
# Variables: SWIFT (swift), PYTHON (python3), PYTEST_ARGS (-q), SANITIZER_PYTEST_ARGS (extra, e.g.
# "-k reload" for a subset), SANITIZER_SKIP_UNIT=1 / SANITIZER_SKIP_INTEGRATION=1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
die() { echo "sanitize: $*" >&2; exit 1; }

[[ $# -eq 1 ]] || die "usage: $0 address|thread"
case $1 in
    address) short=asan ;;
    thread) short=tsan ;;
    *) die "unknown sanitizer '$1' (address or thread)" ;;
esac
SANITIZER=$1
SWIFT=${SWIFT:-swift}
PYTHON=${PYTHON:-python3}
PYTEST_ARGS=${PYTEST_ARGS:--q}
SCRATCH=$ROOT/.build-$short
REPORTS=$SCRATCH/sanitizer-reports
SUPPRESSIONS=$ROOT/scripts/sanitizers

rm -rf "$REPORTS"
mkdir -p "$REPORTS"

# Reports go to files named <prefix>.<pid>; halt_on_error=0 for TSan so one race does not hide the next.
export ASAN_OPTIONS="log_path=$REPORTS/asan:detect_leaks=1:abort_on_error=0:strict_string_checks=1:check_initialization_order=1"
export LSAN_OPTIONS="suppressions=$SUPPRESSIONS/lsan.supp:print_suppressions=0"
export TSAN_OPTIONS="log_path=$REPORTS/tsan:halt_on_error=0:second_deadlock_stack=1:suppressions=$SUPPRESSIONS/tsan.supp"

echo "== swift build --build-tests --sanitize=$SANITIZER --scratch-path ${SCRATCH#"$ROOT"/}"
"$SWIFT" build --build-tests --sanitize="$SANITIZER" --scratch-path "$SCRATCH"
PROXY_BIN=$SCRATCH/debug/mariadb-tls-proxy
[[ -x $PROXY_BIN ]] || die "build finished but $PROXY_BIN is missing"

failed=()
ran=()
if [[ ${SANITIZER_SKIP_UNIT:-0} != 1 ]]; then
    ran+=("unit tests")
    echo "== unit tests under $SANITIZER sanitizer"
    "$SWIFT" test --skip-build --sanitize="$SANITIZER" --scratch-path "$SCRATCH" || failed+=("unit tests")
fi
if [[ ${SANITIZER_SKIP_INTEGRATION:-0} != 1 ]]; then
    ran+=("integration suite")
    echo "== integration suite against $PROXY_BIN"
    # shellcheck disable=SC2086 # PYTEST_ARGS and SANITIZER_PYTEST_ARGS are word lists
    PROXY_BIN="$PROXY_BIN" PROXY_UNDER_SANITIZER="$SANITIZER" "$PYTHON" -m pytest Tests/Integration $PYTEST_ARGS ${SANITIZER_PYTEST_ARGS:-} ||
        failed+=("integration suite")
fi

# A file holding only LeakSanitizer's "Suppressions used" table is not a report.
mapfile -t reports < <(grep -l -E '^(==[0-9]+==ERROR|WARNING: ThreadSanitizer|SUMMARY: )' "$REPORTS"/* 2>/dev/null || true)
if ((${#reports[@]})); then
    echo "== sanitizer reports (${#reports[@]} files in ${REPORTS#"$ROOT"/}):" >&2
    for report in "${reports[@]}"; do
        echo "--- $report" >&2
        head -n 60 "$report" >&2
    done
    failed+=("${#reports[@]} sanitizer report(s)")
fi

if ((${#failed[@]})); then
    die "$SANITIZER sanitizer run failed: ${failed[*]}"
fi
echo "sanitize: $SANITIZER sanitizer: passed (${ran[*]:-nothing run}), no reports"
