#!/usr/bin/env bash
# stop-backend.sh DIR — stop the private mariadbd started by start-backend.sh DIR.
# SIGTERM, then wait (up to BACKEND_STOP_TIMEOUT s, default 60) for it to exit;
# SIGKILL only if it does not. Succeeds quietly if nothing is running.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
DIR=$1
PIDFILE=$DIR/mysqld.pid
TIMEOUT=${BACKEND_STOP_TIMEOUT:-60}

pid=
if [[ -s $DIR/backend.env ]]; then
    pid=$(sed -n 's/^BACKEND_PID=//p' "$DIR/backend.env")
fi
if [[ -z $pid && -s $PIDFILE ]]; then
    pid=$(cat "$PIDFILE")
fi
if [[ -z $pid ]] || ! kill -0 "$pid" 2>/dev/null; then
    exit 0
fi
# Only signal a mariadbd: a stale pid file must not make us kill something else.
if [[ -r /proc/$pid/comm ]] && [[ $(cat "/proc/$pid/comm") != mariadbd && $(cat "/proc/$pid/comm") != mysqld ]]; then
    echo "stop-backend: pid $pid is not mariadbd; not signalling it" >&2
    exit 1
fi

kill -TERM "$pid"
# tail --pid returns as soon as the process is gone.
if ! timeout "$TIMEOUT" tail --pid="$pid" -f /dev/null; then
    echo "stop-backend: mariadbd (pid $pid) still running after ${TIMEOUT}s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
fi
rm -f "$DIR/backend.env"
