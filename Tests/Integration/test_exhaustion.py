"""Running out of descriptors: the proxy backs off instead of spinning, says so once, and recovers;
the metrics endpoint cannot be held open by half-sent requests."""

from __future__ import annotations

import os
import re
import resource
import socket
import time
import urllib.request
from pathlib import Path

import pytest

import helpers
import metrics
from helpers import mariadb

EMFILE_WARNING = "cannot accept connections: out of file descriptors or memory"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the whole process (all threads) from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def open_fds(pid: int) -> list[int]:
    return sorted(int(name) for name in os.listdir(f"/proc/{pid}/fd"))


def login_ok(p, certs) -> None:
    r = mariadb(port=p.port, ca=certs.ca, batch=True, execute="SELECT 40 + 2", timeout=20)
    assert (r.returncode, r.stdout.strip()) == (0, "42"), f"rc={r.returncode}\n{r.stderr}\n{p.log_text()[-3000:]}"


def test_out_of_descriptors_backs_off_logs_once_and_recovers(start_proxy, certs):
    p = start_proxy({"connect_timeout": 60, "max_connections": 1000})
    login_ok(p, certs)
    start = len(p.log_lines())

    # Leave room for a handful of connections (two descriptors each: client and backend), with an
    # even number of free descriptors so the last accept finds none left.
    fds = open_fds(p.pid)
    limit = fds[-1] + 1 + 10
    free = limit - len(fds)
    if free % 2:
        limit += 1
    resource.prlimit(p.pid, resource.RLIMIT_NOFILE, (limit, limit))

    clients: list[socket.socket] = []
    try:
        # Far more clients than descriptors: the kernel completes their connections, the proxy
        # cannot accept them all.
        for _ in range(60):
            clients.append(socket.create_connection(("127.0.0.1", p.port), timeout=5))
        p.wait_for_log(EMFILE_WARNING, start=start, timeout=15)

        # Backing off, not retrying accept in a tight loop.
        before = cpu_seconds(p.pid)
        time.sleep(2.0)
        used = cpu_seconds(p.pid) - before
        print(f"proxy CPU while out of descriptors: {used / 2.0:.1%} of one core")
        assert used < 0.4, f"proxy used {used:.2f}s of CPU in 2s while out of descriptors (spinning on accept)"
        warnings = [l for l in p.log_lines()[start:] if EMFILE_WARNING in l]
        assert len(warnings) == 1, warnings
        assert "EMFILE" in warnings[0] or "Too many open files" in warnings[0], warnings[0]
    finally:
        for c in clients:
            c.close()

    # Descriptors come back as the proxy sees the clients go; then it accepts again.
    deadline = time.monotonic() + 20
    while True:
        r = mariadb(port=p.port, ca=certs.ca, batch=True, execute="SELECT 40 + 2", timeout=20)
        if r.returncode == 0:
            break
        assert time.monotonic() < deadline, f"no login after the clients left: {r.stderr}\n{p.log_text()[-3000:]}"
        time.sleep(0.2)
    assert r.stdout.strip() == "42"
    # The episode ends once accepting has worked for a while (5 s without a failure); one notice.
    deadline = time.monotonic() + 15
    while not any("accepting connections again" in l for l in p.log_lines()[start:]):
        assert time.monotonic() < deadline, f"no 'accepting connections again':\n{p.log_text()[-3000:]}"
        login_ok(p, certs)
        time.sleep(0.5)
    notices = [l for l in p.log_lines()[start:] if "accepting connections again" in l]
    assert len(notices) == 1 and re.search(r"failed_accepts=\d+", notices[0]), notices
    warnings = [l for l in p.log_lines()[start:] if EMFILE_WARNING in l]
    assert len(warnings) == 1, warnings


def test_half_sent_metrics_requests_time_out_and_do_not_block_scrapes(start_proxy):
    address = f"127.0.0.1:{helpers.free_port()}"
    p = start_proxy({"metrics_address": address})
    p.wait_for_log("serving metrics", timeout=10)
    host, port = address.rsplit(":", 1)

    half_sent: list[tuple[socket.socket, float]] = []
    try:
        for _ in range(100):
            s = socket.create_connection((host, int(port)), timeout=5)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # no blank line: never complete
            half_sent.append((s, time.monotonic()))
        t_sent = time.monotonic()

        # A scrape still works while they are open.
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            r.read()
        scraped = time.monotonic() - t_sent
        assert scraped < 2, f"scrape took {scraped:.2f}s"

        # Every half-sent request is closed: the newest at the request timeout (5 s), none left open.
        lifetimes = []
        for s, opened in half_sent:
            s.settimeout(max(0.1, opened + 10 - time.monotonic()))
            try:
                data = s.recv(4096)
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            except (TimeoutError, socket.timeout):
                raise AssertionError(f"a half-sent request was still open {time.monotonic() - opened:.1f}s after it was sent")
            assert data == b"", f"answered a half-sent request: {data[:100]!r}"
            lifetimes.append(time.monotonic() - opened)
        assert max(lifetimes) >= 4.5, f"half-sent requests closed before the timeout: {sorted(lifetimes)[-5:]}"
        print(f"100 half-sent requests closed after {min(lifetimes):.2f}..{max(lifetimes):.2f}s")
    finally:
        for s, _ in half_sent:
            s.close()

    with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as r:
        assert r.status == 200


def test_pipelined_metrics_requests_that_are_never_read_cannot_grow_the_proxy(start_proxy):
    """One connection writes GET /metrics back to back and never reads: the proxy answers the first
    request only and closes, so it queues no answers (it grew by hundreds of MB when it answered all)."""
    address = f"127.0.0.1:{helpers.free_port()}"
    p = start_proxy({"metrics_address": address})
    p.wait_for_log("serving metrics", timeout=10)
    host, port = address.rsplit(":", 1)
    before = metrics.proc_rss_kib(p.pid)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, int(port)))
    s.settimeout(0.5)
    chunk = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 2000
    sent, closed = 0, False
    deadline = time.monotonic() + 5
    try:
        while time.monotonic() < deadline and sent < 8 << 20:
            try:
                sent += s.send(chunk)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                closed = True
                break
    finally:
        s.close()
    grown = metrics.proc_rss_kib(p.pid) - before
    assert grown < 20 * 1024, f"the proxy grew by {grown} KiB after {sent} bytes of pipelined requests"
    assert closed, f"the connection stayed open through {sent} bytes of requests"
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as r:
        assert r.status == 200


def test_a_metrics_request_that_never_ends_is_cut_at_16_kib(start_proxy):
    """A header that never ends would be parsed at full speed until the 5 s limit: the connection is
    closed once it has sent more than a request can need."""
    address = f"127.0.0.1:{helpers.free_port()}"
    p = start_proxy({"metrics_address": address})
    p.wait_for_log("serving metrics", timeout=10)
    host, port = address.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=5)
    started = time.monotonic()
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nX-Long: ")
        with pytest.raises(OSError):
            for _ in range(1000):
                s.sendall(b"a" * 1024)
                time.sleep(0.001)  # paced writes, so the close is seen before the 5 s limit
        assert time.monotonic() - started < 4, "the endless request was not cut before the time limit"
    finally:
        s.close()
