"""Process and client helpers for the integration suite (no pytest imports here)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = REPO_ROOT / "scripts"
DEFAULT_PROXY_BIN = REPO_ROOT / ".build" / "release" / "mariadb-tls-proxy"
CLIENT_PLUGIN_DIR = "/usr/lib/x86_64-linux-gnu/libmariadb3/plugin"

# Set by scripts/sanitize.sh ("address" or "thread") when PROXY_BIN is a sanitizer build: a debug
# build several times slower, whose allocator keeps freed memory in quarantine.
UNDER_SANITIZER = os.environ.get("PROXY_UNDER_SANITIZER") or None

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 45.0

INSECURE_TRANSPORT_MSG = "Connections using insecure transport are prohibited while --require_secure_transport=ON."


def clean_env() -> dict[str, str]:
    """The environment for child clients: no MYSQL_*/MARIADB_* surprises, C locale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYSQL", "MARIADB"))}
    env["LC_ALL"] = "C"
    return env


def which(tool: str) -> str | None:
    return shutil.which(tool) or next(
        (p for p in (f"/usr/sbin/{tool}", f"/usr/bin/{tool}") if os.access(p, os.X_OK)), None
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_listening(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------------------
# Option files and the proxy process
# ---------------------------------------------------------------------------


def render_value(value: object) -> str:
    if value is True:
        return "ON"
    if value is False:
        return "OFF"
    return str(value)


def write_option_file(path: Path, options: dict[str, object], *, group: str = "mariadb-tls-proxy",
                      prologue: str = "") -> Path:
    """Write `[group]` + key=value lines; options whose value is None are omitted."""
    lines = [f"# written by Tests/Integration for {path.parent.name}"]
    if prologue:
        lines.append(prologue.rstrip("\n"))
    lines.append(f"[{group}]")
    for key, value in options.items():
        if value is None:
            continue
        lines.append(f"{key}={render_value(value)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def option_file_line(path: Path, key: str) -> int:
    """1-based line number of the first `key=` line in an option file."""
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if re.match(rf"\s*{re.escape(key)}\s*(=|$)", line):
            return i
    raise KeyError(key)


class ProxyProcess:
    """A running mariadb-tls-proxy; stderr is followed in a thread and kept in a file."""

    def __init__(self, binary: Path, config: Path, workdir: Path, *, port: int | None,
                 socket_path: str | None, extra_args: tuple[str, ...] = ()):
        self.binary = binary
        self.config = config
        self.workdir = workdir
        self.port = port
        self.socket = socket_path
        self.argv = [str(binary), f"--defaults-file={config}", *extra_args]
        self.stderr_path = workdir / "proxy.stderr.log"
        self.stdout_path = workdir / "proxy.stdout.log"
        self._lines: list[str] = []
        self._cond = threading.Condition()
        self._eof = False
        self._stdout = open(self.stdout_path, "wb")
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=self._stdout, stderr=subprocess.PIPE,
            cwd=workdir, env=clean_env(), start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read_stderr, name=f"proxy-stderr-{self.proc.pid}", daemon=True)
        self._reader.start()
        self.returncode: int | None = None

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        with open(self.stderr_path, "w", encoding="utf-8") as log:
            for raw in iter(self.proc.stderr.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\n")
                log.write(line + "\n")
                log.flush()
                with self._cond:
                    self._lines.append(line)
                    self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    # -- log access -----------------------------------------------------------
    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_lines(self) -> list[str]:
        with self._cond:
            return list(self._lines)

    def log_text(self) -> str:
        return "\n".join(self.log_lines())

    def closed_lines(self) -> list[str]:
        return [l for l in self.log_lines() if "connection closed" in l]

    def wait_for_log(self, pattern: str | re.Pattern, *, timeout: float = 10.0, start: int = 0,
                     count: int = 1) -> list[str]:
        """Wait until `count` lines from index `start` on match `pattern` (substring or regex)."""
        rx = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [l for l in self._lines[start:] if rx.search(l)]
                if len(found) >= count:
                    return found
                if self._eof:
                    raise AssertionError(
                        f"proxy exited (rc={self.proc.poll()}) before logging {rx.pattern!r} x{count}; "
                        f"stderr:\n{self._tail()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"proxy did not log {rx.pattern!r} x{count} within {timeout}s; stderr:\n{self._tail()}")
                self._cond.wait(remaining)

    def _tail(self, n: int = 60) -> str:
        text = "\n".join(self._lines[-n:]) or "(empty)"
        try:
            out = self.stdout_path.read_text(errors="replace")[-2000:]
        except OSError:
            out = ""
        return text + (f"\n---- stdout ----\n{out}" if out.strip() else "")

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> "ProxyProcess":
        self.wait_for_log("ready for connections", timeout=timeout)
        return self

    # -- lifecycle ------------------------------------------------------------
    def running(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"proxy pid {self.pid} still running after {timeout}s; stderr:\n{self._tail()}")
        self._reader.join(timeout=5)
        self._stdout.close()
        self.returncode = rc
        return rc

    def stop(self, *, timeout: float = STOP_TIMEOUT, expect_rc: int | None = 0) -> int:
        """SIGTERM and wait; asserts the exit code (0 by default)."""
        if self.returncode is not None:
            rc = self.returncode
        else:
            already_dead = self.proc.poll() is not None
            self.signal(signal.SIGTERM)
            try:
                rc = self.wait(timeout)
            except AssertionError:
                self.kill()
                raise
            if already_dead and expect_rc is not None and rc != expect_rc:
                raise AssertionError(f"proxy had already exited with rc={rc}; stderr:\n{self._tail()}")
        if expect_rc is not None and rc != expect_rc:
            raise AssertionError(f"proxy exited with rc={rc} after SIGTERM (expected {expect_rc}); "
                                 f"stderr:\n{self._tail()}")
        return rc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.returncode = self.proc.returncode
        self._reader.join(timeout=5)
        if not self._stdout.closed:
            self._stdout.close()


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    def __iter__(self):  # allows `rc, out, err = run(...)`
        return iter((self.returncode, self.stdout, self.stderr))

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run(argv: list[str], *, timeout: float = 60.0, input: str | None = None, cwd: Path | None = None) -> Run:
    try:
        p = subprocess.run(argv, input=input, stdin=None if input is not None else subprocess.DEVNULL,
                           capture_output=True, text=True, errors="replace", timeout=timeout,
                           env=clean_env(), cwd=cwd)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{argv[0]} did not finish within {timeout}s: {' '.join(map(str, argv))}\n"
                             f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}")
    return Run(p.returncode, p.stdout, p.stderr)


# ---------------------------------------------------------------------------
# A private mariadbd (scripts/start-backend.sh)
# ---------------------------------------------------------------------------
def backend_facts(start_output: str) -> dict[str, str]:
    """The KEY=VALUE lines scripts/start-backend.sh prints (the same as its backend.env)."""
    return dict(line.split("=", 1) for line in start_output.splitlines() if "=" in line)


@dataclass
class Backend:
    """A private mariadbd started by scripts/start-backend.sh."""
    dir: Path
    port: int
    socket: str
    pid: int
    admin_user: str

    @classmethod
    def from_facts(cls, facts: dict[str, str]) -> "Backend":
        return cls(dir=Path(facts["BACKEND_DIR"]), port=int(facts["BACKEND_PORT"]), socket=facts["BACKEND_SOCKET"],
                   pid=int(facts["BACKEND_PID"]), admin_user=facts["BACKEND_ADMIN_USER"])

    @property
    def error_log(self) -> Path:
        return self.dir / "error.log"

    def sql(self, statement: str, *, timeout: float = 60) -> str:
        """Run SQL as the administrative account through the backend socket; returns stdout."""
        r = run([which("mariadb") or "mariadb", "--no-defaults", f"--socket={self.socket}",
                 f"--user={self.admin_user}", "--batch", "--skip-column-names",
                 f"--execute={statement}"], timeout=timeout)
        assert r.returncode == 0, f"backend SQL failed: {statement}\n{r.stderr}"
        return r.stdout

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
            return True
        except OSError:
            return False


# ---------------------------------------------------------------------------
# The mariadb CLI
# ---------------------------------------------------------------------------


def mariadb_argv(*, port: int | None = None, socket_path: str | None = None, host: str = "127.0.0.1",
                 user: str = "app", password: str | None = "app-pass", ssl: bool = True, ca: str | None = None,
                 verify: bool = True, cert: str | None = None, key: str | None = None,
                 execute: str | None = None, database: str | None = None, batch: bool = False,
                 extra: tuple[str, ...] | list[str] = ()) -> list[str]:
    """Build a `mariadb --no-defaults …` command line. 10.11 needs --ssl to use TLS at all."""
    argv = [which("mariadb") or "mariadb", "--no-defaults", "--connect-timeout=20"]
    if socket_path:
        argv += [f"--socket={socket_path}"]
    else:
        argv += [f"--host={host}", f"--port={port}", "--protocol=TCP"]
    argv += [f"--user={user}"]
    if password is not None:
        argv += [f"--password={password}"]
    if ssl:
        argv += ["--ssl"]
        if ca:
            argv += [f"--ssl-ca={ca}"]
        if verify:
            argv += ["--ssl-verify-server-cert"]
        if cert:
            argv += [f"--ssl-cert={cert}"]
        if key:
            argv += [f"--ssl-key={key}"]
    else:
        argv += ["--skip-ssl"]
    if os.path.isdir(CLIENT_PLUGIN_DIR):
        argv += [f"--plugin-dir={CLIENT_PLUGIN_DIR}"]
    if database:
        argv += [f"--database={database}"]
    if batch:
        argv += ["--batch", "--skip-column-names"]
    argv += list(extra)
    if execute is not None:
        argv += [f"--execute={execute}"]
    return argv


def mariadb(timeout: float = 60.0, **kwargs) -> Run:
    """Run the mariadb CLI; returns Run(returncode, stdout, stderr)."""
    return run(mariadb_argv(**kwargs), timeout=timeout)


def mariadb_stream_sha256(timeout: float = 180.0, **kwargs) -> tuple[int, str, int, str]:
    """Run the CLI, hashing stdout as it streams. Returns (rc, sha256 hex, byte count, stderr)."""
    argv = mariadb_argv(**kwargs)
    h = hashlib.sha256()
    total = 0
    deadline = time.monotonic() + timeout
    with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=clean_env()) as p:
        err_chunks: list[bytes] = []
        t = threading.Thread(target=lambda: err_chunks.append(p.stderr.read()), daemon=True)  # type: ignore[union-attr]
        t.start()
        timer = threading.Timer(timeout, p.kill)
        timer.start()
        try:
            assert p.stdout is not None
            while chunk := p.stdout.read(1 << 20):
                h.update(chunk)
                total += len(chunk)
            rc = p.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            timer.cancel()
        t.join(timeout=10)
    if time.monotonic() > deadline:
        raise AssertionError(f"mariadb did not finish within {timeout}s: {' '.join(argv)}")
    return rc, h.hexdigest(), total, b"".join(err_chunks).decode("utf-8", "replace")


SSL_CIPHER_RE = re.compile(r"^SSL:\s+Cipher in use is (\S+)", re.M)
SSL_NOT_IN_USE_RE = re.compile(r"^SSL:\s+Not in use", re.M)


def status_cipher(status_output: str) -> str | None:
    """The cipher from `mariadb -e status`, or None if it shows 'Not in use'."""
    m = SSL_CIPHER_RE.search(status_output)
    return m.group(1) if m else None


# ---------------------------------------------------------------------------
# openssl s_client
# ---------------------------------------------------------------------------


def s_client(port: int, *args: str, timeout: float = 30.0) -> Run:
    """`openssl s_client -starttls mysql -connect 127.0.0.1:PORT ARGS… </dev/null`."""
    argv = [which("openssl") or "openssl", "s_client", "-starttls", "mysql", "-connect", f"127.0.0.1:{port}",
            *args]
    return run(argv, timeout=timeout)


CIPHER_IS_RE = re.compile(r"Cipher is (\S+)")


def s_client_cipher(output: str) -> str | None:
    """The negotiated cipher from s_client output; None if absent or '(NONE)'."""
    for m in CIPHER_IS_RE.finditer(output):
        if m.group(1) != "(NONE)":
            return m.group(1)
    return None


def s_client_protocol(output: str) -> str | None:
    """The negotiated protocol version from s_client output.

    TLS <= 1.2 prints an SSL-Session block ("Protocol  : TLSv1.2"); for TLS 1.3 that block only
    appears after a session ticket, but the "New, TLSv1.3, Cipher is ..." line names it.
    """
    m = re.search(r"^\s*Protocol\s*:\s*(TLSv[\d.]+|SSLv\d)", output, re.M)
    if m:
        return m.group(1)
    m = re.search(r"New, (TLSv1\.3), Cipher is (?!\(NONE\))", output)
    return m.group(1) if m else None


class GeneralLog:
    """A backend's general log, from the current end on."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = path.stat().st_size

    def new_text(self) -> str:
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            return f.read().decode("utf-8", "replace")
