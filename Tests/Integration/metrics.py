"""The proxy's Prometheus ``/metrics`` endpoint, and its process as /proc shows it (no pytest
imports here)."""

from __future__ import annotations

import os
import re
import urllib.request
from pathlib import Path


RELOADS_RE = re.compile(
    r'^mariadb_tls_proxy_reloads_total\{[^}]*result="(success|failure)"[^}]*\}\s+([0-9.eE+]+)\s*$', re.M)


def fetch_metrics(address: str, *, timeout: float = 10.0) -> str:
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=timeout) as resp:
        assert resp.status == 200, resp.status
        return resp.read().decode("utf-8", "replace")


def reload_counters(address: str) -> dict[str, int]:
    """{"success": N, "failure": M}; a series not exported yet counts as 0."""
    text = fetch_metrics(address)
    out = {"success": 0, "failure": 0}
    for result, value in RELOADS_RE.findall(text):
        out[result] = int(float(value))
    return out


# ---------------------------------------------------------------------------
# /proc/PID
# ---------------------------------------------------------------------------
def proc_rss_kib(pid: int) -> int:
    """Resident memory (VmRSS) from /proc/PID/statm, in KiB."""
    resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") // 1024


def proc_fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def proc_nofile_limit(pid: int) -> int:
    """The soft RLIMIT_NOFILE of a process (/proc/PID/limits)."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError("no 'Max open files' in /proc/PID/limits")
