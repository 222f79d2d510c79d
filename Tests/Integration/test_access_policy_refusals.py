"""Refused logins (docs/access-policy.md): what the backend sees of them, the proxy's log line,
strict_accounts, accounts whose rows match no host, and skip_name_resolve. Where a case has a
MariaDB answer, it is asserted on the TLS-enabled reference server too.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

import backends
import policy
import policy_matrix
import proxy_log
import wire
from policy_matrix import VARIANT, denied, ok


# ---------------------------------------------------------------------------
# What the backend sees, and what the proxy logs
# ---------------------------------------------------------------------------
def test_refused_logins_reach_the_backend_only_to_be_quit(policy_proxy_pool, policy_servers, certs):
    """MariaDB checks the password before REQUIRE; so does the proxy, through the backend. A login
    refused for its REQUIRE opens a backend session that ends with COM_QUIT before any command."""
    tcp, sock = policy_proxy_pool.endpoints().values()
    denied_before = policy_servers.plain_status("Access_denied_errors")
    log = backends.GeneralLog(policy_servers.general_log)

    # Refused by the proxy: over TCP (TLS, no certificate, REQUIRE X509) and the socket (plain, REQUIRE SSL).
    assert policy_matrix.run_client(tcp, "tcp", VARIANT["tls"], "r_x509", certs.dir) == denied("r_x509", "tcp")
    assert policy_matrix.run_client(sock, "socket", VARIANT["plain"], "r_combo", certs.dir) == denied("r_combo", "socket")
    # Control, afterwards: a wrong password is the backend's own refusal.
    assert policy_matrix.run_client(tcp, "tcp", VARIANT["tls"], "r_none", certs.dir, password="wrong") == \
        denied("r_none", "tcp")

    text = log.new_text()
    assert re.search(r"Connect\s+Access denied for user 'r_none'@'127\.0\.0\.1'", text), \
        f"the control login is not in the backend's general log:\n{text}"
    for user, host in (("r_x509", "127.0.0.1"), ("r_combo", "localhost")):
        m = re.search(rf"(\d+)\s+Connect\s+{user}@{re.escape(host)} on", text)
        assert m, f"{user}'s login did not reach the backend:\n{text}"
        session = m.group(1)
        deadline = time.monotonic() + 10
        while not re.search(rf"\b{session}\s+Quit", text):  # the COM_QUIT may trail the client's answer
            assert time.monotonic() < deadline, f"{user}'s backend session was not quit:\n{text}"
            time.sleep(0.05)
            text = log.new_text()
        assert not re.search(rf"\b{session}\s+Query", text), f"{user} ran a query:\n{text}"
    assert policy_servers.plain_status("Access_denied_errors") == denied_before + 1


REFUSALS = [
    # (user, variant, transport, the row MariaDB picks, what the reason must mention)
    ("r_ssl", "plain", "tcp", ("r_ssl", "%"), ["REQUIRE SSL"]),
    ("r_ssl", "plain", "socket", ("r_ssl", "%"), ["REQUIRE SSL"]),
    ("u", "tls", "tcp", ("u", "127.0.0.1"), ["REQUIRE X509"]),
    ("u", "plain", "socket", ("u", "%"), ["REQUIRE SSL"]),
    ("r_subject", "tls+bob", "tcp", ("r_subject", "%"), ["SUBJECT", policy.BOB_SUBJECT]),
    ("r_issuer", "tls+alice@other-ca", "tcp", ("r_issuer", "%"), ["ISSUER", policy.OTHER_CA_NAME]),
    ("r_cipher12", "tls", "tcp", ("r_cipher12", "%"), ["CIPHER", policy.CIPHER_TLS12, policy.CIPHER_TLS13]),
    ("r_utf8", "tls+alice", "socket", ("r_utf8", "%"), ["SUBJECT"]),
    ("alice", "tls1.2/AES256", "tcp", ("alice", "%"), ["REQUIRE"]),
    ("n", "tls", "socket", ("n", "localhost"), ["REQUIRE X509"]),
]


@pytest.mark.parametrize("user,variant,transport,row,mentions", REFUSALS,
                         ids=[f"{u}-{v}-{t}" for u, v, t, _, _ in REFUSALS])
def test_refusal_log_line_names_row_and_reason(policy_proxy_pool, policy_servers, certs, user, variant,
                                              transport, row, mentions):
    proxy = policy_proxy_pool.pair()[0 if transport == "tcp" else 1]
    start = len(proxy.log_lines())
    got = policy_matrix.run_client(policy_proxy_pool.endpoints()[transport], transport, VARIANT[variant], user, certs.dir)
    assert got == denied(user, transport)
    line = proxy.wait_for_log(re.compile(rf"connection closed .*\buser={re.escape(user)}\b"), start=start)[0]
    f = proxy_log.log_fields(line)
    assert f.get("outcome", "").startswith("refused: 1045 "), line
    for m in mentions:
        assert m in f["outcome"], f"reason does not mention {m!r}: {line}"
    acc = proxy_log.account_field(f.get("account", ""))
    accounts = policy_servers.accounts["show-create-user"]
    want_line = policy.statement_line(accounts.read_text(), *row)
    assert acc is not None, f"no account=\"'u'@'h' (file:line:col)\" field: {line}"
    assert acc[0] == f"'{row[0]}'@'{row[1]}'", line
    # The statement's position (column 1), or that of the account name in it.
    text_line = accounts.read_text().splitlines()[want_line - 1]
    columns = {1, text_line.index(f"`{row[0]}`@`{row[1]}`") + 1}
    assert Path(acc[1]).name == accounts.name and acc[2] == want_line and acc[3] in columns, \
        f"expected {accounts}:{want_line}:{sorted(columns)} in {line}"


# ---------------------------------------------------------------------------
# Users the file does not mention, and rows that match no host
# ---------------------------------------------------------------------------
def test_strict_accounts(policy_proxies, policy_proxy_pool, policy_servers, certs):
    tls = VARIANT["tls"]
    # The backend itself accepts 'stranger', whom the accounts file never mentions ...
    direct = policy_matrix.Endpoint(policy_servers.plain.port, policy_servers.plain.socket)
    assert policy_matrix.run_client(direct, "tcp", VARIANT["plain"], "stranger", certs.dir) == ok("stranger@%")
    # ... so by default (strict_accounts=OFF) the proxy lets the backend decide ...
    default = policy_proxy_pool.endpoints()
    assert policy_matrix.run_client(default["tcp"], "tcp", tls, "stranger", certs.dir) == ok("stranger@%")
    assert policy_matrix.run_client(default["socket"], "socket", VARIANT["plain"], "stranger", certs.dir) == \
        ok("stranger@%")

    # ... and strict_accounts=ON refuses it, once the backend has checked the password (as MariaDB
    # checks the password of an account it does not have: a wrong one is the backend's 1045).
    strict = policy_proxies.start({"strict_accounts": "ON"})
    ep = policy_matrix.Endpoint(strict.port, strict.socket)
    denied_before = policy_servers.plain_status("Access_denied_errors")
    assert policy_matrix.run_client(ep, "tcp", tls, "stranger", certs.dir) == denied("stranger", "tcp")
    assert policy_matrix.run_client(ep, "socket", tls, "stranger", certs.dir) == denied("stranger", "socket")
    assert policy_matrix.run_client(ep, "tcp", VARIANT["plain"], "stranger", certs.dir, password=None) == \
        denied("stranger", "tcp", password=False)
    # Users the file does mention are unaffected.
    assert policy_matrix.run_client(ep, "tcp", tls, "r_ssl", certs.dir) == ok("r_ssl@%")
    # The right password twice, the missing one once: only that one is the backend's refusal.
    assert policy_servers.plain_status("Access_denied_errors") == denied_before + 1
    line = strict.wait_for_log(re.compile(r"connection closed .*\buser=stranger\b"))[0]
    assert proxy_log.log_fields(line).get("outcome", "").startswith("refused: 1045 "), line
    log = backends.GeneralLog(policy_servers.general_log)

    # The same for COM_CHANGE_USER: refused under strict_accounts=ON, relayed when OFF.
    for endpoint, expected in ((ep, "r_none@%"), (default["tcp"], "stranger@%")):
        with wire.Connection.tcp("127.0.0.1", endpoint.port) as c:
            c.login("r_none", policy.PASSWORDS["r_none"], tls=certs.bundle_tls())
            try:
                c.change_user("stranger", policy.PASSWORDS["stranger"])
            except wire.ServerError as e:
                assert e.err.message == denied("stranger", "tcp").split(": ", 1)[1], e
            assert c.query("SELECT CURRENT_USER()") == [[expected]]
        if endpoint is ep:
            assert "stranger" not in log.new_text()


def test_mentioned_user_without_a_matching_host_row_is_refused(policy_proxy_pool, policy_servers, certs):
    """The file has only 'x'@'10.9.9.9'; the backend has 'x'@'%' and would let the proxy in."""
    direct = policy_matrix.Endpoint(policy_servers.plain.port, policy_servers.plain.socket)
    assert policy_matrix.run_client(direct, "tcp", VARIANT["plain"], "x", certs.dir) == ok("x@%")
    log = backends.GeneralLog(policy_servers.general_log)
    eps = policy_proxy_pool.endpoints()
    tcp_proxy = policy_proxy_pool.pair()[0]
    start = len(tcp_proxy.log_lines())
    for variant in ("plain", "tls", "tls+bob"):
        assert policy_matrix.run_client(eps["tcp"], "tcp", VARIANT[variant], "x", certs.dir) == denied("x", "tcp")
        assert policy_matrix.run_client(eps["socket"], "socket", VARIANT[variant], "x", certs.dir) == denied("x", "socket")
    # Each reached the backend (the password is checked first) and was quit before any command.
    # The proxy's COM_QUIT may reach the backend just after the client got its answer: wait for it.
    deadline = time.monotonic() + 10
    while True:
        text = log.new_text()
        sessions = re.findall(r"(\d+)\s+Connect\s+x@\S+ on", text)
        if len(sessions) == 6 and all(re.search(rf"\b{s}\s+Quit", text) for s in sessions):
            break
        assert time.monotonic() < deadline, f"expected 6 sessions of x, each quit:\n{text}"
        time.sleep(0.05)
    assert not any(re.search(rf"\b{s}\s+Query", text) for s in sessions), text
    line = tcp_proxy.wait_for_log(re.compile(r"connection closed .*\buser=x\b"), start=start)[0]
    assert proxy_log.log_fields(line).get("outcome", "").startswith("refused: 1045 "), line


def test_skip_name_resolve_off_names_loopback_localhost(policy_proxies, certs):
    """Without skip_name_resolve, MariaDB calls a TCP client from 127.0.0.1 `localhost` (no DNS):
    the 'alice'@'localhost' REQUIRE NONE row then applies over TCP, and 1045 says 'localhost'."""
    p = policy_proxies.start({"skip_name_resolve": "OFF"})
    ep = policy_matrix.Endpoint(p.port, p.socket)
    assert policy_matrix.run_client(ep, "tcp", VARIANT["plain"], "r_ssl", certs.dir) == \
        denied("r_ssl", "tcp", host="localhost")
    start = len(p.log_lines())
    got = policy_matrix.run_client(ep, "tcp", VARIANT["plain"], "alice", certs.dir)
    assert got.startswith("OK alice@"), got  # the backend's row choice is its own business
    line = p.wait_for_log(re.compile(r"connection closed .*\buser=alice\b"), start=start)[0]
    acc = proxy_log.account_field(proxy_log.log_fields(line).get("account", ""))
    assert acc and acc[0] == "'alice'@'localhost'", line
