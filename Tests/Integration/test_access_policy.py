"""Targeted access-policy tests (docs/access-policy.md): each REQUIRE form accepted and refused,
the exact 1045, what the backend sees, the log line, strict_accounts, rows that match no
host, skip_name_resolve, and accounts-file syntax errors.

Where a case has a MariaDB answer, it is asserted on the TLS-enabled reference server too, so the
expectation itself is checked against MariaDB.
"""

from __future__ import annotations

import os
import re
import ssl
import time
from pathlib import Path

import pytest

import backends
import helpers
import policy
import wire
from policy import VARIANT

HOST_TEXT = {"tcp": "127.0.0.1", "socket": "localhost"}


def denied(user: str, transport: str, *, password: bool = True, host: str | None = None) -> str:
    return (f"ERROR 1045 (28000): Access denied for user '{user}'@'{host or HOST_TEXT[transport]}' "
            f"(using password: {'YES' if password else 'NO'})")


def ok(current_user: str) -> str:
    return f"OK {current_user}"


# (user, client variant, transport, expected outcome)
EXPECTATIONS: list[tuple[str, str, str, str]] = [
    ("r_none", "plain", "tcp", ok("r_none@%")),
    ("r_none", "plain", "socket", ok("r_none@%")),
    # REQUIRE SSL: any TLS, also over the unix socket; a plain socket does not pass.
    ("r_ssl", "plain", "tcp", denied("r_ssl", "tcp")),
    ("r_ssl", "tls", "tcp", ok("r_ssl@%")),
    ("r_ssl", "plain", "socket", denied("r_ssl", "socket")),
    ("r_ssl", "tls", "socket", ok("r_ssl@%")),
    ("r_nopw", "plain", "tcp", denied("r_nopw", "tcp", password=False)),
    ("r_nopw", "plain", "socket", denied("r_nopw", "socket", password=False)),
    ("r_nopw", "tls", "tcp", ok("r_nopw@%")),
    # REQUIRE X509: a verified client certificate, from either trusted CA.
    ("r_x509", "tls", "tcp", denied("r_x509", "tcp")),
    ("r_x509", "plain", "socket", denied("r_x509", "socket")),
    ("r_x509", "tls", "socket", denied("r_x509", "socket")),
    ("r_x509", "tls+bob", "tcp", ok("r_x509@%")),
    ("r_x509", "tls+alice@other-ca", "tcp", ok("r_x509@%")),
    ("r_x509", "tls+bob", "socket", ok("r_x509@%")),
    # REQUIRE SUBJECT: the one-line subject, byte for byte; the issuer does not matter.
    ("r_subject", "tls", "tcp", denied("r_subject", "tcp")),
    ("r_subject", "tls+bob", "tcp", denied("r_subject", "tcp")),
    ("r_subject", "tls+alice", "tcp", ok("r_subject@%")),
    ("r_subject", "tls+alice@other-ca", "tcp", ok("r_subject@%")),
    ("r_subject", "tls+alice", "socket", ok("r_subject@%")),
    ("r_subject", "tls+bob", "socket", denied("r_subject", "socket")),
    # REQUIRE ISSUER: same subject, other (trusted) CA is refused.
    ("r_issuer", "tls+bob", "tcp", ok("r_issuer@%")),
    ("r_issuer", "tls+alice@other-ca", "tcp", denied("r_issuer", "tcp")),
    ("r_issuer", "tls", "tcp", denied("r_issuer", "tcp")),
    ("r_issuer", "tls+alice", "socket", ok("r_issuer@%")),
    ("r_issuer", "tls+alice@other-ca", "socket", denied("r_issuer", "socket")),
    # REQUIRE CIPHER: the negotiated OpenSSL name exactly, no certificate needed.
    ("r_cipher12", "tls1.2/AES256", "tcp", ok("r_cipher12@%")),
    ("r_cipher12", "tls1.2/AES128", "tcp", denied("r_cipher12", "tcp")),
    ("r_cipher12", "tls", "tcp", denied("r_cipher12", "tcp")),
    ("r_cipher12", "plain", "tcp", denied("r_cipher12", "tcp")),
    ("r_cipher12", "tls1.2/AES256", "socket", ok("r_cipher12@%")),
    ("r_cipher13", "tls", "tcp", ok("r_cipher13@%")),
    ("r_cipher13", "tls1.3", "socket", ok("r_cipher13@%")),
    ("r_cipher13", "tls1.2/AES256", "tcp", denied("r_cipher13", "tcp")),
    ("r_cipher13", "tls1.3/AES128+alice", "tcp", denied("r_cipher13", "tcp")),
    # SUBJECT AND ISSUER AND CIPHER: each one can fail alone.
    ("r_combo", "tls+alice", "tcp", ok("r_combo@%")),
    ("r_combo", "tls+alice", "socket", ok("r_combo@%")),
    ("r_combo", "tls+alice@other-ca", "tcp", denied("r_combo", "tcp")),
    ("r_combo", "tls1.3/AES128+alice", "tcp", denied("r_combo", "tcp")),
    ("r_combo", "tls+bob", "tcp", denied("r_combo", "tcp")),
    ("r_combo", "tls", "tcp", denied("r_combo", "tcp")),
    # A non-ASCII subject (\xHH escapes in the one-line form).
    ("r_utf8", "tls+jurgen", "tcp", ok("r_utf8@%")),
    ("r_utf8", "tls+jurgen", "socket", ok("r_utf8@%")),
    ("r_utf8", "tls+alice", "tcp", denied("r_utf8", "tcp")),
    # The seed page's alice: anything from localhost, only TLS 1.2 + cipher + cert from elsewhere.
    ("alice", "plain", "socket", ok("alice@localhost")),
    ("alice", "tls", "socket", ok("alice@localhost")),
    ("alice", "plain", "tcp", denied("alice", "tcp")),
    ("alice", "tls+alice", "tcp", denied("alice", "tcp")),  # TLS 1.3 cipher
    ("alice", "tls1.2/AES256", "tcp", denied("alice", "tcp")),  # no certificate
    ("alice", "tls1.2/AES256+alice@other-ca", "tcp", denied("alice", "tcp")),  # issuer
    ("alice", "tls1.2/AES256+alice", "tcp", ok("alice@%")),
    # 'u'@'127.0.0.1' REQUIRE X509 beats 'u'@'%' REQUIRE SSL over TCP; the socket gets '%'.
    ("u", "tls", "tcp", denied("u", "tcp")),
    ("u", "tls+bob", "tcp", ok("u@127.0.0.1")),
    ("u", "tls", "socket", ok("u@%")),
    ("u", "plain", "socket", denied("u", "socket")),
    # An IPv4 netmask row for TCP, a localhost row for the socket.
    ("n", "tls+bob", "tcp", ok("n@127.0.0.0/255.0.0.0")),
    ("n", "tls+alice", "tcp", denied("n", "tcp")),
    ("n", "tls+alice", "socket", ok("n@localhost")),
    ("n", "tls", "socket", denied("n", "socket")),
    # A row for another host only.
    ("x", "tls+bob", "tcp", denied("x", "tcp")),
    ("x", "plain", "socket", denied("x", "socket")),
    # A certificate from an untrusted CA fails TLS itself, whatever the account.
    ("r_none", "tls1.2+untrusted", "tcp", policy.CERT_REJECTED),
    ("r_none", "tls1.3+untrusted", "socket", policy.CERT_REJECTED),
]


