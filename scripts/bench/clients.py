"""clients.py — LoadRuns: one measured run of a load client against a target, with the CPU it cost.

sysbench (P1) and the lean load client (P2-P4) run as children of this process. Around each run the
CPU of every process in the path is read: the client's from the kernel's accounting of reaped
children (getrusage(RUSAGE_CHILDREN): nothing else is reaped during a run), the relay's (proxy or
HAProxy) and the mariadbd's from /proc/PID/stat, and the whole machine's from /proc/stat, each as
user and system (kernel) time. Divided by the queries or logins of the run, that gives the
"where the time goes" numbers of docs/benchmarks.md.
"""

import json
import re
import resource

from harness import die, machine_cpu, process_cpu, run
from targets import BENCH_PASSWORD, BENCH_USER, TARGETS


class LoadRuns:
    # ---- CPU accounting

    def cpu_snapshot(self, target):
        spec = TARGETS[target]
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        snap = {"client": (children.ru_utime, children.ru_stime),
                "server": process_cpu(self.servers[spec.server].pid), "machine": machine_cpu()}
        if spec.relay:
            snap["relay"] = process_cpu(self.relays[spec.relay].pid)
        return snap

    @staticmethod
    def cpu_per_unit(before, after, units):
        """µs of CPU per query or login: {client,relay,server}_{user,sys}, machine_busy, and the
        machine's idle share in % (the machine is shared: other work shows as busy time too)."""
        if not units:
            return {}
        us = lambda seconds: round(seconds * 1e6 / units, 1)  # noqa: E731
        out = {}
        for who in ("client", "relay", "server"):
            if who in before:
                out[f"{who}_user"] = us(after[who][0] - before[who][0])
                out[f"{who}_sys"] = us(after[who][1] - before[who][1])
        total = after["machine"][0] - before["machine"][0]
        idle = after["machine"][1] - before["machine"][1]
        out["machine_busy"] = us(total - idle)
        out["machine_idle_pct"] = round(100 * idle / total, 1) if total > 0 else None
        return out

    # ---- the clients

    def sysbench(self, target, seconds, command="run"):
        port = self.port_of[target]
        tls = TARGETS[target].tls
        cmd = ["sysbench", "oltp_point_select", "--db-driver=mysql", "--mysql-host=127.0.0.1", f"--mysql-port={port}",
               f"--mysql-user={BENCH_USER}", f"--mysql-password={BENCH_PASSWORD}", "--mysql-db=sbtest", "--tables=1",
               f"--table-size={self.rows}", f"--threads={self.p1_threads}", f"--time={seconds}", "--percentile=95",
               "--report-interval=0", f"--mysql-ssl={'on' if tls else 'off'}", command]
        before = self.cpu_snapshot(target)
        _, out, _ = run(cmd, timeout=seconds + 120, cwd=self.sbdir)
        after = self.cpu_snapshot(target)
        qps = re.search(r"queries:\s+(\d+)\s+\(([\d.]+) per sec", out)
        p95 = re.search(r"95th percentile:\s+([\d.]+)", out)
        errors = re.search(r"ignored errors:\s+(\d+)", out)
        if not qps or not p95:
            die(f"cannot parse sysbench output for {target}:\n{out[-1500:]}")
        return {"qps": float(qps.group(2)), "p95_ms": float(p95.group(1)),
                "errors": int(errors.group(1)) if errors else 0, "queries": int(qps.group(1)),
                "cpu_us_per_query": self.cpu_per_unit(before, after, int(qps.group(1)))}

    def load_client(self, mode, target, *args, timeout):
        cmd = [str(self.load), mode, "--host", "127.0.0.1", "--port", str(self.port_of[target]), "--user", BENCH_USER,
               "--password", BENCH_PASSWORD] + (["--tls"] if TARGETS[target].tls else []) + [str(a) for a in args]
        before = self.cpu_snapshot(target)
        _, out, _ = run(cmd, timeout=timeout, cwd=self.dir)
        after = self.cpu_snapshot(target)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if not lines:
            die(f"no JSON from {' '.join(cmd)}:\n{out[-1000:]}")
        result = json.loads(lines[-1])
        if mode == "connect":
            result["cpu_us_per_login"] = self.cpu_per_unit(before, after, result.get("logins", 0))
        elif mode == "bulk":
            result["cpu_us_per_mb"] = self.cpu_per_unit(before, after, result.get("bytes", 0) / 1e6)
        return result

    # ---- TLS witnesses: a TLS target's run really was TLS

    def tls_witness_before(self, target):
        if target == "native":
            return self.native.status("Ssl_accepts")
        if TARGETS[target].relay in ("proxy", "proxy_btls", "proxy_plain"):
            return self.relays[target].outcomes()
        return None

    def tls_witness_after(self, target, before, at_least):
        """Native: Ssl_accepts grew by >= at_least. Proxy: no plaintext or TLS refusals counted."""
        if target == "native":
            grown = self.native.status("Ssl_accepts") - before
            if grown < at_least:
                die(f"native: Ssl_accepts grew by {grown}, expected >= {at_least}: not TLS?")
        elif before is not None:
            after = self.relays[target].outcomes()
            for bad in ("insecure_transport", "tls_failed", "backend_failed"):
                if after.get(bad, 0) > before.get(bad, 0):
                    die(f"{target}: {after[bad] - before.get(bad, 0)} connections ended as {bad}")
