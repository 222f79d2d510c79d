"""The backend's view of the client (docs/security.md, "What the backend sees").

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
this module's own that any user may traverse (pytest's base temp directory is root-only).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

import backends
import helpers
import option_files
import processes
import wire
from helpers import REPO_ROOT

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


# ---------------------------------------------------------------------------
# PROXY protocol
# ---------------------------------------------------------------------------
TRANSPORTS = ["tcp", pytest.param("socket", marks=needs_root)]


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_backend_matches_accounts_against_the_real_client(start_proxy, pp_backend, certs, transport, version):
    backend = tcp_backend(pp_backend) if transport == "tcp" else socket_backend(pp_backend)
    p = start_proxy({**backend, "backend_proxy_protocol": version})
    # 'x'@'127.0.0.2' is reachable from 127.0.0.2 only, and USER() names the client's address.
    assert_user(sql_user(p, certs, source="127.0.0.2"), "x@127.0.0.2")
    assert_denied(sql_user(p, certs, source="127.0.0.3"), "x", "127.0.0.3")
    assert_user(sql_user(p, certs, source="127.0.0.3", user="app", password="app-pass"), "app@127.0.0.3")
    # Clients of the proxy's own socket: v2 sends AF_UNIX (MariaDB: localhost); v1 has no unix family
    # and sends UNKNOWN, so the backend keeps the proxy's address (127.0.0.1 over TCP).
    expected = "app@localhost" if version == "v2" or transport == "socket" else "app@127.0.0.1"
    assert_user(sql_user(p, certs, unix=True, user="app", password="app-pass"), expected)
    assert NOTICE not in p.log_text()


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_ipv4_mapped_clients_are_sent_as_ipv4_and_ipv6_clients_as_ipv6(start_proxy, pp_backend, certs, version):
    # Listening on IPv6 sockets: the IPv4-mapped one sees 127.0.0.2 as ::ffff:127.0.0.2.
    p = start_proxy({**tcp_backend(pp_backend), "backend_proxy_protocol": version,
                     "bind_address": "::ffff:127.0.0.1,::1"})
    assert_user(sql_user(p, certs, source="127.0.0.2"), "x@127.0.0.2")
    assert_denied(sql_user(p, certs, source="127.0.0.3"), "x", "127.0.0.3")
    assert_user(sql_user(p, certs, source="::1", user="app", password="app-pass"), "app@::1")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_without_the_header_the_backend_sees_the_proxy(start_proxy, pp_backend, certs, transport):
    backend = tcp_backend(pp_backend) if transport == "tcp" else socket_backend(pp_backend)
    p = start_proxy(backend)
    proxy_host = "127.0.0.1" if transport == "tcp" else "localhost"
    assert_denied(sql_user(p, certs, source="127.0.0.2"), "x", proxy_host)
    assert_user(sql_user(p, certs, source="127.0.0.3", user="app", password="app-pass"), f"app@{proxy_host}")
    # ...which the proxy says at startup, naming what to do about it.
    notice = p.wait_for_log(NOTICE)[0]
    assert "What the backend sees" in notice, notice


def test_a_backend_that_does_not_trust_the_proxy_refuses_the_header(start_proxy, backend):
    # The session backend has no proxy_protocol_networks: it refuses the header (1130) and resets
    # the connection, which loses its answer; the proxy's log names the likely cause.
    p = start_proxy({"backend_proxy_protocol": "v2"})
    r = helpers.mariadb(socket_path=p.socket, ssl=False, batch=True, execute="SELECT 1")
    assert r.returncode == 1 and r.stdout == "", r.output
    line = p.wait_for_log("connection closed")[0]
    assert "closed the connection during login (is the proxy in its proxy_protocol_networks?)" in line, line


def test_the_notice_follows_reloads(start_proxy, pp_backend):
    p = start_proxy({**tcp_backend(pp_backend), "backend_proxy_protocol": "v2"})
    assert NOTICE not in p.log_text()
    text = p.config.read_text().replace("backend_proxy_protocol=v2", "backend_proxy_protocol=OFF")
    p.config.write_text(text)
    lines = processes.reload(p, succeeds=True)
    assert any(NOTICE in line for line in lines), "\n".join(lines)


# ---------------------------------------------------------------------------
# Never as root or as the socket's owner over a unix-socket backend
# ---------------------------------------------------------------------------
def assert_refused(r: helpers.Run, path: str, who: str) -> None:
    assert r.returncode == 78, r.output
    assert f"backend_socket '{path}': the proxy would run as {who}" in r.stderr, r.stderr
    assert REFUSAL in r.stderr and "user = mariadb-tls-proxy" in r.stderr and "backend_host" in r.stderr, r.stderr
    assert "ready for connections" not in r.output and "configuration OK" not in r.output


@needs_root
@pytest.mark.parametrize("check", [False, True], ids=["start", "check"])
@pytest.mark.parametrize("user", [None, "root"], ids=["user-unset", "user-root"])
def test_root_over_a_unix_socket_backend_is_refused(proxies, pp_backend, check, user):
    cfg = proxies.config(socket_backend(pp_backend, user=user))
    port = int(re.search(r"^port=(\d+)$", cfg.read_text(), re.M).group(1))
    r = proxies.run(cfg, *(["--check"] if check else []))
    why = "('user' is not set)" if user is None else "(user = root)"
    assert_refused(r, pp_backend.socket, f"root {why}")
    assert "root@localhost without a password" in r.stderr
    assert not helpers.port_is_listening(port)


@pytest.mark.parametrize("check", [False, True], ids=["start", "check"])
def test_the_server_user_owning_the_socket_is_refused(proxies, mysql_run_backend, check):
    # The danger is real: the server's own user may log in over the socket without a password.
    r = helpers.run([helpers.which("mariadb"), "--no-defaults", f"--socket={mysql_run_backend}", "--user=root", "-N", "-B",
                     "-e", f"SHOW CREATE USER '{SOCKET_OWNER}'@'localhost'"], timeout=30)
    assert r.returncode == 0 and "unix_socket" in r.stdout, r.output
    entry = pwd.getpwnam(SOCKET_OWNER)
    assert os.stat(mysql_run_backend).st_uid == entry.pw_uid
    backend = {"backend_host": None, "backend_port": None, "backend_socket": mysql_run_backend}
    cfg = proxies.config({**backend, "user": SOCKET_OWNER})
    r = proxies.run(cfg, *(["--check"] if check else []))
    assert_refused(r, mysql_run_backend, f"{SOCKET_OWNER} (uid {entry.pw_uid}), the owner of the backend's socket")
    assert f"{SOCKET_OWNER}@localhost without a password" in r.stderr
    # Another unprivileged user passes.
    r = proxies.run(proxies.config({**backend, "user": UNPRIVILEGED}), "--check")
    assert r.returncode == 0 and "configuration OK" in r.stdout, r.output


@needs_root
def test_an_unprivileged_user_may_use_the_unix_socket_backend(proxies, start_proxy, pp_backend, certs):
    r = proxies.run(proxies.config(socket_backend(pp_backend)), "--check")
    assert r.returncode == 0 and "configuration OK" in r.stdout, r.output
    p = start_proxy(socket_backend(pp_backend))
    p.wait_for_log(f"switched to user {UNPRIVILEGED}")
    assert_user(sql_user(p, certs, user="app", password="app-pass"), "app@localhost")


def test_root_cannot_reload_into_a_unix_socket_backend(start_proxy, pp_backend, certs):
    if not AS_ROOT:
        pytest.skip("the proxy runs as root only when the suite does")
    p = start_proxy(tcp_backend(pp_backend))
    text = p.config.read_text()
    p.config.write_text(re.sub(r"^backend_host=.*\n|^backend_port=.*\n", "", text, flags=re.M)
                        + f"backend_socket={pp_backend.socket}\n")
    lines = processes.reload(p, succeeds=False)
    assert any(f"Failed to reload: backend_socket '{pp_backend.socket}': the proxy would run as root" in l
               for l in lines), "\n".join(lines)
    # The previous backend (TCP: the backend sees 127.0.0.1) still serves new connections.
    assert_user(sql_user(p, certs, user="app", password="app-pass"), "app@127.0.0.1")


@needs_root
def test_reload_into_the_socket_owners_identity_is_refused_then_allowed(proxies, pp_backend, public_dir,
                                                                         public_tls, certs):
    # Everything the proxy re-reads as `nobody` on SIGHUP lives in the public directory.
    d = public_dir / "reload"
    d.mkdir(mode=0o755)
    options = {**proxies.default_options(d), **public_tls, **tcp_backend(pp_backend), "user": UNPRIVILEGED}
    cfg = option_files.write_option_file(d / "proxy.cnf", {k: v for k, v in options.items() if v is not None})
    os.chmod(cfg, 0o644)
    p = proxies.launch(cfg)
    assert_user(sql_user(p, certs, user="app", password="app-pass"), "app@127.0.0.1")

    text = cfg.read_text()
    cfg.write_text(re.sub(r"^backend_host=.*\n|^backend_port=.*\n", "", text, flags=re.M)
                   + f"backend_socket={pp_backend.socket}\n")
    uid = pwd.getpwnam(UNPRIVILEGED).pw_uid
    with owned_by(pp_backend.socket, UNPRIVILEGED):
        lines = processes.reload(p, succeeds=False)
    assert any(f"the proxy would run as {UNPRIVILEGED} (uid {uid}), the owner of the backend's socket" in l
               for l in lines), "\n".join(lines)
    assert_user(sql_user(p, certs, user="app", password="app-pass"), "app@127.0.0.1")
    # The socket back with its real owner: the same file reloads, and the backend sees localhost.
    processes.reload(p, succeeds=True)
    assert_user(sql_user(p, certs, user="app", password="app-pass"), "app@localhost")


# ---------------------------------------------------------------------------
# strict_accounts with the backend's accounts, exported as docs/security.md shows
# ---------------------------------------------------------------------------
def documented_export_command(doc: str = "security.md") -> str:
    """The export one-liner from the doc's "What the backend sees" section (its first two lines)."""
    text = (REPO_ROOT / "docs" / doc).read_text()
    section = text.split("## What the backend sees", 1)[1]
    block = re.search(r"```sh\n(.*?QUOTE\(user\).*?)```", section, re.S)
    assert block, f"no export command in docs/{doc}'s 'What the backend sees'"
    lines = [line.strip() for line in block.group(1).splitlines()]
    return lines[0] + "\n  " + lines[1] + "\n"


