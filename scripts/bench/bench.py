#!/usr/bin/env python3
"""bench.py — `make bench`: the proxy against native TLS MariaDB, HAProxy and a direct plaintext server.

Starts, all under BENCH_DIR (scripts/bench/run.sh installs the packages first):
  * test certificates (scripts/make-certs.sh);
  * "plain": a private plaintext mariadbd (scripts/start-backend.sh), the backend of the proxies and of
    HAProxy, and the direct plaintext reference;
  * "native": a second private mariadbd with native TLS, the proxy's certificate, and otherwise the
    same options (targets.SERVER_OPTS);
  * "proxy": the proxy in front of "plain" (TCP), max_connections = 6000, log_level = notice;
  * "proxy_plain": the same proxy with require_secure_transport = OFF, used by plaintext clients:
    the relay's cost without TLS;
  * "proxy_btls": a proxy in front of "native" with backend_ssl = ON (verified with the test CA):
    TLS on both legs, the backend's sessions resumed;
  * "haproxy": HAProxy in TCP mode in front of "plain" (a plaintext hop: it cannot do MariaDB's
    in-band TLS upgrade);
  * the lean load client (Benchmarks/LoadClient/*.c), compiled with cc.

Parts (BENCH_PARTS, default "P1 P2 P3 P4"; parts.py); the targets alternate within every round and
each part runs BENCH_ROUNDS rounds, reported as medians against the goals in targets.py. Prints one
table, writes BENCH_DIR/results.json (every raw number) and BENCH_DIR/table.md, and replaces the
generated section of docs/benchmarks.md (document.py) when all four parts ran (BENCH_UPDATE_DOC=1
forces it, 0 skips it). Every process it starts is stopped on exit, also on failure or Ctrl-C.

Variables (defaults): BENCH_ROUNDS (3), BENCH_SECONDS (20: one P1 run), BENCH_P3_SECONDS
(BENCH_SECONDS/2: one P3 run), BENCH_WARMUP (5 s per target before P1), BENCH_PARTS,
BENCH_ROWS (100000), BENCH_BULK_REPEAT (3: result sets per P2 run), BENCH_HOLD_COUNTS
("1000 5000"), BENCH_DIR (a new /tmp/bench.XXXXXX), BENCH_KEEP (0: on success the data
directories are removed, results and logs stay), PROXY_BIN (.build/release/mariadb-tls-proxy),
BENCH_LOAD_CLIENT (a prebuilt mariadb-tls-load instead of compiling it), BENCH_DOC
(docs/benchmarks.md), BENCH_UPDATE_DOC (auto), BENCH_SERVE (1: set up, then wait for Ctrl-C).
"""

import json
import os
import resource
import shutil
import signal
import sys
import time

from clients import LoadRuns
from document import BenchDocument
from environment import BenchEnvironment
from harness import PROCS, BenchError, log
from parts import BenchParts
from report import BenchReport


def on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


class Bench(BenchEnvironment, LoadRuns, BenchParts, BenchReport, BenchDocument):
    """The whole benchmark: set-up (environment.py), measured runs (clients.py, parts.py), the
    table (report.py) and the generated documentation section (document.py)."""

    def main(self):
        self.setup()
        if os.environ.get("BENCH_SERVE") == "1":
            self.serve()
        for part in self.parts:
            getattr(self, part.lower())()
        elapsed = time.monotonic() - self.started
        table = self.report()
        self.results["elapsed_seconds"] = round(elapsed, 1)
        self.results["machine"]["loadavg_at_end"] = os.getloadavg()
        self.results["started_at"] = self.started_at.isoformat()
        (self.dir / "results.json").write_text(json.dumps(self.results, indent=2) + "\n")
        table = table + "\n\n" + self.cpu_tables()
        (self.dir / "table.md").write_text(table + "\n")
        print(table)
        print(f"\n{elapsed / 60:.1f} minutes; raw results in {self.dir}/results.json")
        missed = [k for k, v in self.results["checks"].items() if not v["met"]]
        if missed:
            print(f"targets missed: {', '.join(missed)}")
        if self.update_doc:
            self.update_docs(elapsed)


def main():
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < 12000:
        log(f"warning: open file limit {hard}; P4 with 5,000 connections needs about 11,000 for the proxy")
    bench = None
    ok = False
    try:
        bench = Bench()
        bench.main()
        ok = True
    except BenchError as error:
        log(f"FAILED: {error}")
    except KeyboardInterrupt as error:
        log(f"interrupted ({error or 'Ctrl-C'})")
    finally:
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        PROCS.stop_all()
        if bench is not None:
            if ok and not bench.keep:
                for sub in ("plain", "native"):
                    shutil.rmtree(bench.dir / sub, ignore_errors=True)
                log(f"results and logs kept in {bench.dir} (data directories removed; BENCH_KEEP=1 keeps them)")
            else:
                log(f"everything kept in {bench.dir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