@pytest.fixture(params=["reference", "proxy"])
def target(request):
    """(name, {transport: Endpoint}) for the reference server or the default policy proxies."""
    if request.param == "reference":
        return "reference", request.getfixturevalue("reference_endpoints")
    return "proxy", request.getfixturevalue("policy_proxy_pool").endpoints()


@pytest.mark.parametrize("user,variant,transport,expected", EXPECTATIONS,
                         ids=[f"{u}-{v}-{t}" for u, v, t, _ in EXPECTATIONS])
def test_require_form(target, certs, user, variant, transport, expected):
    name, endpoints = target
    got = policy.run_client(endpoints[transport], transport, VARIANT[variant], user, certs.dir)
    assert got == expected, f"{name}: {user} {variant} over {transport}"


# ---------------------------------------------------------------------------
# The refusal on the wire
# ---------------------------------------------------------------------------
def _connect(endpoint: policy.Endpoint, transport: str) -> wire.Connection:
    if transport == "tcp":
        return wire.Connection.tcp("127.0.0.1", endpoint.port)
    return wire.Connection.unix(endpoint.socket)


def _tls(certs, cert: str | None = None) -> ssl.SSLContext:
    return wire.client_tls_context(
        certs.path("ca-bundle.pem"),
        certs.path(f"{cert}-cert.pem") if cert else None,
        certs.path(f"{cert}-key.pem") if cert else None,
        check_hostname=False)


