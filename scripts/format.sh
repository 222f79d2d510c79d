#!/usr/bin/env bash
# format.sh — swift-format over the repository's Swift files, with the configuration in .swift-format.
#
#   scripts/format.sh          rewrite the files in place (`make format`)
#   scripts/format.sh --check  change nothing; list the files the formatter would change and fail if
#                              there are any (`make format-check`)
#
# The files are those git tracks (`*.swift`, Package.swift included), so build directories and
# fetched checkouts are never touched. Environment: SWIFT (swift; `swift format` ships with the
# toolchain since Swift 6).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SWIFT=${SWIFT:-swift}
cd "$ROOT"

mapfile -d '' files < <(git ls-files -z -- '*.swift')
[[ ${#files[@]} -gt 0 ]] || { echo "format.sh: no Swift files tracked by git" >&2; exit 1; }

case ${1:-} in
    "")
        "$SWIFT" format format --configuration .swift-format --parallel --in-place -- "${files[@]}"
        echo "formatted ${#files[@]} files"
        ;;
    --check)
        # Format a copy and compare: the same result as `format` then `git diff`, without touching the tree.
        scratch=$(mktemp -d)
        trap 'rm -rf "$scratch"' EXIT
        printf '%s\0' "${files[@]}" | xargs -0 cp --parents -t "$scratch"
        cp .swift-format "$scratch/"
        (cd "$scratch" && "$SWIFT" format format --configuration .swift-format --parallel --in-place -- "${files[@]}")
        changed=()
        for file in "${files[@]}"; do
            cmp -s "$file" "$scratch/$file" || changed+=("$file")
        done
        if [[ ${#changed[@]} -gt 0 ]]; then
            printf '%s\n' "${changed[@]}"
            echo "format.sh: ${#changed[@]} of ${#files[@]} files are not formatted (run make format)" >&2
            exit 1
        fi
        echo "all ${#files[@]} files formatted"
        ;;
    *)
        echo "usage: $0 [--check]" >&2
        exit 2
        ;;
esac
