#!/usr/bin/env bash
# start-backend.sh DIR [PORT] — a private, plaintext ("legacy", --skip-ssl) MariaDB server.
#
# Never touches a system service: everything lives under DIR.
#   DIR/data          datadir (created with mariadb-install-db on first use)
#   DIR/mysqld.sock   unix socket        DIR/mysqld.pid  pid file
#   DIR/error.log     error log          DIR/backend.env shell-sourceable facts:
#       BACKEND_DIR BACKEND_PORT BACKEND_SOCKET BACKEND_PID BACKEND_ADMIN_USER
# PORT defaults to a free TCP port on 127.0.0.1. Readiness is the error log's
# "ready for connections" line (waited for, not slept for), BACKEND_START_TIMEOUT
# seconds at most (default 120).
#
# Accounts created (through the socket, as the OS user via unix_socket auth):
#   'app'@'%' IDENTIFIED BY 'app-pass' (mysql_native_password)
#   'ed'@'%'  IDENTIFIED VIA ed25519 USING PASSWORD('ed-pass')
#   both: GRANT SELECT ON *.*; the anonymous ''@... accounts are removed.
# Stop it with scripts/stop-backend.sh DIR.
#
# BACKEND_EXTRA_OPTS: extra mariadbd options, appended after the defaults (so they win), split
# on whitespace (no quoting; paths must not contain spaces). For example a TLS-enabled
# "reference" server:  BACKEND_EXTRA_OPTS="--ssl --ssl-cert=C --ssl-key=K --ssl-ca=CA --skip-name-resolve"
# BACKEND_TMPDIR: a private tmpdir for mariadb-install-db and mariadbd (created if missing).
# Unset, both use the default (/tmp); a server starting up deletes every #sql* file in its tmpdir,
# so servers started at the same time should each have their own.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 DIR [PORT]" >&2
    exit 2
fi

die() { echo "start-backend: $*" >&2; exit 1; }
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for tool in mariadbd mariadb-install-db mariadb; do
    command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] ||
        die "$tool not found (run scripts/install-deps.sh)"
done
MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)

mkdir -p "$1"
DIR=$(cd "$1" && pwd)
DATADIR=$DIR/data
SOCKET=$DIR/mysqld.sock
PIDFILE=$DIR/mysqld.pid
ERRLOG=$DIR/error.log
TIMEOUT=${BACKEND_START_TIMEOUT:-120}
read -r -a EXTRA_OPTS <<<"${BACKEND_EXTRA_OPTS:-}"
TMPDIR_OPT=()
if [[ -n ${BACKEND_TMPDIR:-} ]]; then
    mkdir -p "$BACKEND_TMPDIR"
    TMPDIR_OPT=(--tmpdir="$BACKEND_TMPDIR")
fi

if [[ ${#SOCKET} -ge 100 ]]; then
    die "socket path too long for AF_UNIX (${#SOCKET} chars): $SOCKET"
fi

if [[ -s $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    die "a backend is already running from $DIR (pid $(cat "$PIDFILE")); stop it first"
fi

PORT=${2:-}
if [[ -z $PORT ]]; then
    PORT=$(free_port)
fi

USER_OPT=()
if [[ $(id -u) -eq 0 ]]; then
    USER_OPT=(--user=root)
fi
ADMIN_USER=$(id -un)

if [[ ! -d $DATADIR/mysql ]]; then
    rm -rf "$DATADIR"
    mariadb-install-db --no-defaults --datadir="$DATADIR" "${USER_OPT[@]}" "${TMPDIR_OPT[@]}" \
        --auth-root-authentication-method=socket --skip-test-db \
        >"$DIR/install-db.log" 2>&1 ||
        { cat "$DIR/install-db.log" >&2; die "mariadb-install-db failed"; }
fi

: >"$ERRLOG"
rm -f "$PIDFILE" "$SOCKET"

"$MARIADBD" --no-defaults --skip-ssl \
    --datadir="$DATADIR" --socket="$SOCKET" --port="$PORT" --bind-address=127.0.0.1 \
    --pid-file="$PIDFILE" --log-error="$ERRLOG" --max-allowed-packet=256M \
    --innodb-buffer-pool-size=64M --skip-log-bin "${USER_OPT[@]}" "${TMPDIR_OPT[@]}" "${EXTRA_OPTS[@]}" \
    </dev/null >>"$ERRLOG" 2>&1 &
PID=$!

# Follow the error log until the readiness line, the server's death, or the deadline.
ready=1
wait_for_line "$ERRLOG" "$PID" "ready for connections" "$TIMEOUT" || ready=0

if ((!ready)); then
    kill -TERM "$PID" 2>/dev/null || true
    echo "---- $ERRLOG ----" >&2
    tail -n 40 "$ERRLOG" >&2 || true
    die "mariadbd did not become ready within ${TIMEOUT}s"
fi

sql() { mariadb --no-defaults --socket="$SOCKET" -u "$ADMIN_USER" --batch --skip-column-names "$@"; }

sql -e "DELETE FROM mysql.global_priv WHERE User=''; FLUSH PRIVILEGES;" ||
    die "cannot administer the backend through $SOCKET as $ADMIN_USER"
if [[ $(sql -e "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME='ed25519'") == 0 ]]; then
    sql -e "INSTALL SONAME 'auth_ed25519'"
fi
sql <<'SQL'
CREATE OR REPLACE USER 'app'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('app-pass');
CREATE OR REPLACE USER 'ed'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('ed-pass');
GRANT SELECT ON *.* TO 'app'@'%';
GRANT SELECT ON *.* TO 'ed'@'%';
SQL

cat >"$DIR/backend.env" <<EOF
BACKEND_DIR=$DIR
BACKEND_PORT=$PORT
BACKEND_SOCKET=$SOCKET
BACKEND_PID=$PID
BACKEND_ADMIN_USER=$ADMIN_USER
EOF
cat "$DIR/backend.env"
