#!/usr/bin/env bash
# install.sh — `make install` / `make uninstall` (docs/operations.md).
#
#   scripts/install.sh install     stripped binary, systemd units, sysusers entry, example config,
#                                  docs, man page, certificate deploy hook
#   scripts/install.sh uninstall   remove what install put in place, except config and the system user
#
# The units in systemd/ name /usr/local/bin, /etc/mariadb-tls-proxy and the default DOCDIR;
# install rewrites those paths for the chosen PREFIX/SYSCONFDIR/DOCDIR. Existing configuration
# is never overwritten. With an empty DESTDIR, as root, on a systemd host, install also creates
# the system user (systemd-sysusers) and runs systemctl daemon-reload; it starts nothing.
#
# Environment (the Makefile passes them all): DESTDIR, BINDIR, SYSCONFDIR, UNITDIR, SYSUSERSDIR,
# DOCDIR, MANDIR, HOOKDIR, STRIP, PROXY_BIN (install), MAN_PAGE (install; made by `make man`).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
BINDIR=${BINDIR:-$PREFIX/bin}
SYSCONFDIR=${SYSCONFDIR:-/etc}
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}
SYSUSERSDIR=${SYSUSERSDIR:-$PREFIX/lib/sysusers.d}
DOCDIR=${DOCDIR:-$PREFIX/share/doc/mariadb-tls-proxy}
MANDIR=${MANDIR:-$PREFIX/share/man}
HOOKDIR=${HOOKDIR:-$PREFIX/lib/mariadb-tls-proxy}
STRIP=${STRIP:-strip}
PROXY_BIN=${PROXY_BIN:-$ROOT/.build/release/mariadb-tls-proxy}
MAN_PAGE=${MAN_PAGE:-$ROOT/.build/man/mariadb-tls-proxy.8}
CONFDIR=$SYSCONFDIR/mariadb-tls-proxy

UNITS=(mariadb-tls-proxy.service mariadb-tls-proxy.socket)
CONFIG_EXAMPLES=(mariadb-tls-proxy.cnf accounts.sql)
DOCS=(README.md docs/operations.md docs/configuration.md docs/access-policy.md docs/architecture.md docs/security.md)
# The certbot deploy hook (docs/operations.md).
DEPLOY_HOOK=config/certificate-deploy-hook

# The paths as written in systemd/* and config/*, and what they become.
substitute_paths() {
    sed -e "s|/usr/local/bin/mariadb-tls-proxy|$BINDIR/mariadb-tls-proxy|g" \
        -e "s|/usr/local/lib/mariadb-tls-proxy|$HOOKDIR|g" \
        -e "s|/usr/local/share/doc/mariadb-tls-proxy|$DOCDIR|g" \
        -e "s|/etc/mariadb-tls-proxy|$CONFDIR|g" \
        "$1"
}

# Echoes a command, then runs it (as make did for its recipe lines).
run() {
    echo "$*"
    "$@"
}

# install_rewritten SOURCE MODE TARGET: SOURCE with its paths rewritten, installed as TARGET.
install_rewritten() {
    local source=$1 mode=$2 target=$3
    substitute_paths "$source" > "$tmp/rewritten"
    echo "install -m $mode $source $target"
    install -m "$mode" "$tmp/rewritten" "$target"
}

