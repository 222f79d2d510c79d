"""Hostile and broken clients in the TLS handshake: not TLS at all, TLS 1.0/1.1, weak cipher
suites only, renegotiation; each answered with TLS alerts and a plaintext ERR 1043 or refused,
while real clients keep logging in (docs/architecture.md).

The proxies use the hostile suites' own backend (hostile_fixtures.py).
"""

from __future__ import annotations

import re
import ssl
import time

import pytest

import helpers
import hostile_support as hs
import raw_sockets
import wire
from helpers import mariadb, s_client, s_client_cipher
from hostile_support import cli_login_ok, expect_bad_handshake, local_port, outcome_for


# ---------------------------------------------------------------------------
# Not TLS, old TLS, weak ciphers, renegotiation
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("garbage", [
    bytes(range(7, 256)) * 2,
    b"GET / HTTP/1.1\r\nHost: db\r\n\r\n",
    b"\x00" * 300,
], ids=["binary", "http", "zeros"])
def test_garbage_instead_of_tls_gets_alert_and_1043(hostile_proxy, certs, garbage):
    p = hostile_proxy()
    with hs.connect_and_greet(p.port) as c:
        c.send_ssl_request()
        c.send_raw(garbage)
        ending = raw_sockets.read_until_closed(c.sock, timeout=5)
        assert ending.how in ("eof", "reset"), "still open after garbage instead of a ClientHello"
        expect_bad_handshake(ending.data, seq=2)
        outcome = outcome_for(p, local_port(c))
    assert outcome.startswith(hs.TLS_FAILED_OUTCOME), outcome
    cli_login_ok(p, certs)


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
def test_old_tls_client_hello_gets_protocol_version_alert_then_1043(hostile_proxy, version):
    p = hostile_proxy()
    v = getattr(ssl.TLSVersion, version)
    hello = hs.client_hello(minimum=v, maximum=v, ciphers="DEFAULT@SECLEVEL=0")
    with hs.connect_and_greet(p.port) as c:
        c.send_ssl_request()
        c.send_raw(hello)
        ending = raw_sockets.read_until_closed(c.sock, timeout=5)
        assert ending.how in ("eof", "reset")
        records, _ = raw_sockets.split_tls_records(ending.data)
        assert records and records[0].content_type == 21, f"no TLS alert first: {ending.data[:40]!r}"
        assert records[0].body == bytes([2, 70]), f"expected fatal protocol_version, got {records[0].body!r}"
        expect_bad_handshake(ending.data, seq=2)
        outcome = outcome_for(p, local_port(c))
    assert outcome.startswith(hs.TLS_FAILED_OUTCOME), outcome


def test_tls1_0_s_client_is_refused(hostile_proxy, certs):
    p = hostile_proxy()
    before = len(p.log_lines())
    r = s_client(p.port, "-tls1", "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", certs.ca)
    out = r.output
    assert "no protocols available" not in out and "MySQL server does not support SSL" not in out, out
    assert s_client_cipher(out) is None, out
    assert re.search(r"alert protocol version|SSL alert number 70", out), out
    line = p.wait_for_log("connection closed", start=before)[0]
    assert 'outcome="refused: TLS handshake failed: unsupported protocol"' in line, line
    cli_login_ok(p, certs)


WEAK_CIPHER_CLIENTS = {
    "cbc-no-fs": ("AES256-SHA", "-tls1_2"),
    "cbc-with-fs": ("ECDHE-RSA-AES256-SHA384", "-tls1_2"),
    "rsa-kx-gcm": ("AES256-GCM-SHA384", "-tls1_2"),
    "null": ("NULL-SHA256:@SECLEVEL=0", "-tls1_2"),
    "null-tls1.0": ("ECDHE-RSA-NULL-SHA:@SECLEVEL=0", "-tls1"),
}


