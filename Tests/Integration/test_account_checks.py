"""When and against what the proxy checks an account (docs/access-policy.md, docs/security.md).

- The check runs after the backend accepted the password, as MariaDB's acl_check_ssl runs after
  the authentication plugin: the answer depends on the password exactly as MariaDB's does, and
  a client without credentials learns nothing from it.
- COM_CHANGE_USER is checked against the accounts of the last reload, not those the session
  started with.
- Refused changes of user cannot be used to grow the proxy or its log: each is answered after
  MariaDB's one-second pause, the stream behind it waits, and the fourth closes the session.
- A resumed TLS session does not carry a client certificate that expired since.
"""

from __future__ import annotations

import datetime
import re
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

import backends
import metrics
import policy
import processes
import wire



def _login_error(port: int, user: str, password: str, tls: ssl.SSLContext | None) -> tuple[int, str]:
    with wire.Connection.tcp("127.0.0.1", port) as c:
        with pytest.raises(wire.ServerError) as ei:
            c.login(user, password, tls=tls)
        return ei.value.code, ei.value.err.message


def _wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# ---------------------------------------------------------------------------
# The password is checked first
# ---------------------------------------------------------------------------
def test_require_is_checked_after_the_password(policy_proxy_pool, policy_servers, reference_endpoints, certs):
    """REQUIRE X509 over TLS without a certificate: MariaDB answers 1045 whatever the password, but
    only after checking it. Through the proxy the backend checks it (a wrong one is the backend's
    own access-denied error), and a right one opens a backend session that is quit at once."""
    port = policy_proxy_pool.endpoints()["tcp"].port
    ref = reference_endpoints["tcp"].port
    tls = certs.bundle_tls()
    want = (1045, "Access denied for user 'r_x509'@'127.0.0.1' (using password: YES)")

    for password in ("wrong", policy.PASSWORDS["r_x509"]):
        assert _login_error(ref, "r_x509", password, tls) == want, "reference"

    denied_before = policy_servers.plain_status("Access_denied_errors")
    log = backends.GeneralLog(policy_servers.general_log)
    assert _login_error(port, "r_x509", "wrong", tls) == want
    _wait_for(lambda: policy_servers.plain_status("Access_denied_errors") == denied_before + 1,
              what="the backend to count the wrong password")

    log = backends.GeneralLog(policy_servers.general_log)
    assert _login_error(port, "r_x509", policy.PASSWORDS["r_x509"], tls) == want
    # The backend accepted the password (no new access-denied error), and the session it opened
    # for r_x509 ended with the proxy's COM_QUIT, before any command.
    connect = re.compile(r"(\d+)\s+Connect\s+r_x509@127\.0\.0\.1 on")

    def session_ended() -> str | None:
        text = log.new_text()
        m = connect.search(text)
        return text if m and re.search(rf"\b{m.group(1)}\s+Quit", text) else None

    text = _wait_for(session_ended, what="Connect and Quit of r_x509 in the general log")
    session = connect.search(text).group(1)
    assert not re.search(rf"\b{session}\s+(Query|Init DB|Change user)", text), text
    assert policy_servers.plain_status("Access_denied_errors") == denied_before + 1


def test_unknown_and_refused_users_look_alike(policy_proxy_pool, reference_endpoints, certs):
    """A wrong password for a REQUIRE X509 account, for a REQUIRE NONE account and for a user that
    does not exist: the same 1045 from the proxy as from MariaDB."""
    port = policy_proxy_pool.endpoints()["tcp"].port
    ref = reference_endpoints["tcp"].port
    for user in ("r_x509", "r_none", "nobody_here"):
        want = _login_error(ref, user, "wrong", certs.bundle_tls())
        assert _login_error(port, user, "wrong", certs.bundle_tls()) == want, user


# ---------------------------------------------------------------------------
# COM_CHANGE_USER against the current accounts
# ---------------------------------------------------------------------------
ACCOUNTS_BEFORE = """CREATE USER 'r_none'@'%' REQUIRE NONE;
CREATE USER 'r_x509'@'%' REQUIRE NONE;
"""
ACCOUNTS_AFTER = """CREATE USER 'r_none'@'%' REQUIRE NONE;
CREATE USER 'r_x509'@'%' REQUIRE X509;
"""


def test_change_user_uses_the_accounts_of_the_last_reload(policy_proxies, certs, tmp_path):
    accounts = tmp_path / "accounts.sql"
    accounts.write_text(ACCOUNTS_BEFORE)
    proxy = policy_proxies.start({"accounts": str(accounts)})
    with wire.Connection.tcp("127.0.0.1", proxy.port) as old_session:
        old_session.login("r_none", policy.PASSWORDS["r_none"], tls=certs.bundle_tls())
        # Tighten r_x509 and reload while this session is open.
        accounts.write_text(ACCOUNTS_AFTER)
        processes.reload(proxy)
        with pytest.raises(wire.ServerError) as ei:
            old_session.change_user("r_x509", policy.PASSWORDS["r_x509"])
        assert ei.value.code == 1045
        assert old_session.query("SELECT CURRENT_USER()") == [["r_none@%"]]
    # New logins see the new rule too.
    assert _login_error(proxy.port, "r_x509", policy.PASSWORDS["r_x509"], certs.bundle_tls())[0] == 1045


