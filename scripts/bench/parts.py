"""parts.py — BenchParts: the four measured parts, each in alternating rounds over the targets.

  P1  sysbench oltp_point_select, 8 threads: qps, p95 latency, CPU per query of every process
  P2  one client reads 120 x 1 MB rows BENCH_BULK_REPEAT times: MB/s
  P3  connect + login + COM_QUIT + close, 4 threads: logins/s (full and resumed), CPU per login
  P4  VmRSS growth per idle TLS connection, 1,000 and 5,000 held, a fresh server each time
"""

import selectors
import subprocess
import time

from harness import PROCS, die, fd_count, kill_proc, log, run, stable_rss
from targets import BENCH_PASSWORD, BENCH_USER, BULK_QUERY, P1_ORDER, P2_ORDER, P3_ORDER, TARGETS


class BenchParts:
    def prepare_sysbench(self):
        log(f"P1: preparing sbtest ({self.rows} rows) on plain and native")
        for backend in (self.plain, self.native):
            # Over the unix socket (the native server refuses plaintext TCP); same command for both.
            run(["sysbench", "oltp_point_select", "--db-driver=mysql", f"--mysql-socket={backend.socket}",
                 f"--mysql-user={BENCH_USER}", f"--mysql-password={BENCH_PASSWORD}", "--mysql-db=sbtest", "--tables=1",
                 f"--table-size={self.rows}", "cleanup"], timeout=300, cwd=self.sbdir)
            run(["sysbench", "oltp_point_select", "--db-driver=mysql", f"--mysql-socket={backend.socket}",
                 f"--mysql-user={BENCH_USER}", f"--mysql-password={BENCH_PASSWORD}", "--mysql-db=sbtest", "--tables=1",
                 f"--table-size={self.rows}", "prepare"], timeout=600, cwd=self.sbdir)
            backend.sql("ANALYZE TABLE sbtest.sbtest1")

    def p1(self):
        self.prepare_sysbench()
        order = P1_ORDER
        if self.warmup:
            log(f"P1: warm-up {self.warmup}s per target")
            for target in order:
                self.sysbench(target, self.warmup)
        raw = self.raw.setdefault("P1", {t: [] for t in order})
        for r in range(self.rounds):
            for target in order:
                before = self.tls_witness_before(target)
                result = self.sysbench(target, self.seconds)
                self.tls_witness_after(target, before, self.p1_threads)
                if result["errors"]:
                    die(f"P1 {target}: sysbench counted {result['errors']} errors")
                raw[target].append(result)
                cpu = result["cpu_us_per_query"]
                log(f"P1 round {r + 1}/{self.rounds} {target:11} {result['qps']:10.0f} qps  p95 {result['p95_ms']} ms; "
                    f"CPU µs/query: client {cpu['client_user'] + cpu['client_sys']:.1f}, relay "
                    f"{cpu.get('relay_user', 0) + cpu.get('relay_sys', 0):.1f}, "
                    f"mariadbd {cpu['server_user'] + cpu['server_sys']:.1f}")

    def p2(self):
        order = P2_ORDER
        log("P2: warm-up (one result set per target)")
        for target in order:
            self.load_client("bulk", target, "--query", BULK_QUERY, "--repeat", 1, timeout=300)
        raw = self.raw.setdefault("P2", {t: [] for t in order})
        for r in range(self.rounds):
            for target in order:
                before = self.tls_witness_before(target)
                result = self.load_client("bulk", target, "--query", BULK_QUERY, "--repeat", self.bulk_repeat,
                                          timeout=600)
                self.tls_witness_after(target, before, 1)
                expected = 120_000_000 * self.bulk_repeat
                if result.get("bytes", 0) < expected:
                    die(f"P2 {target}: read {result.get('bytes')} bytes, expected >= {expected}")
                raw[target].append(result)
                log(f"P2 round {r + 1}/{self.rounds} {target:8} {result['mb_per_sec']:10.1f} MB/s")

    def p3(self):
        order = P3_ORDER
        ca = ["--ca", self.certs / "ca.pem"]
        warm = min(self.warmup, 3)
        raw = self.raw.setdefault("P3", {key: [] for key, _, _ in order})
        if warm:
            log(f"P3: warm-up {warm}s per target")
            for key, target, resume in order:
                self.load_client("connect", target, "--threads", self.p3_threads, "--seconds", warm,
                                 *(ca if TARGETS[target].tls else []), *(["--resume"] if resume else []),
                                 timeout=warm + 120)
        for r in range(self.rounds):
            for key, target, resume in order:
                before = self.tls_witness_before(target)
                result = self.load_client("connect", target, "--threads", self.p3_threads, "--seconds",
                                          self.p3_seconds, *(ca if TARGETS[target].tls else []),
                                          *(["--resume"] if resume else []), timeout=self.p3_seconds + 180)
                self.tls_witness_after(target, before, 1)
                if result.get("errors"):
                    log(f"P3 {key}: {result['errors']} errors")
                raw[key].append(result)
                log(f"P3 round {r + 1}/{self.rounds} {key:14} {result['logins_per_sec']:9.0f} logins/s "
                    f"(resumed {result.get('resumed', 0)}/{result.get('logins', 0)}, errors {result.get('errors', 0)})")

    def hold(self, target, count):
        """Opens count TLS connections, returns the measurements while they are held."""
        server_pid = self.proxy.pid if target == "proxy" else self.native.pid
        # Warm up the paths (first TLS handshake, allocator arenas) with a few connections first.
        for n in (16, count):
            if target == "proxy":
                self.wait_proxy_drained()
            rss_before = stable_rss(server_pid)
            fds_before = fd_count(server_pid)
            outcomes_before = self.proxy.outcomes() if target == "proxy" else None
            cmd = [str(self.load), "hold", "--host", "127.0.0.1", "--port", str(self.port_of[target]), "--user",
                   BENCH_USER, "--password", BENCH_PASSWORD, "--tls", "--count", str(n), "--threads", "8"]
            proc = PROCS.track(subprocess.Popen(cmd, cwd=self.dir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                stderr=subprocess.PIPE, text=True))
            t0 = time.monotonic()
            status = self.read_ready(proc, n, timeout=max(120, n // 20))
            open_seconds = time.monotonic() - t0
            result = {"count": n, "status": status, "open_seconds": round(open_seconds, 2),
                      "rss_before_kib": rss_before, "fds_before": fds_before}
            if status.startswith("READY"):
                rss_after = stable_rss(server_pid)
                result.update(rss_after_kib=rss_after, fds_held=fd_count(server_pid),
                              kib_per_conn=round((rss_after - rss_before) / n, 2))
                if target == "proxy":
                    result["open_connections"] = self.proxy.open_connections()
                if target == "native":
                    result["threads_connected"] = self.native.status("Threads_connected")
            try:
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                kill_proc(proc)
            PROCS.untrack(proc)
            stderr = proc.stderr.read()
            result["client_rc"] = proc.returncode
            if target == "proxy":
                self.wait_proxy_drained()
                after = self.proxy.outcomes()
                result["proxy_outcomes"] = {k: v - outcomes_before.get(k, 0) for k, v in after.items()
                                            if v != outcomes_before.get(k, 0)}
                result["errors"] = sum(v for k, v in result["proxy_outcomes"].items()
                                       if k not in ("relayed", "client_closed"))
            else:
                result["errors"] = 0
            result["fds_after_close"] = fd_count(server_pid)
            if not status.startswith("READY") or proc.returncode != 0:
                result["errors"] = result["errors"] + 1
                result["client_stderr"] = stderr.strip()[-500:]
        return result

    def read_ready(self, proc, count, timeout):
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not sel.select(timeout=max(0.1, deadline - time.monotonic())):
                    continue
                line = proc.stdout.readline()
                if not line:
                    return f"FAILED: client exited ({proc.wait()})"
                line = line.strip()
                if line.startswith("READY") or line.startswith("FAILED"):
                    return line
            return f"FAILED: not READY within {timeout}s"
        finally:
            sel.close()

    def wait_proxy_drained(self, timeout=60):
        deadline = time.monotonic() + timeout
        while self.proxy.open_connections() > 0:
            if time.monotonic() > deadline:
                die(f"the proxy still has {self.proxy.open_connections()} open connections after {timeout}s")
            time.sleep(0.2)

    def p4(self):
        raw = self.raw.setdefault("P4", {"proxy": [], "native": []})
        for count in self.hold_counts:
            for target in ("proxy", "native"):
                # A fresh server per measurement: memory freed by an earlier hold would be reused.
                log(f"P4: restarting {target}, holding {count} TLS connections")
                if target == "proxy":
                    self.proxy.restart()
                else:
                    self.native.restart()
                    self.port_of["native"] = self.native.port
                result = self.hold(target, count)
                raw[target].append(result)
                log(f"P4 {target:6} {count:5}: {result['status']}; RSS {result['rss_before_kib']} -> "
                    f"{result.get('rss_after_kib', '?')} KiB = {result.get('kib_per_conn', '?')} KiB/conn; fds "
                    f"{result['fds_before']} -> {result.get('fds_held', '?')} -> {result['fds_after_close']}; "
                    f"errors {result['errors']}")

    # ---- report