@pytest.mark.parametrize("transport", ["tcp", "socket"])
@pytest.mark.parametrize("user,tls,password,seq", [
    ("r_ssl", False, "pw-r_ssl", 2),
    ("r_nopw", False, "", 2),
    ("r_x509", True, "pw-r_x509", 3),
    ("r_cipher12", True, "pw-r_cipher12", 3),
])
def test_refusal_packet(target, certs, transport, user, tls, password, seq):
    """ERR 1045, SQLSTATE 28000, the exact text, at the sequence id the client expects."""
    name, endpoints = target
    with _connect(endpoints[transport], transport) as c:
        with pytest.raises(wire.ServerError) as ei:
            c.login(user, password, tls=_tls(certs) if tls else None)
        err = ei.value.err
        want = (1045, "28000", seq, denied(user, transport, password=bool(password)).split(": ", 1)[1])
        assert (err.code, err.sqlstate, err.seq, err.message) == want, name


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
    assert policy.run_client(tcp, "tcp", VARIANT["tls"], "r_x509", certs.dir) == denied("r_x509", "tcp")
    assert policy.run_client(sock, "socket", VARIANT["plain"], "r_combo", certs.dir) == denied("r_combo", "socket")
    # Control, afterwards: a wrong password is the backend's own refusal.
    assert policy.run_client(tcp, "tcp", VARIANT["tls"], "r_none", certs.dir, password="wrong") == \
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
    got = policy.run_client(policy_proxy_pool.endpoints()[transport], transport, VARIANT[variant], user, certs.dir)
    assert got == denied(user, transport)
    line = proxy.wait_for_log(re.compile(rf"connection closed .*\buser={re.escape(user)}\b"), start=start)[0]
    f = policy.log_fields(line)
    assert f.get("outcome", "").startswith("refused: 1045 "), line
    for m in mentions:
        assert m in f["outcome"], f"reason does not mention {m!r}: {line}"
    acc = policy.account_field(f.get("account", ""))
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
    direct = policy.Endpoint(policy_servers.plain.port, policy_servers.plain.socket)
    assert policy.run_client(direct, "tcp", VARIANT["plain"], "stranger", certs.dir) == ok("stranger@%")
    # ... so by default (strict_accounts=OFF) the proxy lets the backend decide ...
    default = policy_proxy_pool.endpoints()
    assert policy.run_client(default["tcp"], "tcp", tls, "stranger", certs.dir) == ok("stranger@%")
    assert policy.run_client(default["socket"], "socket", VARIANT["plain"], "stranger", certs.dir) == \
        ok("stranger@%")

    # ... and strict_accounts=ON refuses it, once the backend has checked the password (as MariaDB
    # checks the password of an account it does not have: a wrong one is the backend's 1045).
    strict = policy_proxies.start({"strict_accounts": "ON"})
    ep = policy.Endpoint(strict.port, strict.socket)
    denied_before = policy_servers.plain_status("Access_denied_errors")
    assert policy.run_client(ep, "tcp", tls, "stranger", certs.dir) == denied("stranger", "tcp")
    assert policy.run_client(ep, "socket", tls, "stranger", certs.dir) == denied("stranger", "socket")
    assert policy.run_client(ep, "tcp", VARIANT["plain"], "stranger", certs.dir, password=None) == \
        denied("stranger", "tcp", password=False)
    # Users the file does mention are unaffected.
    assert policy.run_client(ep, "tcp", tls, "r_ssl", certs.dir) == ok("r_ssl@%")
    # The right password twice, the missing one once: only that one is the backend's refusal.
    assert policy_servers.plain_status("Access_denied_errors") == denied_before + 1
    line = strict.wait_for_log(re.compile(r"connection closed .*\buser=stranger\b"))[0]
    assert policy.log_fields(line).get("outcome", "").startswith("refused: 1045 "), line
    log = backends.GeneralLog(policy_servers.general_log)

    # The same for COM_CHANGE_USER: refused under strict_accounts=ON, relayed when OFF.
    for endpoint, expected in ((ep, "r_none@%"), (default["tcp"], "stranger@%")):
        with wire.Connection.tcp("127.0.0.1", endpoint.port) as c:
            c.login("r_none", policy.PASSWORDS["r_none"], tls=_tls(certs))
            try:
                c.change_user("stranger", policy.PASSWORDS["stranger"])
            except wire.ServerError as e:
                assert e.err.message == denied("stranger", "tcp").split(": ", 1)[1], e
            assert c.query("SELECT CURRENT_USER()") == [[expected]]
        if endpoint is ep:
            assert "stranger" not in log.new_text()