@pytest.mark.parametrize("name", list(WEAK_CIPHER_CLIENTS))
def test_weak_cipher_only_client_is_refused_by_default(hostile_proxy, certs, name):
    cipher, proto = WEAK_CIPHER_CLIENTS[name]
    p = hostile_proxy()
    before = len(p.log_lines())
    r = s_client(p.port, proto, "-cipher", cipher, "-CAfile", certs.ca)
    out = r.output
    assert "no cipher match" not in out and "no ciphers available" not in out, f"client refused locally:\n{out}"
    assert s_client_cipher(out) is None, out
    assert re.search(r"alert (handshake failure|protocol version)|SSL alert number (40|70)", out), out
    line = p.wait_for_log("connection closed", start=before)[0]
    assert re.search(r'outcome="refused: TLS handshake failed: (no shared cipher|unsupported protocol)"', line), line

    # The same refusal at the byte level: alert, then ERR 1043 in plaintext at seq 2.
    ciphers = cipher if "SECLEVEL" in cipher else cipher + ":@SECLEVEL=0"
    v = ssl.TLSVersion.TLSv1 if proto == "-tls1" else ssl.TLSVersion.TLSv1_2
    hello = hs.client_hello(minimum=v, maximum=v, ciphers=ciphers)
    with hs.connect_and_greet(p.port) as c:
        c.send_ssl_request()
        c.send_raw(hello)
        ending = raw_sockets.read_until_closed(c.sock, timeout=5)
        records, _ = raw_sockets.split_tls_records(ending.data)
        assert records and records[0].content_type == 21 and records[0].body[0] == 2, ending.data[:40]
        expect_bad_handshake(ending.data, seq=2)
    cli_login_ok(p, certs)


def test_cbc_cipher_accepted_when_ssl_cipher_allows_it(hostile_proxy, certs):
    # Positive control for the test above: with ssl_cipher set, the same client gets AES256-SHA.
    p = hostile_proxy({"ssl_cipher": "AES256-SHA"})
    r = s_client(p.port, "-tls1_2", "-cipher", "AES256-SHA", "-CAfile", certs.ca)
    assert s_client_cipher(r.output) == "AES256-SHA", r.output
    r = mariadb(port=p.port, ca=certs.ca, extra=("--tls-version=TLSv1.2", "--ssl-cipher=AES256-SHA"),
                execute="status")
    assert r.returncode == 0, r.stderr
    assert helpers.status_cipher(r.stdout) == "AES256-SHA", r.stdout


def test_renegotiation_is_refused_and_sessions_stay_healthy(hostile_proxy, certs):
    p = hostile_proxy({"connect_timeout": 10})
    # A logged-in TLS 1.2 session that must not be disturbed.
    ctx = wire.client_tls_context(certs.ca, maximum_version=ssl.TLSVersion.TLSv1_2)
    session = wire.Connection.tcp("127.0.0.1", p.port, timeout=20)
    try:
        session.login("app", "app-pass", tls=ctx)
        assert session.query("SELECT 1") == [["1"]]

        before = len(p.log_lines())
        t0 = time.monotonic()
        r = hs.s_client_renegotiate(p.port, "-tls1_2", "-CAfile", certs.ca, timeout=20)
        elapsed = time.monotonic() - t0
        out = r.output
        assert "New, TLSv1.2, Cipher is" in out, out
        assert "RENEGOTIATING" in out, f"s_client did not try to renegotiate:\n{out}"
        after = out.split("RENEGOTIATING", 1)[1]
        # A second handshake would show the certificate chain being verified again.
        assert "verify return:1" not in after and "depth=0" not in after, f"renegotiation happened:\n{out}"
        assert re.search(r"no renegotiation|SSL alert number 100", after), f"no refusal seen:\n{out}"
        assert elapsed < 9, f"s_client took {elapsed:.1f}s: was the refusal only the login timeout?"
        line = p.wait_for_log("connection closed", start=before)[0]
        assert 'outcome="refused: TLS' in line, line

        # The proxy and the other session are fine.
        assert session.query("SELECT 2") == [["2"]]
        cli_login_ok(p, certs)
        assert p.running()
    finally:
        session.quit()
