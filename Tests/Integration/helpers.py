"""Shared helpers of the integration suite (no pytest imports here): the clients' environment,
ports, running a command to completion, the mariadb CLI and openssl s_client, polling."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = REPO_ROOT / "scripts"
DEFAULT_PROXY_BIN = REPO_ROOT / ".build" / "release" / "mariadb-tls-proxy"
CLIENT_PLUGIN_DIR = "/usr/lib/x86_64-linux-gnu/libmariadb3/plugin"

# Set by scripts/sanitize.sh ("address" or "thread") when PROXY_BIN is a sanitizer build: a debug
# build several times slower, whose allocator keeps freed memory in quarantine.
UNDER_SANITIZER = os.environ.get("PROXY_UNDER_SANITIZER") or None

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


# ---------------------------------------------------------------------------
# Polling and tallies
# ---------------------------------------------------------------------------
def wait_until(predicate, *, timeout: float, interval: float = 0.05, what: str = "condition") -> None:
    """Poll ``predicate`` (for states nothing signals, such as a file or a counter)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(interval)


@dataclass
class Tally:
    """Thread-safe counters and first errors for client pools."""
    ok: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def success(self) -> None:
        with self.lock:
            self.ok += 1

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)