# ---------------------------------------------------------------------------
# Refused changes of user are bounded
# ---------------------------------------------------------------------------
def test_refused_changes_are_paced_and_the_fourth_closes(policy_proxy_pool, certs):
    port = policy_proxy_pool.endpoints()["tcp"].port
    with wire.Connection.tcp("127.0.0.1", port, timeout=15) as c:
        c.login("r_none", policy.PASSWORDS["r_none"], tls=certs.bundle_tls())
        started = time.monotonic()
        codes = []
        for _ in range(3):
            with pytest.raises(wire.ServerError) as ei:
                c.change_user("r_x509", policy.PASSWORDS["r_x509"])
            codes.append(ei.value.code)
            assert c.query("SELECT CURRENT_USER()") == [["r_none@%"]]
        # MariaDB sleeps one second after each failed change before it answers.
        assert time.monotonic() - started >= 3.0
        # The fourth, even to an account the session could change to, is MariaDB's 1047; then the
        # proxy closes the session.
        with pytest.raises(wire.ServerError) as ei:
            c.change_user("r_none", policy.PASSWORDS["r_none"])
        assert (ei.value.code, ei.value.err.sqlstate, ei.value.err.message) == (1047, "08S01", "Unknown command")
        with pytest.raises((wire.ConnectionClosed, OSError)):
            c.query("SELECT 1")
    assert codes == [1045, 1045, 1045]


def test_a_flood_of_refused_changes_that_is_never_read_stays_small(policy_proxies, certs):
    """A logged-in client writes malformed COM_CHANGE_USER packets as fast as it can and never
    reads: the proxy stops reading from it, its memory stays flat, and its log gets a handful of
    lines, not one per packet."""
    proxy = policy_proxies.start()
    c = wire.Connection.tcp("127.0.0.1", proxy.port, timeout=15)
    c.login("r_none", policy.PASSWORDS["r_none"], tls=certs.bundle_tls())
    rss_before = metrics.proc_rss_kib(proxy.pid)
    lines_before = len(proxy.log_lines())
    # 5 bytes each: header + COM_CHANGE_USER with nothing after it (malformed).
    chunk = (b"\x01\x00\x00\x00\x11") * 20000
    c.sock.settimeout(0.5)
    sent = 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            sent += c.sock.send(chunk)
        except (socket.timeout, ssl.SSLWantWriteError, TimeoutError):
            continue  # the proxy stopped reading: keep pushing until the deadline
        except OSError:
            break  # closed after the fourth refusal
    rss_after = metrics.proc_rss_kib(proxy.pid)
    assert rss_after - rss_before < 20 * 1024, f"RSS grew from {rss_before} to {rss_after} KiB after {sent} bytes"
    refused = [l for l in proxy.log_lines()[lines_before:] if "COM_CHANGE_USER refused" in l]
    assert 1 <= len(refused) <= 4, refused
    c.close()
    assert proxy.running()


def test_commands_behind_a_refused_change_still_run_when_the_client_half_closes(policy_proxy_pool):
    """COM_CHANGE_USER (refused: REQUIRE SSL on plaintext), a query, then the client's FIN, all at
    once. MariaDB reads both commands before the EOF: 1045 after its pause, then the query's result.
    The proxy must pass the EOF on only behind the query it held during the pause."""
    port = policy_proxy_pool.endpoints()["tcp"].port
    with wire.Connection.tcp("127.0.0.1", port, timeout=15) as c:
        c.login("r_none", policy.PASSWORDS["r_none"])
        change = wire.change_user_payload(caps=c.negotiated_caps(), user="r_ssl",
                                          auth_response=wire.native_password_scramble(policy.PASSWORDS["r_ssl"], c.scramble))
        with c.buffered():
            c.send_packet(change, 0)
            c.send_packet(bytes([wire.COM_QUERY]) + b"SELECT 6 * 7", 0)
        c.sock.shutdown(socket.SHUT_WR)
        first = c.read_packet()
        assert first.is_err and wire.ErrPacket.parse(first).code == 1045, first
        _, rest = c.wait_closed(timeout=15)  # what came before the proxy closed
        assert b"42" in rest, f"the query behind the refused change got no result: {rest!r}"


