#!/usr/bin/env bash
# fuzz.sh — the libFuzzer targets of FuzzTesting/ (FuzzTesting/README.md).
#
#   scripts/fuzz.sh build     swift build of FuzzTesting/ with -sanitize=fuzzer,address (`make fuzz-build`)
#   scripts/fuzz.sh run       run each target for FUZZ_SECONDS (or FUZZ_RUNS executions) over a scratch
#                             copy of Corpus/<target> (+ FailCases/<target>); fails on any crash, whose
#                             input is kept in FuzzTesting/FailCases/<target>/ (`make fuzz`)
#   scripts/fuzz.sh regress   run every target once over Corpus/ and FailCases/, no fuzzing (`make fuzz-regress`)
#
# Environment (defaults as in the Makefile): SWIFT, FUZZ_SECONDS (60), FUZZ_RUNS, FUZZ_TARGETS
# (all four), FUZZ_NICE ("nice -n 19"), FUZZ_FLAGS, FUZZ_CONFIGURATION (release), FUZZ_ASAN_OPTIONS.
# New inputs found while fuzzing stay in FuzzTesting/.build-fuzz/runs/<target>/corpus.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FUZZ_DIR=$ROOT/FuzzTesting
SWIFT=${SWIFT:-swift}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_RUNS=${FUZZ_RUNS:-}
FUZZ_TARGETS=${FUZZ_TARGETS:-FuzzClientStream FuzzBackendStream FuzzOptionFile FuzzAccountsFile}
FUZZ_NICE=${FUZZ_NICE-nice -n 19}
FUZZ_FLAGS=${FUZZ_FLAGS:-}
FUZZ_CONFIGURATION=${FUZZ_CONFIGURATION:-release}
FUZZ_ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS-malloc_context_size=0:quarantine_size_mb=64}
FUZZ_BIN=$FUZZ_DIR/.build-fuzz/$FUZZ_CONFIGURATION

read -r -a nice_command <<<"$FUZZ_NICE"
read -r -a targets <<<"$FUZZ_TARGETS"
read -r -a extra_flags <<<"$FUZZ_FLAGS"
if [[ -n $FUZZ_RUNS ]]; then
    limit=(-runs="$FUZZ_RUNS")
    limit_text="$FUZZ_RUNS executions"
else
    limit=(-max_total_time="$FUZZ_SECONDS")
    limit_text="$FUZZ_SECONDS s"
fi

build() {
    echo "cd FuzzTesting && $FUZZ_NICE $SWIFT build -c $FUZZ_CONFIGURATION --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address"
    (cd "$FUZZ_DIR" && "${nice_command[@]}" "$SWIFT" build -c "$FUZZ_CONFIGURATION" --scratch-path .build-fuzz \
        -Xswiftc -sanitize=fuzzer,address)
}

# One target for the configured time or runs; prints its summary line last; returns 1 on a finding.
fuzz_target() {
    local target=$1 run=$FUZZ_DIR/.build-fuzz/runs/$1 rc=0 units rate line artifact
    rm -rf "$run"
    mkdir -p "$run/corpus" "$run/artifacts"
    cp "$FUZZ_DIR/Corpus/$target"/* "$run/corpus/"
    if compgen -G "$FUZZ_DIR/FailCases/$target/*" >/dev/null; then cp "$FUZZ_DIR/FailCases/$target"/* "$run/corpus/"; fi
    echo "== $target: $limit_text, log $run/log" >&2
    ASAN_OPTIONS=$FUZZ_ASAN_OPTIONS "${nice_command[@]}" "$FUZZ_BIN/$target" "${limit[@]}" -rss_limit_mb=4096 -timeout=30 \
        -print_final_stats=1 -reload=0 -artifact_prefix="$run/artifacts/" "${extra_flags[@]}" "$run/corpus" \
        >"$run/log" 2>&1 || rc=$?
    units=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run/log" | tail -n 1)
    grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)' "$run/log" | tail -n 1 >&2 || true
    line="$target: ${units:-?} executions, ${rate:-?} exec/s"
    if [[ $rc -ne 0 ]] || compgen -G "$run/artifacts/*" >/dev/null; then
        mkdir -p "$FUZZ_DIR/FailCases/$target"
        for artifact in "$run/artifacts"/*; do
            if [[ -e $artifact ]]; then cp "$artifact" "$FUZZ_DIR/FailCases/$target/"; fi
        done
        grep -E -A 30 '^==[0-9]+==|Fatal error|fuzz oracle failed|^SUMMARY' "$run/log" | head -n 60 >&2 \
            || tail -n 40 "$run/log" >&2
        echo "$line -- FAILED (rc $rc), input(s) saved in FuzzTesting/FailCases/$target/"
        return 1
    fi
    echo "$line"
}

run_all() {
    local target line failed=() summary=()
    for target in "${targets[@]}"; do
        if line=$(fuzz_target "$target"); then :; else failed+=("$target"); fi
        echo "$line"
        summary+=("$line")
    done
    echo "== fuzz summary ($limit_text per target)"
    printf '  %s\n' "${summary[@]}"
    if [[ ${#failed[@]} -gt 0 ]]; then
        echo "fuzz.sh: fuzzing found crashes in: ${failed[*]}" >&2
        exit 1
    fi
}

regress() {
    local target dirs rc out
    for target in "${targets[@]}"; do
        dirs=("$FUZZ_DIR/Corpus/$target")
        if [[ -d $FUZZ_DIR/FailCases/$target ]]; then dirs+=("$FUZZ_DIR/FailCases/$target"); fi
        echo "== $target: replaying $(find "${dirs[@]}" -type f | wc -l) inputs"
        rc=0
        out=$("$FUZZ_BIN/$target" -runs=0 -rss_limit_mb=4096 -timeout=30 "${dirs[@]}" 2>&1) || rc=$?
        grep -E '^#[0-9]+[[:space:]]+DONE' <<<"$out" || true
        if [[ $rc -ne 0 ]]; then
            tail -n 40 <<<"$out" >&2
            echo "fuzz.sh: $target failed on a corpus input (rc $rc)" >&2
            exit 1
        fi
    done
    echo "fuzz-regress: all inputs pass"
}

case ${1:-} in
    build) build ;;
    run) run_all ;;
    regress) regress ;;
    *) echo "usage: $0 build|run|regress" >&2; exit 2 ;;
esac
