"""Fixtures and helpers of the backend-identity suites (test_backend_identity_*.py), loaded by
conftest.py: the backend's view of the client (docs/security.md, "What the backend sees").

- backend_proxy_protocol = v1 | v2: a real mariadbd with proxy_protocol_networks matches accounts,
  and USER(), against the real client address; clients connect from 127.0.0.2 / 127.0.0.3 (and
  ::1) by binding their source address in the scripted client (wire.py; the mariadb CLI has no
  --bind-address). Without the option the backend sees the proxy.
- A unix-socket backend is refused when the proxy would run as root or as the socket's owner
  (the backend would authenticate the proxy's own OS identity via unix_socket): at startup, by
  --check and on reload; the owner case against a mariadbd that really runs as `mysql`.
- The notice when neither backend_proxy_protocol nor strict_accounts is on, and the documented
  export of the backend's accounts into the accounts file.

The private backend and every file a proxy running as `nobody` must read live in a directory of
each test module's own that any user may traverse (pytest's base temp directory is root-only).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

import backends
import helpers
import processes
import wire

AS_ROOT = os.geteuid() == 0
UNPRIVILEGED = "nobody"
# The server's own OS user (the packaged mariadbd runs as it and owns its socket).
SOCKET_OWNER = "mysql"
NOTICE = "backend_proxy_protocol and strict_accounts are both OFF"
REFUSAL = "MariaDB authenticates unix-socket connections by the OS user of the connecting process"

needs_root = pytest.mark.skipif(not AS_ROOT, reason="running the proxy as another user needs root")


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def public_dir() -> Path:
    d = Path(tempfile.mkdtemp(prefix="mtp-bi-"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def pp_backend(prerequisites, public_dir):
    """A mariadbd that accepts PROXY headers from the proxy (TCP from 127.0.0.1, and its socket)."""
    b = backends.Backend.start(
        public_dir / "backend",
        extra_opts=["--skip-name-resolve", "--proxy-protocol-networks=127.0.0.1,localhost"])
    try:
        b.sql("CREATE USER 'x'@'127.0.0.2' IDENTIFIED BY 'x-pass'")
        yield b
    finally:
        b.stop()


@pytest.fixture(scope="module")
def public_tls(certs, public_dir) -> dict[str, str]:
    """The server certificate, key and CA, readable by the unprivileged user (for reloads)."""
    d = public_dir / "tls"
    d.mkdir(mode=0o755, exist_ok=True)
    paths = {}
    for option, source in (("ssl_cert", certs.server_cert), ("ssl_key", certs.server_key), ("ssl_ca", certs.ca)):
        target = d / Path(source).name
        shutil.copyfile(source, target)
        os.chmod(target, 0o600 if option == "ssl_key" else 0o644)
        if option == "ssl_key" and AS_ROOT:
            entry = pwd.getpwnam(UNPRIVILEGED)
            os.chown(target, entry.pw_uid, entry.pw_gid)
        paths[option] = str(target)
    return paths


@pytest.fixture(scope="module")
def mysql_run_backend(prerequisites, public_dir) -> str:
    """A mariadbd started by root with --user=mysql, as packaged servers run: its socket (the only
    listener) belongs to `mysql`, and mariadb-install-db made 'mysql'@'localhost' VIA unix_socket.
    Returns the socket path."""
    if not AS_ROOT:
        pytest.skip("starting mariadbd as another user needs root")
    entry = pwd.getpwnam(SOCKET_OWNER)
    d = public_dir / "as-mysql"
    for sub in (d, d / "tmp"):
        sub.mkdir(mode=0o755)
        os.chown(sub, entry.pw_uid, entry.pw_gid)
    sock = d / "mysqld.sock"
    r = helpers.run([helpers.which("mariadb-install-db"), "--no-defaults", f"--datadir={d / 'data'}",
                     f"--user={SOCKET_OWNER}", f"--tmpdir={d / 'tmp'}", "--auth-root-authentication-method=socket",
                     "--skip-test-db"], timeout=120)
    assert r.returncode == 0, r.output
    # Without --log-error mariadbd logs to stderr, where its "ready for connections" line is read.
    server = processes.LoggedProcess(
        [helpers.which("mariadbd"), "--no-defaults", "--skip-ssl", "--skip-networking", f"--user={SOCKET_OWNER}",
         f"--datadir={d / 'data'}", f"--socket={sock}", f"--pid-file={d / 'mysqld.pid'}",
         f"--tmpdir={d / 'tmp'}", "--innodb-buffer-pool-size=32M", "--skip-log-bin"],
        workdir=d, name="mariadbd", socket_path=str(sock))
    try:
        server.wait_ready(timeout=120)
        yield str(sock)
    finally:
        try:
            server.stop(timeout=60)
        finally:
            server.kill()


def tcp_backend(b: backends.Backend) -> dict[str, object]:
    return {"backend_host": "127.0.0.1", "backend_port": b.port, "backend_socket": None}


def socket_backend(b: backends.Backend, user: str | None = UNPRIVILEGED) -> dict[str, object]:
    return {"backend_host": None, "backend_port": None, "backend_socket": b.socket, "user": user}


class owned_by:
    """Hands the backend's socket file to another user for the duration of a `with` block."""

    def __init__(self, path: str, user: str):
        self.path, self.uid = path, pwd.getpwnam(user).pw_uid

    def __enter__(self):
        self.saved = os.stat(self.path).st_uid
        os.chown(self.path, self.uid, -1)

    def __exit__(self, *exc):
        os.chown(self.path, self.saved, -1)


def sql_user(p: processes.LoggedProcess, certs, *, source: str = "127.0.0.1", unix: bool = False,
             user: str = "x", password: str = "x-pass") -> helpers.Run:
    """SELECT USER() through the proxy: over TLS from the loopback address `source` (the scripted
    client binds it; the mariadb CLI cannot), or with the CLI over the proxy's unix socket."""
    if unix:
        return helpers.mariadb(socket_path=p.socket, ssl=False, user=user, password=password, batch=True,
                               execute="SELECT USER()")
    ipv6 = ":" in source
    sock = socket.socket(socket.AF_INET6 if ipv6 else socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(20)
    sock.bind((source, 0))
    sock.connect(("::1" if ipv6 else "127.0.0.1", p.port))
    with wire.Connection(sock, timeout=20, server_hostname="127.0.0.1") as c:
        try:
            c.login(user, password, tls=wire.client_tls_context(certs.ca))
            rows = c.query("SELECT USER()")
        except wire.ServerError as e:
            return helpers.Run(1, "", f"ERROR {e.err.code} ({e.err.sqlstate}): {e.err.message}\n")
    return helpers.Run(0, f"{rows[0][0]}\n", "")


def assert_user(r: helpers.Run, expected: str) -> None:
    assert r.returncode == 0, r.output
    assert r.stdout.strip() == expected, r.output


def assert_denied(r: helpers.Run, user: str, host: str) -> None:
    assert r.returncode == 1, r.output
    assert f"ERROR 1045 (28000): Access denied for user '{user}'@'{host}'" in r.stderr, r.stderr
