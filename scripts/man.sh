#!/usr/bin/env bash
# man.sh — `make man`: mariadb-tls-proxy(8) from the binary's --help-man, so it cannot drift from
# --help. Fails on any groff warning when groff is installed.
#
# Environment: PROXY_BIN (.build/release/mariadb-tls-proxy), MAN_PAGE (.build/man/mariadb-tls-proxy.8).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROXY_BIN=${PROXY_BIN:-$ROOT/.build/release/mariadb-tls-proxy}
MAN_PAGE=${MAN_PAGE:-$ROOT/.build/man/mariadb-tls-proxy.8}

[[ -x $PROXY_BIN ]] || { echo "man.sh: $PROXY_BIN is not built (run make build)" >&2; exit 1; }
mkdir -p "$(dirname "$MAN_PAGE")"
echo "\"$PROXY_BIN\" --help-man > \"$MAN_PAGE.tmp\""
"$PROXY_BIN" --help-man > "$MAN_PAGE.tmp"
if command -v groff >/dev/null; then
    warnings=$(groff -man -Tutf8 -ww -z "$MAN_PAGE.tmp" 2>&1)
    if [[ -n $warnings ]]; then
        echo "$warnings" >&2
        echo "man.sh: groff warns about the man page" >&2
        exit 1
    fi
fi
mv "$MAN_PAGE.tmp" "$MAN_PAGE"
echo "wrote $MAN_PAGE (view: man -l $MAN_PAGE)"
