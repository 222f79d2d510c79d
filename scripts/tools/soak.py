#!/usr/bin/env python3
"""The soak load of scripts/soak.sh: worker threads loop over a weighted mix of client behaviours
(soak_behaviours.py) against one running proxy, while the proxy's open fds, VmRSS, threads and
open connections are sampled. Exits 1 if any behaviour did not get the answer it should, if the
fds did not return to the count before the load, or if VmRSS grew beyond the allowed share after
the warm-up; prints the RSS trend after warm-up per 1000 behaviours.

    soak.py --pid PID --port PORT --socket PATH --ca CA.pem [--metrics HOST:PORT] [--seconds N] ...
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import resource
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path

from soak_behaviours import SOAK_MIX, SoakClients


def raise_nofile(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def proc_fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def proc_status(pid: int) -> dict[str, str]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def proc_rss_kib(pid: int) -> int:
    return int(proc_status(pid)["VmRSS"].split()[0])


def metrics_value(address: str | None, name: str) -> str:
    if not address:
        return "-"
    try:
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=2) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + " ") or line.startswith(name + "{"):
                    return line.rsplit(" ", 1)[1]
    except OSError:
        return "?"
    return "-"


def run(args) -> int:
    pid = args.pid
    clients = SoakClients(args.port, args.socket, args.ca)
    raise_nofile(4096)

    clients.tls_query()
    baseline_fds = proc_fd_count(pid)
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    names, weights = list(SOAK_MIX), list(SOAK_MIX.values())

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        while not stop.is_set():
            name = rnd.choices(names, weights)[0]
            try:
                getattr(clients, name)()
                ok = True
            except Exception as e:  # noqa: BLE001 - every failure is counted and shown
                ok = False
                with lock:
                    if len(failures) < 50:
                        failures.append(f"{name}: {e.__class__.__name__}: {e}")
            with lock:
                counts[name]["ok" if ok else "failed"] += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(args.workers)]
    t0 = time.monotonic()
    for t in threads:
        t.start()

    samples: list[tuple[float, int, int, str, int]] = []  # (t, fds, rss KiB, open conns, ops)
    print(f"{'time':>6} {'fds':>5} {'rss_KiB':>9} {'threads':>7} {'open':>5} {'ops':>7} {'failed':>6}", flush=True)

    def sample(label: str | None = None) -> None:
        now = time.monotonic() - t0
        fds, rss = proc_fd_count(pid), proc_rss_kib(pid)
        threads_n = proc_status(pid).get("Threads", "?")
        conns = metrics_value(args.metrics, "mariadb_tls_proxy_open_connections")
        with lock:
            ops = sum(sum(c.values()) for c in counts.values())
            failed = sum(c["failed"] for c in counts.values())
        samples.append((now, fds, rss, conns, ops))
        print(f"{label or f'{now:.0f}s':>6} {fds:>5} {rss:>9} {threads_n:>7} {conns:>5} {ops:>7} {failed:>6}", flush=True)

    sample("start")
    deadline = t0 + args.seconds
    while time.monotonic() < deadline:
        time.sleep(min(args.sample, max(0.0, deadline - time.monotonic())))
        sample()
    load_samples = [s for s in samples if args.warmup <= s[0] <= args.seconds + 1]
    stop.set()
    for t in threads:
        t.join(timeout=60)

    # Let the last connections go (silent ones end at connect_timeout).
    settle_deadline = time.monotonic() + args.settle
    while proc_fd_count(pid) > baseline_fds + args.fd_slack and time.monotonic() < settle_deadline:
        time.sleep(0.2)
    sample("end")
    final_fds = samples[-1][1]

    print()
    print(f"{'behaviour':<24} {'ok':>7} {'failed':>7}")
    for name in names:
        print(f"{name:<24} {counts[name]['ok']:>7} {counts[name]['failed']:>7}")
    total_ok = sum(c["ok"] for c in counts.values())
    total_failed = sum(c["failed"] for c in counts.values())
    print(f"{'total':<24} {total_ok:>7} {total_failed:>7}")
    print()

    verdict = []
    if final_fds > baseline_fds + args.fd_slack:
        verdict.append(f"fds grew from {baseline_fds} to {final_fds} (allowed: +{args.fd_slack})")
    if len(load_samples) >= 4:
        warm = load_samples[0][2]
        end = statistics.median(s[2] for s in load_samples[-3:])
        growth = (end - warm) * 100.0 / warm
        print(f"RSS after warm-up ({load_samples[0][0]:.0f}s): {warm} KiB; at the end (median of last 3): "
              f"{end:.0f} KiB; growth {growth:+.1f}% (allowed: {args.rss_growth_pct}%)")
        if growth > args.rss_growth_pct:
            verdict.append(f"RSS grew {growth:.1f}% after warm-up (allowed {args.rss_growth_pct}%)")
        # Least-squares slope of RSS over operations after warm-up: a leak shows as a steady slope.
        xs, ys = [s[4] for s in load_samples], [s[2] for s in load_samples]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        var = sum((x - mx) ** 2 for x in xs)
        if var > 0:
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var
            print(f"RSS trend after warm-up: {slope * 1000:+.0f} KiB per 1000 client behaviours")
    else:
        print("RSS: run too short for a post-warm-up comparison (need 4 samples after warm-up)")
    print(f"fds: {baseline_fds} before, {final_fds} after the load (allowed: +{args.fd_slack})")
    if total_failed:
        verdict.append(f"{total_failed} client behaviours did not get the expected answer")
        for f in failures[:20]:
            print(f"  failed: {f}")
    if total_ok == 0:
        verdict.append("no client behaviour succeeded")
    if verdict:
        print("SOAK FAILED: " + "; ".join(verdict))
        return 1
    print(f"SOAK OK: {total_ok} client behaviours in {args.seconds}s, no fd or memory growth")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="soak.py", description="mixed load against a running proxy (scripts/soak.sh)")
    parser.add_argument("--pid", type=int, required=True, help="the proxy's process id")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--metrics", help="the proxy's metrics_address (HOST:PORT)")
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--sample", type=float, default=5, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=20, help="seconds before the RSS reference sample")
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--fd-slack", type=int, default=8)
    parser.add_argument("--rss-growth-pct", type=float, default=20)
    parser.add_argument("--settle", type=float, default=20, help="seconds to wait for connections to drain")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