def test_both_docs_show_the_same_export_command():
    assert documented_export_command("operations.md") == documented_export_command("security.md")


def test_the_documented_export_feeds_strict_accounts(start_proxy, pp_backend, public_dir, certs):
    pp_backend.sql("CREATE OR REPLACE USER 'q''uote'@'10.%' IDENTIFIED BY 'p' REQUIRE SSL")
    out = public_dir / "export"
    out.mkdir(exist_ok=True)
    # `mariadb` as the docs call it, pointed at the private backend as its administrator.
    prologue = (f'mariadb() {{ command mariadb --no-defaults --socket={pp_backend.socket} '
                f'--user={pp_backend.admin_user} "$@"; }}\nset -o pipefail\n')
    r = subprocess.run(["bash", "-c", prologue + documented_export_command()], cwd=out, capture_output=True,
                       text=True, timeout=60, env=helpers.clean_env())
    assert r.returncode == 0, r.stderr
    accounts = (out / "accounts.sql").read_text()
    for account in ("`x`@`127.0.0.2`", "`app`@`%`", "`q'uote`@`10.%`"):
        assert f"CREATE USER {account}" in accounts, accounts
    # An account created after the export is unknown to the proxy, so strict_accounts refuses it.
    pp_backend.sql("CREATE OR REPLACE USER 'late'@'%' IDENTIFIED BY 'late-pass'")
    p = start_proxy({**tcp_backend(pp_backend), "accounts": out / "accounts.sql", "strict_accounts": True})
    assert NOTICE not in p.log_text()
    assert_user(sql_user(p, certs, source="127.0.0.3", user="app", password="app-pass"), "app@127.0.0.1")
    assert_denied(sql_user(p, certs, user="late", password="late-pass"), "late", "127.0.0.1")


