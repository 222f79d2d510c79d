"""harness.py — process bookkeeping and small helpers shared by the benchmark modules.

Everything the benchmark starts is registered with PROCS and stopped in reverse order on exit, also
on failure or Ctrl-C. CPU accounting (process_cpu, machine_cpu) reads /proc, in seconds.
"""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
CLOCK_TICKS = float(os.sysconf("SC_CLK_TCK"))


def env_int(name, default, minimum=0):
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    if not re.fullmatch(r"[0-9]+", raw) or int(raw) < minimum:
        die(f"{name} must be a whole number >= {minimum}, got {raw!r}")
    return int(raw)


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def die(msg):
    raise BenchError(msg)


# --------------------------------------------------------------------------------------------
# Process bookkeeping: everything started is stopped in reverse order on exit.


class Processes:
    def __init__(self):
        self.stops = []  # (description, callable)
        self.popen = set()

    def add_stop(self, description, fn):
        self.stops.append((description, fn))

    def track(self, proc):
        self.popen.add(proc)
        return proc

    def untrack(self, proc):
        self.popen.discard(proc)

    def stop_all(self):
        for proc in list(self.popen):
            kill_proc(proc)
        self.popen.clear()
        while self.stops:
            description, fn = self.stops.pop()
            try:
                fn()
            except Exception as error:  # keep stopping the rest
                log(f"stopping {description}: {error}")


PROCS = Processes()


def kill_proc(proc, grace=10.0):
    if proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def run(cmd, timeout, cwd=None, env=None, check=True):
    """Runs cmd, returns (rc, stdout, stderr); the child is killed on timeout or interrupt."""
    proc = PROCS.track(subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_proc(proc, grace=2)
        die(f"timed out after {timeout}s: {' '.join(map(str, cmd))}")
    finally:
        if proc.poll() is None:
            kill_proc(proc, grace=2)
        PROCS.untrack(proc)
    if check and proc.returncode != 0:
        die(f"exit {proc.returncode}: {' '.join(map(str, cmd))}\n{err.strip()[-2000:]}\n{out.strip()[-1000:]}")
    return proc.returncode, out, err


def wait_for_line(path, proc_alive, pattern, timeout):
    """Follows a log file until a line contains pattern; fails if the process dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pattern in Path(path).read_text(errors="replace"):
                return
        except FileNotFoundError:
            pass
        if not proc_alive():
            die(f"process died before logging {pattern!r}; see {path}")
        time.sleep(0.05)
    die(f"no {pattern!r} in {path} within {timeout}s")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def vm_rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    die(f"no VmRSS for pid {pid}")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def stable_rss(pid, max_wait=10.0):
    """VmRSS once it stops moving (two samples 0.5 s apart within 0.5 %), at most max_wait s."""
    last = vm_rss_kib(pid)
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = vm_rss_kib(pid)
        if abs(now - last) <= max(64, last * 0.005):
            return now
        last = now
    return last



def process_cpu(pid):
    """(user, system) CPU seconds of a process, all its threads, from /proc/PID/stat (utime, stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def machine_cpu():
    """(total, idle) CPU seconds of the whole machine since boot, from /proc/stat (idle includes iowait)."""
    values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) / CLOCK_TICKS, (values[3] + values[4]) / CLOCK_TICKS