def test_mentioned_user_without_a_matching_host_row_is_refused(policy_proxy_pool, policy_servers, certs):
    """The file has only 'x'@'10.9.9.9'; the backend has 'x'@'%' and would let the proxy in."""
    direct = policy.Endpoint(policy_servers.plain.port, policy_servers.plain.socket)
    assert policy.run_client(direct, "tcp", VARIANT["plain"], "x", certs.dir) == ok("x@%")
    log = backends.GeneralLog(policy_servers.general_log)
    eps = policy_proxy_pool.endpoints()
    tcp_proxy = policy_proxy_pool.pair()[0]
    start = len(tcp_proxy.log_lines())
    for variant in ("plain", "tls", "tls+bob"):
        assert policy.run_client(eps["tcp"], "tcp", VARIANT[variant], "x", certs.dir) == denied("x", "tcp")
        assert policy.run_client(eps["socket"], "socket", VARIANT[variant], "x", certs.dir) == denied("x", "socket")
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
    assert policy.log_fields(line).get("outcome", "").startswith("refused: 1045 "), line


def test_skip_name_resolve_off_names_loopback_localhost(policy_proxies, certs):
    """Without skip_name_resolve, MariaDB calls a TCP client from 127.0.0.1 `localhost` (no DNS):
    the 'alice'@'localhost' REQUIRE NONE row then applies over TCP, and 1045 says 'localhost'."""
    p = policy_proxies.start({"skip_name_resolve": "OFF"})
    ep = policy.Endpoint(p.port, p.socket)
    assert policy.run_client(ep, "tcp", VARIANT["plain"], "r_ssl", certs.dir) == \
        denied("r_ssl", "tcp", host="localhost")
    start = len(p.log_lines())
    got = policy.run_client(ep, "tcp", VARIANT["plain"], "alice", certs.dir)
    assert got.startswith("OK alice@"), got  # the backend's row choice is its own business
    line = p.wait_for_log(re.compile(r"connection closed .*\buser=alice\b"), start=start)[0]
    acc = policy.account_field(policy.log_fields(line).get("account", ""))
    assert acc and acc[0] == "'alice'@'localhost'", line


# ---------------------------------------------------------------------------
# The accounts file must parse
# ---------------------------------------------------------------------------
_GOOD = """-- valid statements first, so the error is not on line 1
CREATE USER 'a'@'%' REQUIRE SSL;
CREATE USER 'b'@'%'
  REQUIRE SUBJECT '/CN=b'
  AND ISSUER '/CN=Test CA 1';
"""

SYNTAX_ERRORS = [
    # (name, text, the token the error must point at (its first occurrence after _GOOD))
    ("unknown-require", _GOOD + "CREATE USER 'c'@'%' REQUIRE BANANA;\n", "BANANA"),
    ("missing-string", _GOOD + "CREATE USER 'c'@'%' REQUIRE CIPHER;\n", ";"),
    ("not-a-statement", _GOOD + "CREAT USER 'c'@'%';\n", "CREAT"),
    ("unknown-tls-option", _GOOD + "ALTER USER 'a'@'%'\n  REQUIRE SSL AND SUBJECT '/CN=a';\n", "AND"),
]


def _position(text: str, token: str, after: int) -> tuple[int, int]:
    index = text.index(token, after)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


