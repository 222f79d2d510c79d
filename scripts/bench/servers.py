"""servers.py — the servers under test: a private mariadbd (Backend), the proxy (Proxy) and HAProxy.

Each start waits for a readiness signal (a log line, or for HAProxy a greeting relayed from the
backend), never a fixed sleep, and registers its stop with PROCS.
"""

import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from harness import PROCS, SCRIPTS, die, free_port, kill_proc, run


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
    """mariadb-tls-proxy in front of a Backend over TCP. require_secure_transport=False makes it the
    plaintext-relay reference: the same relay, used by a plaintext client."""

    def __init__(self, binary, directory, backend, certs, extra="", require_secure_transport=True):
        self.binary = binary
        self.require_secure_transport = require_secure_transport
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
require_secure_transport = {'ON' if self.require_secure_transport else 'OFF'}
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


    @property
    def pid(self):
        return self.proc.pid
