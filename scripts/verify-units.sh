#!/usr/bin/env bash
# verify-units.sh — `make verify-units`: systemd-analyze verify of copies of the shipped units
# whose ExecStart= names an existing executable (PROXY_BIN if built, else /bin/true), failing on
# any message, not only on errors: systemd-analyze only warns about unknown keys. Then the offline
# security review, which fails above exposure 1.5 (--threshold counts tenths); the shipped unit
# scores 1.2.
#
# Environment: PROXY_BIN (.build/release/mariadb-tls-proxy).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROXY_BIN=${PROXY_BIN:-$ROOT/.build/release/mariadb-tls-proxy}
UNITS=(mariadb-tls-proxy.service mariadb-tls-proxy.socket)

command -v systemd-analyze >/dev/null || { echo "verify-units.sh: systemd-analyze not found (apt-get install systemd)" >&2; exit 1; }
bin=$PROXY_BIN
if [[ ! -x $bin ]]; then
    echo "($PROXY_BIN not built; verifying with /bin/true as ExecStart)"
    bin=/bin/true
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
copies=()
for unit in "${UNITS[@]}"; do
    sed -e "s|/usr/local/bin/mariadb-tls-proxy|$bin|g" "$ROOT/systemd/$unit" > "$tmp/$unit"
    copies+=("$tmp/$unit")
done
echo "systemd-analyze verify ${UNITS[*]}"
out=$(systemd-analyze verify "${copies[@]}" 2>&1) || { echo "$out" >&2; exit 1; }
if [[ -n $out ]]; then
    echo "$out" >&2
    exit 1
fi
echo "systemd-analyze security --offline=yes mariadb-tls-proxy.service"
systemd-analyze security --offline=yes --threshold=15 "$tmp/mariadb-tls-proxy.service" | tail -n 1
echo "units OK"
