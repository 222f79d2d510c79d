#!/usr/bin/env python3
"""bench.py — `make bench`: the proxy against native TLS MariaDB, HAProxy and a direct plaintext server.

Starts, all under BENCH_DIR (scripts/bench/run.sh installs the packages first):
  * test certificates (scripts/make-certs.sh);
  * "plain": a private plaintext mariadbd (scripts/start-backend.sh), the backend of the proxy and of
    HAProxy, and the direct plaintext reference;
  * "native": a second private mariadbd with native TLS, the proxy's certificate, and otherwise the
    same options (SERVER_OPTS below);
  * "proxy": the proxy in front of "plain" (TCP), max_connections = 6000, log_level = notice;
  * "proxy_btls": a second proxy, the same but in front of "native" with backend_ssl = ON
    (verified with the test CA): TLS on both legs, the backend's sessions resumed;
  * "haproxy": HAProxy in TCP mode in front of "plain" (a plaintext hop: it cannot do MariaDB's
    in-band TLS upgrade);
  * the lean load client (Benchmarks/LoadClient/mariadb-tls-load.c), compiled with cc.

Parts (BENCH_PARTS, default "P1 P2 P3 P4"); the targets alternate within every round and each
part runs BENCH_ROUNDS rounds, reported as medians:
The "proxy_btls" rows (P1-P3) show what backend_ssl costs against the plaintext-backend proxy.
  P1  sysbench oltp_point_select, 8 threads, 1 table of BENCH_ROWS rows: qps and p95 latency
  P2  one client reads a >= 100 MB result (SELECT REPEAT('x', 1000000) FROM seq_1_to_120): MB/s
  P3  connect + login + COM_QUIT + close, 4 threads: logins/s, with and without TLS resumption
  P4  VmRSS growth per idle TLS connection with 1,000 and 5,000 held (one round)

Prints one table, writes BENCH_DIR/results.json (every raw number) and BENCH_DIR/table.md, and
replaces the generated section of docs/benchmarks.md (between <!-- bench:begin --> and
<!-- bench:end -->) when all four parts ran (BENCH_UPDATE_DOC=1 forces it, 0 skips it).
Every process it starts is stopped on exit, also on failure or Ctrl-C.

Variables (defaults): BENCH_ROUNDS (3), BENCH_SECONDS (20: one P1 run), BENCH_P3_SECONDS
(BENCH_SECONDS/2: one P3 run), BENCH_WARMUP (5 s per target before P1), BENCH_PARTS,
BENCH_ROWS (100000), BENCH_BULK_REPEAT (3: result sets per P2 run), BENCH_HOLD_COUNTS
("1000 5000"), BENCH_DIR (a new /tmp/bench.XXXXXX), BENCH_KEEP (0: on success the data
directories are removed, results and logs stay), PROXY_BIN (.build/release/mariadb-tls-proxy),
BENCH_LOAD_CLIENT (a prebuilt mariadb-tls-load instead of compiling it), BENCH_DOC
(docs/benchmarks.md), BENCH_UPDATE_DOC (auto).
"""

import datetime
import json
import os
import platform
import re
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"

# Identical on both MariaDB servers (the native TLS one adds only its TLS options). start-backend.sh
# already passes --max-allowed-packet=256M --innodb-buffer-pool-size=64M --skip-log-bin; what
# follows comes after those, so it wins.
SERVER_OPTS = [
    "--max-connections=6000",
    "--thread-cache-size=256",
    "--back-log=1024",
    "--innodb-buffer-pool-size=256M",
    "--innodb-flush-log-at-trx-commit=2",
    "--skip-name-resolve",
    "--performance-schema=OFF",
]
BENCH_USER = "bench"
BENCH_PASSWORD = "bench-pass"
BULK_QUERY = "SELECT REPEAT('x', 1000000) FROM sbtest.seq_1_to_120"
ALL_PARTS = ["P1", "P2", "P3", "P4"]

