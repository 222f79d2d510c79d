#!/usr/bin/env bash
# syscall-audit.sh [PROXY_BIN] — trace the daemon through a typical life and compare what it uses
# with the unit's SystemCallFilter= and ProcSubset= (docs/operations.md, "Sandboxing").
#
# Runs the release binary as an unprivileged user (nobody, as the unit's User= would: no `user =`,
# so no setuid/setgroups) under `strace -f`, with a NOTIFY_SOCKET and WATCHDOG_USEC set, through:
# startup; `--check` (what ExecReload= runs); TCP clients with and without TLS and unix-socket
# clients with and without TLS (mariadb CLI), `openssl s_client -starttls mysql`; a metrics
# scrape; a good and a failed SIGHUP reload; SIGTERM while a session runs (drain); then socket
# activation (systemd-socket-activate, TCP and unix listeners, if installed). The backend is
# reached by name (backend_host = localhost: getaddrinfo) and client host names are resolved
# (skip_name_resolve = OFF with a host-name account row).
#
# Prints: every system call made, those outside @system-service, the denied calls of @privileged
# and @resources that were made, every /proc and /sys path touched, and writable+executable
# mappings. Exits non-zero if a step fails under the emulated filter, a call outside
# @system-service is made, a /proc path ProcSubset=pid hides is opened, or memory is mapped W+X.
# Needs root (to run as nobody), strace, systemd-analyze, mariadb, mariadbd, openssl, python3.
# AUDIT_KEEP=1 keeps the work directory (traces in DIR/trace.*).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"

bin=${1:-$here/../.build/release/mariadb-tls-proxy}
[[ -x $bin ]] || { echo "syscall-audit: $bin not built (swift build -c release)" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "syscall-audit: run as root (the daemon is run as nobody)" >&2; exit 2; }
for tool in strace systemd-analyze mariadb openssl python3; do
    command -v "$tool" >/dev/null || { echo "syscall-audit: $tool not found" >&2; exit 2; }
done

dir=$(mktemp -d /tmp/syscall-audit.XXXXXX)
chmod 0755 "$dir"
backend_dir=$dir/backend
cleanup() {
    [[ -z ${daemon_pid:-} && -n ${proxy_pid:-} ]] && daemon_pid=$(pgrep -P "$proxy_pid")
    [[ -n ${daemon_pid:-} ]] && kill "$daemon_pid" 2>/dev/null || true
    [[ -n ${notify_pid:-} ]] && kill "$notify_pid" 2>/dev/null || true
    [[ -d $backend_dir ]] && bash "$here/stop-backend.sh" "$backend_dir" >/dev/null 2>&1 || true
    if [[ -z ${AUDIT_KEEP:-} ]]; then rm -rf "$dir"; else echo "kept $dir"; fi
}
trap cleanup EXIT

bash "$here/make-certs.sh" "$dir/certs" >/dev/null
chmod -R a+rX "$dir/certs"
chown nobody "$dir/certs/server-key.pem"
chmod 0600 "$dir/certs/server-key.pem"
install -d -o nobody -m 0755 "$dir/run" # the unit's RuntimeDirectory=
backend_port=$(free_port)
bash "$here/start-backend.sh" "$backend_dir" "$backend_port" >/dev/null

cp "$bin" "$dir/mariadb-tls-proxy"
port=$(free_port)
metrics_port=$(free_port)
cat >"$dir/accounts.sql" <<'EOF'
CREATE USER 'app'@'%' REQUIRE NONE;
CREATE USER 'app'@'localhost' REQUIRE NONE;
CREATE USER 'named'@'db.invalid' REQUIRE SSL;
EOF
write_config() { # cert file
    cat >"$dir/proxy.cnf" <<EOF
[mariadb-tls-proxy]
bind_address = 127.0.0.1
port = $port
socket = $dir/run/proxy.sock
backend_host = localhost
backend_port = $backend_port
ssl_cert = $1
ssl_key = $dir/certs/server-key.pem
ssl_ca = $dir/certs/ca.pem
require_secure_transport = OFF
accounts = $dir/accounts.sql
skip_name_resolve = OFF
metrics_address = 127.0.0.1:$metrics_port
shutdown_timeout = 10
EOF
}
write_config "$dir/certs/server-cert.pem"
chmod a+r "$dir/proxy.cnf" "$dir/accounts.sql"

