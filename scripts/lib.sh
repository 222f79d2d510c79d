# shellcheck shell=bash
# Shared helpers for scripts/*.sh (source it; it defines functions only).

# wait_for_line FILE PID PATTERN TIMEOUT
#   Follow FILE from its start until a line contains PATTERN (a glob-free substring).
#   Returns 0 on the line, 1 if PID exits first, 2 on timeout. No fixed sleeps:
#   `tail -F --pid` delivers lines as they are written and ends when PID dies.
wait_for_line() {
    local file=$1 pid=$2 pattern=$3 timeout=$4 line tailpid rc=2 deadline
    exec {fd}< <(exec tail -n +1 -F --pid="$pid" "$file" 2>/dev/null)
    tailpid=$!
    deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        if IFS= read -r -t $((deadline - SECONDS)) line <&"$fd"; then
            if [[ $line == *"$pattern"* ]]; then
                rc=0
                break
            fi
        elif kill -0 "$pid" 2>/dev/null; then
            rc=2 # read timed out
            break
        else
            rc=1 # tail ended because PID is gone
            break
        fi
    done
    exec {fd}<&-
    kill "$tailpid" 2>/dev/null || true
    return "$rc"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