# Targets: name -> (label, TLS?)
TARGETS = {
    "proxy": ("proxy (TLS)", True),
    "native": ("native TLS", True),
    "proxy_btls": ("proxy, TLS to the backend", True),
    "haproxy": ("HAProxy (plain)", False),
    "plain": ("direct (plain)", False),
}


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


def on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


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


# --------------------------------------------------------------------------------------------
# The servers.


class Backend:
    """A private mariadbd from scripts/start-backend.sh."""

    def __init__(self, name, directory, extra_opts):
        self.name = name
        self.dir = Path(directory)
        self.extra_opts = extra_opts
        self.port = None
        self.socket = None
        self.pid = None

    def env(self):
        env = dict(os.environ)
        env["BACKEND_EXTRA_OPTS"] = " ".join(self.extra_opts)
        env["BACKEND_TMPDIR"] = str(self.dir / "tmp")
        return env

    def start_async(self, port=None):
        cmd = ["bash", str(SCRIPTS / "start-backend.sh"), str(self.dir)] + ([str(port)] if port else [])
        out = open(self.dir.parent / f"{self.name}.start.log", "w")
        proc = PROCS.track(subprocess.Popen(cmd, env=self.env(), stdin=subprocess.DEVNULL, stdout=out,
                                            stderr=subprocess.STDOUT))
        PROCS.add_stop(f"mariadbd {self.name}", self.stop)
        return proc

    def finish_start(self, proc, timeout=180):
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_proc(proc)
            rc = -1
        PROCS.untrack(proc)
        if rc != 0:
            tail = (self.dir.parent / f"{self.name}.start.log").read_text(errors="replace")[-2000:]
            die(f"start-backend.sh {self.dir} failed (rc {rc}):\n{tail}")
        facts = dict(line.split("=", 1) for line in (self.dir / "backend.env").read_text().split() if "=" in line)
        self.port = int(facts["BACKEND_PORT"])
        self.socket = facts["BACKEND_SOCKET"]
        self.pid = int(facts["BACKEND_PID"])

    def start(self, port=None):
        self.finish_start(self.start_async(port))

    def stop(self):
        if self.pid is None:
            return
        subprocess.run(["bash", str(SCRIPTS / "stop-backend.sh"), str(self.dir)], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=90, check=False)
        self.pid = None

    def restart(self):
        port = self.port
        self.stop()
        self.start(port)

    def sql(self, statement):
        _, out, _ = run(["mariadb", "--no-defaults", "--skip-ssl", f"--socket={self.socket}", "--batch",
                         "--skip-column-names", "-e", statement], timeout=60)
        return out.strip()

    def status(self, name):
        out = self.sql(f"SHOW GLOBAL STATUS LIKE '{name}'")
        return int(out.split()[1]) if out else 0


class Proxy:
    def __init__(self, binary, directory, backend, certs, extra=""):
        self.binary = binary
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.backend = backend
        self.certs = certs
        self.extra = extra
        self.port = free_port()
        self.metrics_port = free_port()
        self.proc = None
        self.log = self.dir / "proxy.log"
        self.cnf = self.dir / "proxy.cnf"

    def write_config(self):
        # log_level = notice: the per-connection "connection closed" lines are at info and would
        # otherwise dominate a connection-rate benchmark; "ready for connections" is at notice.
        self.cnf.write_text(f"""[mariadb-tls-proxy]
bind_address = 127.0.0.1
port = {self.port}
backend_host = 127.0.0.1
backend_port = {self.backend.port}
ssl_cert = {self.certs}/server-cert.pem
ssl_key = {self.certs}/server-key.pem
ssl_ca = {self.certs}/ca.pem
require_secure_transport = ON
max_connections = 6000
metrics_address = 127.0.0.1:{self.metrics_port}
log_level = notice
{self.extra}""")

    def start(self):
        self.write_config()
        with open(self.log, "a") as out:
            self.proc = PROCS.track(subprocess.Popen([str(self.binary), f"--defaults-file={self.cnf}"],
                                                     stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT))
        # Ready once this start has logged both lines (notice level; their order varies).
        def counts():
            text = self.log.read_text(errors="replace")
            return text.count("ready for connections"), text.count("serving metrics")

        start = counts()
        deadline = time.monotonic() + 30
        while not all(now > before for now, before in zip(counts(), start)):
            if self.proc.poll() is not None:
                die(f"the proxy exited with {self.proc.returncode}; see {self.log}")
            if time.monotonic() > deadline:
                die(f"the proxy did not log 'ready for connections' and 'serving metrics' within 30 s; see {self.log}")
            time.sleep(0.05)

    def stop(self):
        if self.proc is not None:
            kill_proc(self.proc, grace=40)
            PROCS.untrack(self.proc)
            self.proc = None

    def restart(self):
        self.stop()
        self.start()

    @property
    def pid(self):
        return self.proc.pid

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10) as response:
            text = response.read().decode()
        values = {}
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            name, _, value = line.rpartition(" ")
            try:
                values[name.strip()] = float(value)
            except ValueError:
                pass
        return values

    def outcomes(self):
        out = {}
        for name, value in self.metrics().items():
            m = re.fullmatch(r'mariadb_tls_proxy_connections_total\{outcome="([^"]+)"\}', name)
            if m:
                out[m.group(1)] = int(value)
        return out

    def open_connections(self):
        return int(self.metrics().get("mariadb_tls_proxy_open_connections", 0))