# ---------------------------------------------------------------------------
# The row the backend authenticates without a PROXY header
# ---------------------------------------------------------------------------
TWO_ROWS = """CREATE USER 'bob'@'127.0.0.2' IDENTIFIED BY 'remote-pass';
CREATE USER 'bob'@'127.0.0.1' IDENTIFIED BY 'local-pass' REQUIRE SSL;
"""


def test_without_the_header_a_login_the_backend_would_check_against_another_row_is_refused(
        start_proxy, pp_backend, certs, tmp_path):
    """strict_accounts with the backend's rows exported, no PROXY header: a client from 127.0.0.2
    with the password of 'bob'@'127.0.0.1' (the row the backend picks for the proxy's address).
    MariaDB would check it against 'bob'@'127.0.0.2' and refuse; the proxy, which checked that
    row's requirement, must not let the backend open the other row's session."""
    for statement in TWO_ROWS.strip().splitlines():
        pp_backend.sql(statement.replace(" REQUIRE SSL", ""))
    accounts = tmp_path / "accounts.sql"
    accounts.write_text(TWO_ROWS)
    try:
        p = start_proxy({**tcp_backend(pp_backend), "accounts": str(accounts), "strict_accounts": "ON"})
        start = len(p.log_lines())
        assert_denied(sql_user(p, certs, source="127.0.0.2", user="bob", password="local-pass"), "bob", "127.0.0.2")
        line = p.wait_for_log(re.compile(r"connection closed .*\buser=bob\b"), start=start)[0]
        assert "set backend_proxy_protocol" in line, line
        # With the header the backend checks the client's own row: its password works.
        with_header = start_proxy({**tcp_backend(pp_backend), "accounts": str(accounts), "strict_accounts": "ON",
                                   "backend_proxy_protocol": "v2"})
        assert_user(sql_user(with_header, certs, source="127.0.0.2", user="bob", password="remote-pass"),
                    "bob@127.0.0.2")
        assert_denied(sql_user(with_header, certs, source="127.0.0.2", user="bob", password="local-pass"),
                      "bob", "127.0.0.2")
    finally:
        pp_backend.sql("DROP USER IF EXISTS 'bob'@'127.0.0.2', 'bob'@'127.0.0.1'")
