"""environment.py — BenchEnvironment: the settings (BENCH_* variables) and the set-up of everything
measured: certificates, the two mariadbd, the three proxies, HAProxy, the lean load client, and the
checks that the TLS targets really do TLS. BENCH_SERVE=1 stops here and keeps it all running.
"""

import datetime
import os
import platform
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from harness import PROCS, ROOT, SCRIPTS, die, env_int, log, run
from servers import Backend, HAProxy, Proxy
from targets import ALL_PARTS, BENCH_PASSWORD, BENCH_USER, BULK_QUERY, SERVER_OPTS


class BenchEnvironment:
    def __init__(self):
        self.started = time.monotonic()
        self.started_at = datetime.datetime.now(datetime.timezone.utc)
        self.rounds = env_int("BENCH_ROUNDS", 3, 1)
        self.seconds = env_int("BENCH_SECONDS", 20, 1)
        self.p3_seconds = env_int("BENCH_P3_SECONDS", max(2, self.seconds // 2), 1)
        self.warmup = env_int("BENCH_WARMUP", 5, 0)
        self.rows = env_int("BENCH_ROWS", 100000, 1)
        self.bulk_repeat = env_int("BENCH_BULK_REPEAT", 3, 1)
        self.p1_threads = 8
        self.p3_threads = 4
        self.hold_counts = [int(x) for x in os.environ.get("BENCH_HOLD_COUNTS", "1000 5000").split()]
        self.parts = os.environ.get("BENCH_PARTS", " ".join(ALL_PARTS)).upper().replace(",", " ").split()
        for part in self.parts:
            if part not in ALL_PARTS:
                die(f"BENCH_PARTS: unknown part {part!r} (expected some of {' '.join(ALL_PARTS)})")
        self.parts = [p for p in ALL_PARTS if p in self.parts]
        self.keep = os.environ.get("BENCH_KEEP", "0") == "1"
        self.proxy_bin = Path(os.environ.get("PROXY_BIN") or ROOT / ".build/release/mariadb-tls-proxy")
        if not os.access(self.proxy_bin, os.X_OK):
            die(f"{self.proxy_bin} not built (make build)")
        self.doc = Path(os.environ.get("BENCH_DOC") or ROOT / "docs/benchmarks.md")
        if not self.doc.is_absolute():
            self.doc = ROOT / self.doc
        update = os.environ.get("BENCH_UPDATE_DOC", "auto")
        self.update_doc = update == "1" or (update == "auto" and self.parts == ALL_PARTS)

        if os.environ.get("BENCH_DIR"):
            self.dir = Path(os.environ["BENCH_DIR"]).resolve()
            self.dir.mkdir(parents=True, exist_ok=True)
        else:
            self.dir = Path(tempfile.mkdtemp(prefix="bench.", dir="/tmp"))
        self.certs = self.dir / "certs"
        self.sbdir = self.dir / "sysbench"
        self.results = {"parts": self.parts, "settings": {}, "machine": {}, "raw": {}, "checks": {}}
        self.raw = self.results["raw"]

    # ---- setup

    def setup(self):
        log(f"work dir {self.dir}")
        run(["bash", str(SCRIPTS / "make-certs.sh"), str(self.certs)], timeout=120)
        # sysbench 1.0.20 (libmariadb) with --mysql-ssl=on loads client-key.pem, client-cert.pem and
        # cacert.pem from its working directory (mysql_ssl_set with fixed names) and fails without them.
        self.sbdir.mkdir(exist_ok=True)
        for src, dst in (("ca.pem", "cacert.pem"), ("client-cert.pem", "client-cert.pem"),
                         ("client-key.pem", "client-key.pem")):
            shutil.copyfile(self.certs / src, self.sbdir / dst)

        tls_opts = ["--ssl", f"--ssl-cert={self.certs}/server-cert.pem", f"--ssl-key={self.certs}/server-key.pem",
                    f"--ssl-ca={self.certs}/ca.pem", "--require-secure-transport=ON"]
        self.plain = Backend("plain", self.dir / "plain", SERVER_OPTS)
        self.native = Backend("native", self.dir / "native", SERVER_OPTS + tls_opts)
        log("starting the two mariadbd (plain, native TLS)")
        starting = [(b, b.start_async()) for b in (self.plain, self.native)]
        for backend, proc in starting:
            backend.finish_start(proc)
        for backend in (self.plain, self.native):
            backend.sql(f"""CREATE DATABASE IF NOT EXISTS sbtest;
CREATE OR REPLACE USER '{BENCH_USER}'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('{BENCH_PASSWORD}');
GRANT ALL ON sbtest.* TO '{BENCH_USER}'@'%';""")
        self.port_of = {"plain": self.plain.port, "native": self.native.port}

        self.proxy = Proxy(self.proxy_bin, self.dir, self.plain, self.certs)
        PROCS.add_stop("proxy", self.proxy.stop)
        self.proxy.start()
        self.port_of["proxy"] = self.proxy.port
        self.proxy_btls = Proxy(self.proxy_bin, self.dir / "proxy-btls", self.native, self.certs,
                                extra=f"backend_ssl = ON\nbackend_ssl_ca = {self.certs}/ca.pem\n")
        PROCS.add_stop("proxy_btls", self.proxy_btls.stop)
        self.proxy_btls.start()
        self.port_of["proxy_btls"] = self.proxy_btls.port
        # The same proxy as a plaintext relay (require_secure_transport = OFF, plaintext clients):
        # the relay's cost without TLS, next to HAProxy's.
        self.proxy_plain = Proxy(self.proxy_bin, self.dir / "proxy-plain", self.plain, self.certs,
                                 require_secure_transport=False)
        PROCS.add_stop("proxy_plain", self.proxy_plain.stop)
        self.proxy_plain.start()
        self.port_of["proxy_plain"] = self.proxy_plain.port
        self.haproxy = HAProxy(self.dir, self.plain)
        self.haproxy.start()
        self.port_of["haproxy"] = self.haproxy.port
        self.relays = {"proxy": self.proxy, "proxy_plain": self.proxy_plain, "proxy_btls": self.proxy_btls,
                       "haproxy": self.haproxy}
        self.servers = {"plain": self.plain, "native": self.native}
        log(f"plain :{self.plain.port}  native :{self.native.port}  proxy :{self.proxy.port} "
            f"(metrics :{self.proxy.metrics_port})  proxy_plain :{self.proxy_plain.port}  "
            f"haproxy :{self.haproxy.port}")

        if any(p in self.parts for p in ("P2", "P3", "P4")):
            self.build_load_client()
        self.check_tls()
        self.describe_machine()

    def build_load_client(self):
        prebuilt = os.environ.get("BENCH_LOAD_CLIENT")
        if prebuilt:
            self.load = Path(prebuilt)
            return
        sources = [ROOT / "Benchmarks/LoadClient" / name for name in ("mariadb-tls-load.c", "connection.c", "modes.c")]
        missing = [str(src) for src in sources if not src.exists()]
        if missing:
            die(f"{', '.join(missing)} missing (the lean load client for P2-P4); run BENCH_PARTS=P1 without it")
        self.load = self.dir / "mariadb-tls-load"
        run(["cc", "-O2", "-Wall", "-Wextra", "-o", str(self.load)] + [str(src) for src in sources]
            + ["-lssl", "-lcrypto", "-lpthread"], timeout=300)

    def check_tls(self):
        """Both TLS targets negotiate TLS (openssl s_client -starttls mysql) and refuse plaintext logins."""
        self.results["tls"] = {}
        for name in ("proxy", "native"):
            _, out, err = run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.port_of[name]}", "-starttls",
                               "mysql", "-CAfile", str(self.certs / "ca.pem"), "-verify_return_error",
                               "-servername", "localhost"], timeout=30, check=False)
            m = re.search(r"New, (TLSv[0-9.]+), Cipher is (\S+)", out)
            if not m or "Verify return code: 0 (ok)" not in out:
                die(f"{name}: openssl s_client -starttls mysql did not negotiate TLS:\n{out[-1500:]}\n{err[-800:]}")
            self.results["tls"][name] = f"{m.group(1)} {m.group(2)}"
            rc, out, err = run(["mariadb", "--no-defaults", "--skip-ssl", "-h", "127.0.0.1", "-P",
                                str(self.port_of[name]), f"-u{BENCH_USER}", f"-p{BENCH_PASSWORD}", "-e", "SELECT 1"],
                               timeout=30, check=False)
            # The proxy answers 3159; MariaDB 10.11 with require_secure_transport answers 1045.
            if rc == 0 or not ("3159" in err or "1045" in err):
                die(f"{name}: a plaintext TCP login was not refused (rc {rc}): {err.strip()}")
            run(["mariadb", "--no-defaults", "--ssl", f"--ssl-ca={self.certs}/ca.pem", "-h", "127.0.0.1", "-P",
                 str(self.port_of[name]), f"-u{BENCH_USER}", f"-p{BENCH_PASSWORD}", "-e", "SELECT 1"], timeout=30)
        log(f"TLS: proxy {self.results['tls']['proxy']}, native {self.results['tls']['native']}; both refuse "
            "plaintext logins and accept TLS ones with the same password, so every successful TLS-target run was TLS")
        # The plaintext relay accepts the same login without TLS (what its rows measure).
        run(["mariadb", "--no-defaults", "--skip-ssl", "-h", "127.0.0.1", "-P", str(self.port_of["proxy_plain"]),
             f"-u{BENCH_USER}", f"-p{BENCH_PASSWORD}", "-e", "SELECT 1"], timeout=30)

    def describe_machine(self):
        def first_line(cmd):
            try:
                out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
                return (out.stdout or out.stderr).strip().splitlines()[0].strip()
            except (OSError, IndexError, subprocess.TimeoutExpired):
                return "?"

        cpu = "?"
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
        mem_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        swift = shutil.which("swift") or "/opt/swift/usr/bin/swift"
        commit = first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
        dirty = subprocess.run(["git", "-C", str(ROOT), "diff", "--quiet", "HEAD", "--", "Sources", "Package.swift",
                                "Package.resolved"], capture_output=True).returncode != 0
        self.results["machine"] = {
            "cpu": cpu,
            "cores": os.cpu_count(),
            "memory_gib": round(mem_kib / 1024 / 1024, 1),
            "kernel": platform.release(),
            "loadavg_at_start": os.getloadavg(),
            "mariadbd": first_line(["mariadbd", "--version"]),
            "haproxy": first_line(["haproxy", "-v"]),
            "sysbench": first_line(["sysbench", "--version"]),
            "openssl": first_line(["openssl", "version"]),
            "swift": first_line([swift, "--version"]),
            "proxy": first_line([str(self.proxy_bin), "--version"]),
            "commit": commit + (" + uncommitted changes in Sources/" if dirty else ""),
        }
        self.results["settings"] = {
            "rounds": self.rounds, "p1_seconds": self.seconds, "p3_seconds": self.p3_seconds,
            "warmup_seconds": self.warmup, "rows": self.rows, "bulk_repeat": self.bulk_repeat,
            "p1_threads": self.p1_threads, "p3_threads": self.p3_threads, "hold_counts": self.hold_counts,
            "server_opts": SERVER_OPTS, "bulk_query": BULK_QUERY,
        }

    # ---- helpers

    def serve(self):
        """BENCH_SERVE=1: set everything up, then keep it running for profiling until Ctrl-C/SIGTERM."""
        self.prepare_sysbench()
        self.build_load_client()
        facts = {"BENCH_DIR": self.dir, "PROXY_PID": self.proxy.pid, "PROXY_PORT": self.proxy.port,
                 "PROXY_PLAIN_PID": self.proxy_plain.pid, "PROXY_PLAIN_PORT": self.proxy_plain.port,
                 "HAPROXY_PID": self.haproxy.pid, "PLAIN_PID": self.plain.pid, "NATIVE_PID": self.native.pid,
                 "NATIVE_PORT": self.native.port, "PLAIN_PORT": self.plain.port, "HAPROXY_PORT": self.haproxy.port,
                 "LOAD_CLIENT": self.load, "SYSBENCH_DIR": self.sbdir, "BENCH_USER": BENCH_USER,
                 "BENCH_PASSWORD": BENCH_PASSWORD}
        (self.dir / "bench.env").write_text("".join(f"{k}={v}\n" for k, v in facts.items()))
        log(f"serving; facts in {self.dir}/bench.env; Ctrl-C or SIGTERM stops everything")
        while True:
            signal.pause()