@pytest.mark.parametrize("name,text,token", SYNTAX_ERRORS, ids=[s[0] for s in SYNTAX_ERRORS])
def test_accounts_syntax_error_stops_startup(policy_proxies, name, text, token):
    d = policy_proxies.new_dir()
    accounts = d / "accounts-bad.sql"
    accounts.write_text(text)
    line, column = _position(text, token, len(_GOOD))
    cfg = policy_proxies.config({"accounts": str(accounts)}, d=d)
    r = policy_proxies.run(cfg)
    assert r.returncode == 78, f"rc={r.returncode}\n{r.stderr}"
    assert re.search(rf"(^|\s|/){re.escape(accounts.name)}:{line}:{column}: \S", r.stderr, re.M), \
        f"expected {accounts}:{line}:{column}: ... on stderr, got:\n{r.stderr}"
    assert "ready for connections" not in r.stderr


def test_missing_accounts_file_stops_startup(policy_proxies):
    d = policy_proxies.new_dir()
    cfg = policy_proxies.config({"accounts": str(d / "nope.sql")}, d=d)
    r = policy_proxies.run(cfg)
    assert r.returncode == 78 and "nope.sql" in r.stderr, f"rc={r.returncode}\n{r.stderr}"


# ---------------------------------------------------------------------------
# User names the server rewrites before it looks the account up
# ---------------------------------------------------------------------------
# MariaDB (parse_client_handshake_packet) strips one pair of enclosing single quotes, converts
# the name from the client's character set to utf8 and clips it to 128 characters; only then
# does it find the account and check REQUIRE. The proxy must decide on that same name, or a
# spelling the backend maps onto an account with a requirement would skip the requirement.
LATIN1_JOSE = os.fsdecode(b"jos\xe9")  # argv bytes 6A 6F 73 E9: 'josé' in latin1
SPELLINGS = [
    # (id, user as typed, password, client charset, variant, expected class)
    ("quoted-x509-tls", "'r_x509'", "pw-r_x509", None, "tls", "1045"),
    ("quoted-ssl-plain", "'r_ssl'", "pw-r_ssl", None, "plain", "1045"),
    ("quoted-ssl-tls", "'r_ssl'", "pw-r_ssl", None, "tls", "OK"),
    ("clipped-plain", policy.LONG_USER + "XYZ", "pw-long", None, "plain", "1045"),
    ("clipped-tls", policy.LONG_USER + "XYZ", "pw-long", None, "tls", "OK"),
    # The test servers' default character set is latin1 (mariadbd --no-defaults): a backend without the
    # character set handshake would read these UTF-8 names as latin1, so the proxy refuses them
    # ("OK/refused": MariaDB admits, the proxy fails closed; docs/access-policy.md, "User names").
    ("clipped-utf8-plain", policy.LONG_UTF8_USER + "éé", "pw-long-utf8", "utf8mb4", "plain", "1045"),
    ("clipped-utf8-tls", policy.LONG_UTF8_USER + "éé", "pw-long-utf8", "utf8mb4", "tls", "OK/refused"),
    ("utf8-plain", "josé", "pw-jose", "utf8mb4", "plain", "1045"),
    ("utf8-tls", "josé", "pw-jose", "utf8mb4", "tls", "OK/refused"),
    ("latin1-plain", LATIN1_JOSE, "pw-jose", "latin1", "plain", "1045"),
    ("latin1-tls", LATIN1_JOSE, "pw-jose", "latin1", "tls", "OK"),
]


@pytest.mark.parametrize("transport", ["tcp", "socket"])
@pytest.mark.parametrize("user,password,charset,variant,expected", [s[1:] for s in SPELLINGS],
                         ids=[s[0] for s in SPELLINGS])
def test_user_name_spellings(reference_endpoints, policy_proxy_pool, certs, transport, user, password, charset,
                             variant, expected):
    outcomes = {}
    for name, endpoints in (("reference", reference_endpoints), ("proxy", policy_proxy_pool.endpoints())):
        argv = policy.client_argv(endpoints[transport], transport, VARIANT[variant], user, certs.dir,
                                  password=password)
        if charset:
            argv.insert(2, f"--default-character-set={charset}")
        outcomes[name] = policy.outcome_of(helpers.run(argv, timeout=60))
    assert outcomes["reference"].startswith("OK " if expected.startswith("OK") else "ERROR 1045 "), ascii(outcomes)
    if expected == "OK/refused":
        assert outcomes["proxy"].startswith("ERROR 1045 "), ascii(outcomes)
    else:
        assert outcomes["proxy"] == outcomes["reference"], ascii(outcomes)