# sd_notify receiver, so READY/STATUS/WATCHDOG datagrams are really sent.
python3 - "$dir/notify.sock" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
import os; os.chmod(sys.argv[1], 0o777)
while True:
    s.recv(4096)
EOF
notify_pid=$!

# The unit's filter, emulated: every call outside @system-service, @privileged and @resources
# fails with EPERM (strace fault injection; SystemCallErrorNumber=EPERM). strace -u runs the
# daemon as nobody without tracing a setuid step of its own.
expand() { # a systemd syscall set with its nested @sets
    local name; systemd-analyze syscall-filter "$1" | sed -nE 's/^    (@?[a-z_0-9-]+)$/\1/p' | while read -r name; do
        if [[ $name == @* ]]; then expand "$name"; else echo "$name"; fi
    done | sort -u
}
expand @system-service >"$dir/system-service"
{ expand @privileged; expand @resources; } | sort -u >"$dir/denied"
comm -23 "$dir/system-service" "$dir/denied" >"$dir/allowed"
allowed_re="/^($(paste -sd'|' "$dir/allowed"))\$"
trace=(strace -f -qq -u nobody -e trace=all -e "inject=!$allowed_re:error=EPERM")

# The ExecReload= step, traced on its own.
"${trace[@]}" -o "$dir/trace.check" "$dir/mariadb-tls-proxy" --defaults-file="$dir/proxy.cnf" --check >/dev/null

while [[ ! -S $dir/notify.sock ]]; do sleep 0.05; done # python binds within milliseconds
NOTIFY_SOCKET=$dir/notify.sock WATCHDOG_USEC=2000000 \
    "${trace[@]}" -o "$dir/trace.daemon" "$dir/mariadb-tls-proxy" --defaults-file="$dir/proxy.cnf" 2>"$dir/proxy.log" &
proxy_pid=$!
wait_for_line "$dir/proxy.log" "$proxy_pid" "ready for connections" 60 || { cat "$dir/proxy.log" >&2; exit 1; }
daemon_pid=$(pgrep -P "$proxy_pid") # strace's child

client=(mariadb --no-defaults --connect-timeout=20 --user=app --password=app-pass --batch --skip-column-names)
"${client[@]}" --host=127.0.0.1 --port="$port" --protocol=TCP --ssl --ssl-ca="$dir/certs/ca.pem" \
    --ssl-verify-server-cert -e 'SELECT 1' >/dev/null
"${client[@]}" --host=127.0.0.1 --port="$port" --protocol=TCP --skip-ssl -e 'SELECT 1' >/dev/null
"${client[@]}" --socket="$dir/run/proxy.sock" --skip-ssl -e 'SELECT 1' >/dev/null
"${client[@]}" --socket="$dir/run/proxy.sock" --ssl --ssl-ca="$dir/certs/ca.pem" -e 'SELECT 1' >/dev/null
openssl s_client -starttls mysql -connect "127.0.0.1:$port" </dev/null >/dev/null 2>&1
python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$metrics_port/metrics', timeout=10).read()"

kill -HUP "$daemon_pid"
wait_for_line "$dir/proxy.log" "$proxy_pid" "reload succeeded" 30 ||
    { cat "$dir/proxy.log" >&2; exit 1; }
echo "not a certificate" >"$dir/bad-cert.pem"
write_config "$dir/bad-cert.pem"
chmod a+r "$dir/proxy.cnf" "$dir/bad-cert.pem"
kill -HUP "$daemon_pid"
wait_for_line "$dir/proxy.log" "$proxy_pid" "Failed to" 30 ||
    { cat "$dir/proxy.log" >&2; exit 1; }
"${client[@]}" --host=127.0.0.1 --port="$port" --protocol=TCP --ssl --ssl-ca="$dir/certs/ca.pem" \
    -e 'SELECT 1' >/dev/null