def test_allowed_changes_of_user_do_not_flood_the_log(policy_proxies, certs):
    """A session may change user as often as it likes; the log gets one line for it, not one each."""
    proxy = policy_proxies.start()
    start = len(proxy.log_lines())
    with wire.Connection.tcp("127.0.0.1", proxy.port) as c:
        c.login("r_none", policy.PASSWORDS["r_none"], tls=certs.bundle_tls())
        for _ in range(50):
            c.change_user("r_ssl", policy.PASSWORDS["r_ssl"])
        assert c.query("SELECT CURRENT_USER()") == [["r_ssl@%"]]
    proxy.wait_for_log("connection closed", start=start)
    allowed = [l for l in proxy.log_lines()[start:] if "COM_CHANGE_USER allowed" in l]
    assert len(allowed) == 1, allowed


# ---------------------------------------------------------------------------
# TLS session resumption and a client certificate that expired since
# ---------------------------------------------------------------------------
def _short_lived_client_cert(certs, d: Path, seconds: int) -> tuple[Path, Path, float]:
    """A client certificate from CA 1 (CN=short) valid from an hour ago for `seconds` more."""
    ca_dir = Path(certs.ca).parent
    key, csr, cert = d / "short-key.pem", d / "short.csr", d / "short-cert.pem"
    (d / "index.txt").write_text("")
    (d / "serial").write_text("1000\n")
    (d / "ca.cnf").write_text(f"""[ca]
default_ca = ca1
[ca1]
database = {d}/index.txt
new_certs_dir = {d}
serial = {d}/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
x509_extensions = client
[anything]
commonName = supplied
[client]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = clientAuth
""")
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
                    "-subj", "/CN=short"], check=True, capture_output=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    not_after = now + datetime.timedelta(seconds=seconds)
    fmt = "%Y%m%d%H%M%SZ"
    subprocess.run(["openssl", "ca", "-batch", "-config", str(d / "ca.cnf"), "-cert", str(ca_dir / "ca.pem"),
                    "-keyfile", str(ca_dir / "ca-key.pem"), "-in", str(csr), "-out", str(cert), "-notext",
                    "-startdate", (now - datetime.timedelta(hours=1)).strftime(fmt), "-enddate", not_after.strftime(fmt)],
                   check=True, capture_output=True)
    return cert, key, not_after.timestamp()


def _x509_login(port: int, tls: ssl.SSLContext, session: ssl.SSLSession | None = None):
    """(reused?, outcome, session) for a REQUIRE X509 login."""
    c = wire.Connection.tcp("127.0.0.1", port)
    try:
        c.login("r_x509", policy.PASSWORDS["r_x509"], tls=tls, session=session)
        c.query("SELECT 1")  # a TLS 1.3 ticket arrives after the handshake; reading takes it in
        return c.sock.session_reused, "OK", c.sock.session
    except wire.ServerError as e:
        return getattr(c.sock, "session_reused", False), f"ERR {e.code}", None
    except (ssl.SSLError, wire.ConnectionClosed, OSError) as e:
        return getattr(c.sock, "session_reused", False), f"TLS failed: {e}", None
    finally:
        c.close()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_resumption_does_not_outlive_the_client_certificate(policy_proxy_pool, certs, tmp_path, version):
    port = policy_proxy_pool.endpoints()["tcp"].port
    cert, key, not_after = _short_lived_client_cert(certs, tmp_path, seconds=4)
    tls = wire.client_tls_context(certs.path("ca-bundle.pem"), str(cert), str(key), check_hostname=False,
                                  minimum_version=version, maximum_version=version)
    reused, outcome, session = _x509_login(port, tls)
    assert (reused, outcome) == (False, "OK")
    assert session is not None
    # While the certificate is valid, the session resumes (the control).
    reused, outcome, session2 = _x509_login(port, tls, session)
    assert (reused, outcome) == (True, "OK")
    # Once it has expired, the ticket is not honoured: a full handshake checks the certificate
    # and fails, as MariaDB's acceptor does for an expired client certificate.
    while time.time() <= not_after + 1:
        time.sleep(0.2)  # waiting for the wall clock itself: no event to wait on
    reused, outcome, _ = _x509_login(port, tls, session2 or session)
    assert not reused, outcome
    assert outcome != "OK"


# ---------------------------------------------------------------------------
# Client certificates checked against the system's CA store
# ---------------------------------------------------------------------------
SYSTEM_STORE_WARNING = "no ssl_ca or ssl_capath: client certificates are verified against the system's CA store"


def test_no_ssl_ca_warns_that_public_ca_certificates_satisfy_x509(start_proxy):
    without = start_proxy({"ssl_ca": None})
    assert any(SYSTEM_STORE_WARNING in line and "REQUIRE X509" in line for line in without.log_lines()), \
        without.log_text()
    # Also after a reload, as every snapshot is installed.
    mark = len(without.log_lines())
    without.signal(signal.SIGHUP)
    without.wait_for_log(re.compile(re.escape(SYSTEM_STORE_WARNING)), start=mark)
    with_ca = start_proxy()
    assert not any(SYSTEM_STORE_WARNING in line for line in with_ca.log_lines()), with_ca.log_text()
