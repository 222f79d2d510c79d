"""Each REQUIRE form accepted and refused (docs/access-policy.md), with the exact 1045 and the
refusal packet on the wire. Every case is asserted on the TLS-enabled reference server too, so
the expectation itself is checked against MariaDB.
"""

from __future__ import annotations


import pytest

import policy_matrix
import wire
from policy_matrix import VARIANT, denied, ok


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
    ("r_none", "tls1.2+untrusted", "tcp", policy_matrix.CERT_REJECTED),
    ("r_none", "tls1.3+untrusted", "socket", policy_matrix.CERT_REJECTED),
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
    got = policy_matrix.run_client(endpoints[transport], transport, VARIANT[variant], user, certs.dir)
    assert got == expected, f"{name}: {user} {variant} over {transport}"


# ---------------------------------------------------------------------------
# The refusal on the wire
# ---------------------------------------------------------------------------
def _connect(endpoint: policy_matrix.Endpoint, transport: str) -> wire.Connection:
    if transport == "tcp":
        return wire.Connection.tcp("127.0.0.1", endpoint.port)
    return wire.Connection.unix(endpoint.socket)


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
            c.login(user, password, tls=certs.bundle_tls() if tls else None)
        err = ei.value.err
        want = (1045, "28000", seq, denied(user, transport, password=bool(password)).split(": ", 1)[1])
        assert (err.code, err.sqlstate, err.seq, err.message) == want, name