do_install() {
    [[ -x $PROXY_BIN ]] || { echo "install.sh: $PROXY_BIN is not built (run make build)" >&2; exit 1; }
    [[ -f $MAN_PAGE ]] || { echo "install.sh: $MAN_PAGE is missing (run make man)" >&2; exit 1; }
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT

    run install -d -m 0755 "$DESTDIR$BINDIR" "$DESTDIR$UNITDIR" "$DESTDIR$SYSUSERSDIR" "$DESTDIR$DOCDIR" \
        "$DESTDIR$CONFDIR" "$DESTDIR$MANDIR/man8"
    # The installed binary is stripped (a third of the size); the unstripped one stays in .build for
    # symbolicating backtraces.
    run install -m 0755 -s --strip-program="$STRIP" "$PROXY_BIN" "$DESTDIR$BINDIR/mariadb-tls-proxy"
    echo "gzip -9n < $MAN_PAGE > $DESTDIR$MANDIR/man8/mariadb-tls-proxy.8.gz"
    gzip -9n < "$MAN_PAGE" > "$DESTDIR$MANDIR/man8/mariadb-tls-proxy.8.gz"
    chmod 0644 "$DESTDIR$MANDIR/man8/mariadb-tls-proxy.8.gz"

    local unit file target mode
    for unit in "${UNITS[@]}"; do
        install_rewritten "systemd/$unit" 0644 "$DESTDIR$UNITDIR/$unit"
    done
    for file in "${CONFIG_EXAMPLES[@]}"; do
        target=$DESTDIR$CONFDIR/$file
        if [[ -e $target ]]; then
            echo "keeping existing $target"
            continue
        fi
        mode=0644
        if [[ $file == accounts.sql ]]; then mode=0640; fi
        install_rewritten "config/$file" "$mode" "$target"
    done
    install -d -m 0755 "$DESTDIR$HOOKDIR"
    install_rewritten "$DEPLOY_HOOK" 0755 "$DESTDIR$HOOKDIR/certificate-deploy-hook"
    run install -m 0644 systemd/sysusers.conf "$DESTDIR$SYSUSERSDIR/mariadb-tls-proxy.conf"
    run install -m 0644 "${DOCS[@]}" "$DESTDIR$DOCDIR/"
    # Certificates and keys go to CONFDIR/tls: readable by the service's group, not by others.
    if [[ ! -d $DESTDIR$CONFDIR/tls ]]; then install -d -m 0750 "$DESTDIR$CONFDIR/tls"; fi

    if [[ -z $DESTDIR && $(id -u) == 0 ]]; then
        if command -v systemd-sysusers >/dev/null; then
            run systemd-sysusers "$SYSUSERSDIR/mariadb-tls-proxy.conf"
        fi
        if getent group mariadb-tls-proxy >/dev/null; then
            chgrp mariadb-tls-proxy "$CONFDIR/tls"
            if [[ -e $CONFDIR/accounts.sql && $(stat -c %g "$CONFDIR/accounts.sql") == 0 ]]; then
                chgrp mariadb-tls-proxy "$CONFDIR/accounts.sql"
            fi
        fi
        if [[ -d /run/systemd/system ]]; then run systemctl daemon-reload; fi
    fi
    echo "installed; next: edit $CONFDIR/mariadb-tls-proxy.cnf, put certificates in $CONFDIR/tls/, then"
    echo "  systemctl enable --now mariadb-tls-proxy.service   (or mariadb-tls-proxy.socket; see $DOCDIR/operations.md)"
}

do_uninstall() {
    local unit doc
    run rm -f "$DESTDIR$BINDIR/mariadb-tls-proxy"
    for unit in "${UNITS[@]}"; do run rm -f "$DESTDIR$UNITDIR/$unit"; done
    run rm -f "$DESTDIR$SYSUSERSDIR/mariadb-tls-proxy.conf"
    run rm -f "$DESTDIR$MANDIR/man8/mariadb-tls-proxy.8.gz" "$DESTDIR$HOOKDIR/certificate-deploy-hook"
    rmdir "$DESTDIR$HOOKDIR" 2>/dev/null || true
    for doc in "${DOCS[@]}"; do run rm -f "$DESTDIR$DOCDIR/$(basename "$doc")"; done
    rmdir "$DESTDIR$DOCDIR" 2>/dev/null || true
    if [[ -z $DESTDIR && -d /run/systemd/system ]]; then run systemctl daemon-reload; fi
    echo "kept $CONFDIR and the mariadb-tls-proxy user; remove them by hand if no longer needed"
}

case ${1:-} in
    install) do_install ;;
    uninstall) do_uninstall ;;
    *) echo "usage: $0 install|uninstall" >&2; exit 2 ;;
esac
