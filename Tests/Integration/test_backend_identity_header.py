"""The backend's view of the client over TCP (docs/security.md, "What the backend sees"):
backend_proxy_protocol v1 | v2 makes a real mariadbd match accounts, and USER(), against the real
client address (clients bind 127.0.0.2 / 127.0.0.3 / ::1 in the scripted client); without it the
backend sees the proxy, so a login the backend would check against another row is refused; the
notice when neither the header nor strict_accounts is on; the documented export of the backend's
accounts feeding strict_accounts.

Fixtures: backend_identity_fixtures.py.
"""

from __future__ import annotations

import re
import subprocess

import pytest

import helpers
import processes
from helpers import REPO_ROOT
from backend_identity_fixtures import (NOTICE, assert_denied, assert_user, needs_root, socket_backend, sql_user,
                                       tcp_backend)


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
    # the connection. Whether its ERR arrives before the reset depends on timing: either the
    # client gets the backend's 1130, or the answer is lost and the proxy's log names the likely
    # cause. Either way the login is refused.
    p = start_proxy({"backend_proxy_protocol": "v2"})
    r = helpers.mariadb(socket_path=p.socket, ssl=False, batch=True, execute="SELECT 1")
    assert r.returncode == 1 and r.stdout == "", r.output
    line = p.wait_for_log("connection closed")[0]
    if "refused by backend" in line:
        assert "1130" in r.output, r.output
    else:
        assert "closed the connection during login (is the proxy in its proxy_protocol_networks?)" in line, line


def test_the_notice_follows_reloads(start_proxy, pp_backend):
    p = start_proxy({**tcp_backend(pp_backend), "backend_proxy_protocol": "v2"})
    assert NOTICE not in p.log_text()
    text = p.config.read_text().replace("backend_proxy_protocol=v2", "backend_proxy_protocol=OFF")
    p.config.write_text(text)
    lines = processes.reload(p, succeeds=True)
    assert any(NOTICE in line for line in lines), "\n".join(lines)


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