class HAProxy:
    def __init__(self, directory, backend):
        self.dir = Path(directory)
        self.backend = backend
        self.port = free_port()
        self.proc = None
        self.cfg = self.dir / "haproxy.cfg"
        self.log = self.dir / "haproxy.log"

    def start(self):
        # Plain TCP relay, HAProxy's defaults otherwise (threads = CPUs, like the proxy's event loops).
        self.cfg.write_text(f"""global
    maxconn 6000
defaults
    mode tcp
    timeout connect 10s
    timeout client 1h
    timeout server 1h
frontend mariadb
    bind 127.0.0.1:{self.port}
    maxconn 6000
    default_backend plain
backend plain
    server plain 127.0.0.1:{self.backend.port} maxconn 6000
""")
        run(["haproxy", "-c", "-q", "-f", str(self.cfg)], timeout=30)
        with open(self.log, "w") as out:
            self.proc = PROCS.track(subprocess.Popen(["haproxy", "-db", "-f", str(self.cfg)], stdin=subprocess.DEVNULL,
                                                     stdout=out, stderr=subprocess.STDOUT))
        PROCS.add_stop("haproxy", self.stop)
        # Ready when a connection through it gets the backend's greeting.
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                die(f"haproxy exited with {self.proc.returncode}; see {self.log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    if s.recv(4):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                die("haproxy did not relay a greeting within 30 s")
            time.sleep(0.05)

    def stop(self):
        if self.proc is not None:
            kill_proc(self.proc)
            PROCS.untrack(self.proc)
            self.proc = None


# --------------------------------------------------------------------------------------------
# The bench itself.


class Bench:
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

        tls_opts = [f"--ssl", f"--ssl-cert={self.certs}/server-cert.pem", f"--ssl-key={self.certs}/server-key.pem",
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
        self.haproxy = HAProxy(self.dir, self.plain)
        self.haproxy.start()
        self.port_of["haproxy"] = self.haproxy.port
        log(f"plain :{self.plain.port}  native :{self.native.port}  proxy :{self.proxy.port} "
            f"(metrics :{self.proxy.metrics_port})  haproxy :{self.haproxy.port}")

        if any(p in self.parts for p in ("P2", "P3", "P4")):
            self.build_load_client()
        self.check_tls()
        self.describe_machine()

    def build_load_client(self):
        prebuilt = os.environ.get("BENCH_LOAD_CLIENT")
        if prebuilt:
            self.load = Path(prebuilt)
            return
        src = ROOT / "Benchmarks/LoadClient/mariadb-tls-load.c"
        if not src.exists():
            die(f"{src} is missing (the lean load client for P2-P4); run BENCH_PARTS=P1 without it")
        self.load = self.dir / "mariadb-tls-load"
        run(["cc", "-O2", "-Wall", "-Wextra", "-o", str(self.load), str(src), "-lssl", "-lcrypto", "-lpthread"],
            timeout=300)

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

    def sysbench(self, target, seconds, command="run"):
        port = self.port_of[target]
        tls = TARGETS[target][1]
        cmd = ["sysbench", "oltp_point_select", "--db-driver=mysql", "--mysql-host=127.0.0.1", f"--mysql-port={port}",
               f"--mysql-user={BENCH_USER}", f"--mysql-password={BENCH_PASSWORD}", "--mysql-db=sbtest", "--tables=1",
               f"--table-size={self.rows}", f"--threads={self.p1_threads}", f"--time={seconds}", "--percentile=95",
               "--report-interval=0", f"--mysql-ssl={'on' if tls else 'off'}", command]
        _, out, _ = run(cmd, timeout=seconds + 120, cwd=self.sbdir)
        qps = re.search(r"queries:\s+\d+\s+\(([\d.]+) per sec", out)
        p95 = re.search(r"95th percentile:\s+([\d.]+)", out)
        errors = re.search(r"ignored errors:\s+(\d+)", out)
        if not qps or not p95:
            die(f"cannot parse sysbench output for {target}:\n{out[-1500:]}")
        return {"qps": float(qps.group(1)), "p95_ms": float(p95.group(1)), "errors": int(errors.group(1)) if errors else 0}

    def load_client(self, mode, target, *args, timeout):
        cmd = [str(self.load), mode, "--host", "127.0.0.1", "--port", str(self.port_of[target]), "--user", BENCH_USER,
               "--password", BENCH_PASSWORD] + (["--tls"] if TARGETS[target][1] else []) + [str(a) for a in args]
        _, out, _ = run(cmd, timeout=timeout, cwd=self.dir)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if not lines:
            die(f"no JSON from {' '.join(cmd)}:\n{out[-1000:]}")
        return json.loads(lines[-1])

    def tls_witness_before(self, target):
        if target == "native":
            return self.native.status("Ssl_accepts")
        if target in ("proxy", "proxy_btls"):
            return self.proxy_of(target).outcomes()
        return None

    def proxy_of(self, target):
        return self.proxy_btls if target == "proxy_btls" else self.proxy

    def tls_witness_after(self, target, before, at_least):
        """Native: Ssl_accepts grew by >= at_least. Proxy: no plaintext or TLS refusals counted."""
        if target == "native":
            grown = self.native.status("Ssl_accepts") - before
            if grown < at_least:
                die(f"native: Ssl_accepts grew by {grown}, expected >= {at_least}: not TLS?")
        elif target in ("proxy", "proxy_btls"):
            after = self.proxy_of(target).outcomes()
            for bad in ("insecure_transport", "tls_failed", "backend_failed"):
                if after.get(bad, 0) > before.get(bad, 0):
                    die(f"proxy: {after[bad] - before.get(bad, 0)} connections ended as {bad}")

    # ---- parts

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
        order = ["proxy", "native", "haproxy", "plain", "proxy_btls"]
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
                log(f"P1 round {r + 1}/{self.rounds} {target:8} {result['qps']:10.0f} qps  p95 {result['p95_ms']} ms")

    def p2(self):
        order = ["proxy", "native", "haproxy", "plain", "proxy_btls"]
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
        # (key, target, resume)
        order = [("proxy", "proxy", False), ("native", "native", False), ("proxy_resume", "proxy", True),
                 ("native_resume", "native", True), ("haproxy", "haproxy", False), ("plain", "plain", False),
                 ("proxy_btls", "proxy_btls", False)]
        ca = ["--ca", self.certs / "ca.pem"]
        warm = min(self.warmup, 3)
        raw = self.raw.setdefault("P3", {key: [] for key, _, _ in order})
        if warm:
            log(f"P3: warm-up {warm}s per target")
            for key, target, resume in order:
                self.load_client("connect", target, "--threads", self.p3_threads, "--seconds", warm,
                                 *(ca if TARGETS[target][1] else []), *(["--resume"] if resume else []),
                                 timeout=warm + 120)
        for r in range(self.rounds):
            for key, target, resume in order:
                before = self.tls_witness_before(target)
                result = self.load_client("connect", target, "--threads", self.p3_threads, "--seconds",
                                          self.p3_seconds, *(ca if TARGETS[target][1] else []),
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

    def report(self):
        med = lambda xs: statistics.median(xs) if xs else None  # noqa: E731
        rows = []  # (metric, {target: text}, ratio_native, ratio_haproxy, target_text, verdict)
        checks = self.results["checks"]

        def ratio(a, b):
            return a / b if a is not None and b else None

        def verdict(ok):
            return "met" if ok else "**missed**"

        if "P1" in self.raw:
            r = self.raw["P1"]
            qps = {t: med([x["qps"] for x in r[t]]) for t in r}
            p95 = {t: med([x["p95_ms"] for x in r[t]]) for t in r}
            rn, rh = ratio(qps["proxy"], qps["native"]), ratio(qps["proxy"], qps["haproxy"])
            ok = rn >= 0.6 and rh >= 1.0
            checks["P1"] = {"proxy_vs_native": rn, "proxy_vs_haproxy": rh, "met": ok}
            why = [f"{r:.3f}× {name}" for r, name, goal in ((rh, "HAProxy", 1.0), (rn, "native", 0.6)) if r < goal]
            rows.append((f"P1 point select, {self.p1_threads} threads: qps", {t: f"{v:,.0f}" for t, v in qps.items()},
                         rn, rh, "≥ 1.0× HAProxy and ≥ 0.6× native",
                         verdict(ok) + (f" ({', '.join(why)})" if why else "")))
            rows.append(("P1 p95 latency (ms)", {t: f"{v:.2f}" for t, v in p95.items()},
                         ratio(p95["proxy"], p95["native"]), ratio(p95["proxy"], p95["haproxy"]), "reported", ""))
            if "proxy_btls" in qps:
                rows.append(self.backend_tls_row("P1 qps", qps, "{:,.0f}", ratio))
        if "P2" in self.raw:
            r = self.raw["P2"]
            mbs = {t: med([x["mb_per_sec"] for x in r[t]]) for t in r}
            rn, rh = ratio(mbs["proxy"], mbs["native"]), ratio(mbs["proxy"], mbs["haproxy"])
            checks["P2"] = {"proxy_vs_native": rn, "met": rn >= 0.9}
            rows.append(("P2 bulk read, 1 client: MB/s", {t: f"{v:,.1f}" for t, v in mbs.items()}, rn, rh,
                         "≥ 0.9× native", verdict(rn >= 0.9)))
            if "proxy_btls" in mbs:
                rows.append(self.backend_tls_row("P2 MB/s", mbs, "{:,.1f}", ratio))
        if "P3" in self.raw:
            r = self.raw["P3"]
            lps = {k: med([x["logins_per_sec"] for x in r[k]]) for k in r}
            rn, rh = ratio(lps["proxy"], lps["native"]), ratio(lps["proxy"], lps["haproxy"])
            checks["P3_full"] = {"proxy_vs_native": rn, "met": rn >= 1.0}
            rows.append((f"P3 logins/s, {self.p3_threads} threads, full handshake",
                         {t: f"{lps[t]:,.0f}" for t in ("proxy", "native", "haproxy", "plain")}, rn, rh,
                         "≥ 1.0× native", verdict(rn >= 1.0)))
            rr = ratio(lps["proxy_resume"], lps["native_resume"])
            checks["P3_resumed"] = {"proxy_vs_native": rr, "met": rr >= 2.0}
            rows.append(("P3 logins/s with resumption (`--resume`)",
                         {"proxy": f"{lps['proxy_resume']:,.0f}", "native": f"{lps['native_resume']:,.0f}"}, rr, None,
                         "≥ 2.0× native (same client)", verdict(rr >= 2.0)))
            # What a MariaDB client sees: Connector/C (libmariadb: the mariadb CLI, PHP, Python and
            # sysbench) never offers a session, so MariaDB always does a full handshake for it, while
            # a client that does resume gets the ticket path from the proxy.
            rf = ratio(lps["proxy_resume"], lps["native"])
            checks["P3_resumed_vs_full"] = {"proxy_vs_native": rf, "met": rf >= 2.0}
            rows.append(("P3 proxy with resumption ÷ native full handshake",
                         {"proxy": f"{lps['proxy_resume']:,.0f}", "native": f"{lps['native']:,.0f}"}, rf, None,
                         "≥ 2.0× native (libmariadb never resumes)", verdict(rf >= 2.0)))
            resumed = {}
            for key, t in (("proxy_resume", "proxy"), ("native_resume", "native")):
                got = sum(x.get("resumed", 0) for x in r[key])
                total = sum(x.get("logins", 0) for x in r[key])
                resumed[t] = f"{got:,} of {total:,} ({100 * got / total if total else 0:.0f} %)"
            errors = {k: sum(x.get("errors", 0) for x in r[k]) for k in r}
            rows.append(("P3 resumed logins (all rounds)", resumed, None, None, "reported", ""))
            if "proxy_btls" in lps:
                rows.append(self.backend_tls_row("P3 logins/s (full client handshake)", lps, "{:,.0f}", ratio))
            rows.append(("P3 errors (all rounds, full / resumed)",
                         {"proxy": f"{errors['proxy']} / {errors['proxy_resume']}",
                          "native": f"{errors['native']} / {errors['native_resume']}",
                          "haproxy": str(errors["haproxy"]), "plain": str(errors["plain"])}, None, None, "", ""))
        if "P4" in self.raw:
            r = self.raw["P4"]
            for i, count in enumerate(self.hold_counts):
                p, n = r["proxy"][i], r["native"][i]
                kp, kn = p.get("kib_per_conn"), n.get("kib_per_conn")
                ok = kp is not None and kp <= 48 and p["errors"] == 0
                checks[f"P4_{count}"] = {"proxy_kib_per_conn": kp, "native_kib_per_conn": kn,
                                         "errors": p["errors"], "met": ok}
                fmt = lambda v: "failed" if v is None else f"{v:.1f}"  # noqa: E731
                rows.append((f"P4 RSS growth per idle TLS conn (KiB), {count:,} held", {"proxy": fmt(kp), "native": fmt(kn)},
                             ratio(kp, kn), None, "≤ 48 KiB" + (", no errors" if count == max(self.hold_counts) else ""),
                             verdict(ok)))
                rows.append((f"P4 {count:,} held: errors; proxy fds before / held / after close",
                             {"proxy": f"{p['errors']}; {p['fds_before']} / {p.get('fds_held', '?')} / "
                                       f"{p['fds_after_close']}",
                              "native": f"{n['errors']}; Threads_connected {n.get('threads_connected', '?')}"},
                             None, None, "", ""))

        head = ["Metric", "proxy (TLS)", "native TLS", "HAProxy (plain)", "direct (plain)", "proxy ÷ native",
                "proxy ÷ HAProxy", "target", "result"]
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join([" --- "] + [" ---: "] * 6 + [" --- "] * 2) + "|"]
        for metric, values, rn, rh, target_text, result in rows:
            cells = [metric] + [values.get(t, "–") for t in ("proxy", "native", "haproxy", "plain")]
            cells += [f"{rn:.2f}×" if rn is not None else "", f"{rh:.2f}×" if rh is not None else "", target_text,
                      result]
            lines.append("| " + " | ".join(cells) + " |")
        self.table = "\n".join(lines)
        return self.table

    @staticmethod
    def backend_tls_row(metric, values, fmt, ratio):
        """backend_ssl: in the proxy column, and in the ratio column against native TLS (the same
        server the proxy then talks TLS to)."""
        return (f"{metric}, proxy with backend_ssl to the native server (vs proxy to plain: "
                f"{ratio(values['proxy_btls'], values['proxy']):.2f}×)",
                {"proxy": fmt.format(values["proxy_btls"]), "native": fmt.format(values["native"])},
                ratio(values["proxy_btls"], values["native"]), None, "reported", "")

    def raw_compact(self):
        out = []
        for part, targets in self.raw.items():
            for key, runs in targets.items():
                if part == "P1":
                    vals = ", ".join(f"{x['qps']:.0f} qps/{x['p95_ms']} ms" for x in runs)
                elif part == "P2":
                    vals = ", ".join(f"{x['mb_per_sec']:.1f}" for x in runs) + " MB/s"
                elif part == "P3":
                    vals = ", ".join(f"{x['logins_per_sec']:.0f} (r{x.get('resumed', 0)}, e{x.get('errors', 0)})"
                                     for x in runs) + " logins/s"
                else:
                    vals = "; ".join(f"{x['count']}: {x.get('rss_before_kib')}→{x.get('rss_after_kib', '?')} KiB, "
                                     f"{x.get('kib_per_conn', '?')} KiB/conn, opened in {x['open_seconds']} s, "
                                     f"fds {x['fds_before']}→{x.get('fds_held', '?')}→{x['fds_after_close']}, "
                                     f"errors {x['errors']}" for x in runs)
                out.append(f"- {part} {key}: {vals}")
        return "\n".join(out)

    def generated_section(self, elapsed):
        m = self.results["machine"]
        s = self.results["settings"]
        return f"""<!-- bench:begin -->
<!-- Generated by scripts/bench/bench.py (`make bench`); edits between these markers are overwritten. -->

Run of {self.started_at.strftime('%Y-%m-%d %H:%M UTC')}, {elapsed / 60:.1f} minutes; parts {' '.join(self.parts)};
{s['rounds']} rounds, medians; P1 {s['p1_seconds']} s per run after a {s['warmup_seconds']} s warm-up,
P2 {s['bulk_repeat']} × 120 MB per run, P3 {s['p3_seconds']} s per run.

{self.table}

Negotiated TLS: proxy {self.results.get('tls', {}).get('proxy', '?')}, native {self.results.get('tls', {}).get('native', '?')}.

Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}; load average (1/5/15 min)
{' / '.join(f'{x:.2f}' for x in m['loadavg_at_start'])} at the start, {' / '.join(f'{x:.2f}' for x in m.get('loadavg_at_end', ()))} at the end.
Versions:
- {m['mariadbd']}
- {m['haproxy'].split(' - ')[0]}
- {m['sysbench']}
- {m['openssl']}
- {m['swift']}
- {m['proxy']}, commit {m['commit']}

Raw numbers per round, in the order run (P3: r = resumed logins, e = errors):

{self.raw_compact()}
<!-- bench:end -->"""

    def update_docs(self, elapsed):
        text = self.doc.read_text() if self.doc.exists() else ""
        begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
        section = self.generated_section(elapsed)
        if begin in text and end in text:
            text = text[: text.index(begin)] + section + text[text.index(end) + len(end):]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        self.doc.write_text(text)
        log(f"updated {self.doc}")

    def serve(self):
        """BENCH_SERVE=1: set everything up, then keep it running for profiling until Ctrl-C/SIGTERM."""
        self.prepare_sysbench()
        self.build_load_client()
        facts = {"BENCH_DIR": self.dir, "PROXY_PID": self.proxy.pid, "PROXY_PORT": self.proxy.port,
                 "NATIVE_PORT": self.native.port, "PLAIN_PORT": self.plain.port, "HAPROXY_PORT": self.haproxy.port,
                 "LOAD_CLIENT": self.load, "SYSBENCH_DIR": self.sbdir, "BENCH_USER": BENCH_USER,
                 "BENCH_PASSWORD": BENCH_PASSWORD}
        (self.dir / "bench.env").write_text("".join(f"{k}={v}\n" for k, v in facts.items()))
        log(f"serving; facts in {self.dir}/bench.env; Ctrl-C or SIGTERM stops everything")
        while True:
            signal.pause()

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