# SIGTERM while a session runs: the daemon drains it.
"${client[@]}" --host=127.0.0.1 --port="$port" --protocol=TCP --ssl --ssl-ca="$dir/certs/ca.pem" \
    -e 'SELECT SLEEP(2)' >/dev/null &
session=$!
sleeping() {
    mariadb --no-defaults --socket="$backend_dir/mysqld.sock" --batch --skip-column-names \
        -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP%'"
}
until [[ $(sleeping) != 0 ]]; do sleep 0.1; done # polled: the backend has no event for this
kill -TERM "$daemon_pid"
wait "$session"
wait "$proxy_pid"
daemon_pid= proxy_pid=

# Socket activation: systemd-socket-activate (traced and filtered too) execs the daemon in place
# with the listeners on the first connection; one TLS login through each, then SIGTERM.
if command -v systemd-socket-activate >/dev/null; then
    write_config "$dir/certs/server-cert.pem"
    act_port=$(free_port)
    "${trace[@]}" -o "$dir/trace.activated" systemd-socket-activate -l "127.0.0.1:$act_port" -l "$dir/run/act.sock" \
        "$dir/mariadb-tls-proxy" --defaults-file="$dir/proxy.cnf" 2>"$dir/activated.log" &
    proxy_pid=$!
    wait_for_line "$dir/activated.log" "$proxy_pid" "Listening on $dir/run/act.sock" 30 || { cat "$dir/activated.log" >&2; exit 1; }
    "${client[@]}" --host=127.0.0.1 --port="$act_port" --protocol=TCP --ssl --ssl-ca="$dir/certs/ca.pem" -e 'SELECT 1' >/dev/null
    "${client[@]}" --socket="$dir/run/act.sock" --ssl --ssl-ca="$dir/certs/ca.pem" -e 'SELECT 1' >/dev/null
    wait_for_line "$dir/activated.log" "$proxy_pid" "ready for connections" 30 || { cat "$dir/activated.log" >&2; exit 1; }
    daemon_pid=$(pgrep -P "$proxy_pid")
    kill -TERM "$daemon_pid"
    wait "$proxy_pid"
    daemon_pid= proxy_pid=
fi

# --- Compare ---------------------------------------------------------------------------------
# Only what follows the execve of the daemon (systemd-socket-activate's own calls come before it).
after_exec() { local f; for f; do awk '!found && /execve\(".*\/mariadb-tls-proxy"/ {found=1} found' "$f"; done; }
calls() {
    after_exec "$@" |
        sed -nE 's/^[0-9]+ +(<\.\.\. )?([a-z_0-9]+)[( ].*/\2/p' | grep -v '^exited$\|^killed$' | sort -u
}
traces=("$dir"/trace.*)
calls "${traces[@]}" >"$dir/used"
echo "== every step passed with the filter emulated (denied calls fail with EPERM)"
echo "== system calls made ($(wc -l <"$dir/used")):"
tr '\n' ' ' <"$dir/used" | fold -s -w 100; echo
echo "== not in @system-service:"; comm -23 "$dir/used" "$dir/system-service" | tr '\n' ' '; echo
echo "== denied by SystemCallFilter=~@privileged @resources, and where:"
after_exec "${traces[@]}" | grep 'INJECTED' | sed -E 's/^[0-9]+ +//' | sort | uniq -c
echo "== /proc and /sys paths (ProcSubset=pid keeps /proc/self and /proc/PID only):"
after_exec "${traces[@]}" | grep -oE '"/(proc|sys)/[^"]*"' | sort | uniq -c | sort -rn
outside=$(after_exec "${traces[@]}" | grep -oE '"/proc/[^"]*"' | grep -vE '^"/proc/(self|thread-self|[0-9]+)(/|")' || true)
echo "== /proc paths ProcSubset=pid hides: ${outside:-none}"
wx=$(after_exec "${traces[@]}" | grep -E '(mmap|mprotect)\(.*PROT_WRITE\|PROT_EXEC' || true)
echo "== writable+executable mappings (MemoryDenyWriteExecute=): ${wx:-none}"
[[ -z $(comm -23 "$dir/used" "$dir/system-service") && -z $outside && -z $wx ]]
