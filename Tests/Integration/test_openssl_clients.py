"""openssl s_client -starttls mysql, client certificates and protocol versions (tests 6, 7, 8)."""

import re
import ssl

import pytest

import helpers
import wire
from helpers import mariadb, s_client, s_client_cipher, s_client_protocol

VERIFY_OK = "Verify return code: 0 (ok)"


@pytest.fixture(scope="module")
def openssl_supports_tls1_1():
    help_text = helpers.run([helpers.which("openssl"), "s_client", "-help"]).output
    if "-tls1_1" not in help_text or "-starttls" not in help_text:
        pytest.fail("this openssl s_client lacks -tls1_1 or -starttls; cannot run the protocol-version tests",
                    pytrace=False)


def test_s_client_starttls_mysql_handshake(proxy, certs):
    r = s_client(proxy.port, "-CAfile", certs.ca)
    out = r.output
    assert re.search(r"subject=\s*/?CN\s*=\s*localhost", out), out
    assert VERIFY_OK in out, out
    assert s_client_cipher(out), out
    # The proxy must survive a client that leaves right after the TLS handshake.
    assert proxy.running()
    r2 = mariadb(port=proxy.port, ca=certs.ca, batch=True, execute="SELECT 1")
    assert (r2.returncode, r2.stdout.strip()) == (0, "1"), r2.stderr


def test_client_cert_from_ca1_logs_in(proxy, certs):
    r = mariadb(port=proxy.port, ca=certs.ca, cert=certs.client_cert, key=certs.client_key, execute="status")
    assert r.returncode == 0, r.stderr
    assert helpers.status_cipher(r.stdout), r.stdout
    # And the same certificate in a TLS 1.2 handshake with s_client (positive control for below).
    r = s_client(proxy.port, "-tls1_2", "-CAfile", certs.ca, "-cert", certs.client_cert, "-key", certs.client_key)
    assert VERIFY_OK in r.output and s_client_cipher(r.output), r.output


def test_client_cert_from_other_ca_is_refused(proxy, certs):
    r = mariadb(port=proxy.port, ca=certs.ca, cert=certs.other_client_cert, key=certs.other_client_key,
                execute="SELECT 1")
    assert r.returncode != 0, r.stdout
    assert re.search(r"ERROR (2026|2013)", r.stderr), r.stderr

    # TLS 1.2: the client certificate is verified inside the handshake, so s_client sees it fail.
    r = s_client(proxy.port, "-tls1_2", "-CAfile", certs.ca, "-cert", certs.other_client_cert,
                 "-key", certs.other_client_key)
    out = r.output
    # s_client may already print the session before it reads the server's alert, so the
    # evidence is the exit status plus the alert the server sent.
    assert r.returncode != 0, out
    assert re.search(r"alert (unknown ca|bad certificate|certificate unknown|handshake failure|decrypt error)"
                     r"|SSL alert number (48|42|46|40|51)", out, re.I), out

    # The scripted client (TLS 1.3) gets no further than the TLS layer either.
    with wire.Connection.tcp("127.0.0.1", proxy.port) as c:
        c.read_greeting()
        ctx = wire.client_tls_context(certs.ca, certs.other_client_cert, certs.other_client_key)
        with pytest.raises((wire.ConnectionClosed, ssl.SSLError, ConnectionError, OSError)):
            c.send_ssl_request()
            c.start_tls(ctx)
            c.send_handshake_response("app", "app-pass", seq=2)
            c.read_auth_result("app-pass")
    assert proxy.running()


def test_tls1_1_refused_by_default(proxy, certs, openssl_supports_tls1_1):
    r = s_client(proxy.port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", certs.ca)
    out = r.output
    # The client really offered TLS 1.1 (it did not refuse locally)...
    assert "no protocols available" not in out, out
    assert "MySQL server does not support SSL" not in out, out
    # ...and the server refused it in the handshake.
    assert r.returncode != 0, out
    assert s_client_cipher(out) is None, out
    assert re.search(r"alert protocol version|SSL alert number 70|unsupported protocol|handshake failure",
                     out, re.I), out


def test_tls1_1_accepted_when_enabled(start_proxy, certs, openssl_supports_tls1_1):
    # Positive control for the test above: the same client succeeds once the proxy allows TLS 1.1.
    p = start_proxy({"tls_version": "TLSv1.1,TLSv1.2,TLSv1.3", "ssl_cipher": "DEFAULT@SECLEVEL=0"})
    r = s_client(p.port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", certs.ca)
    out = r.output
    assert s_client_cipher(out), out
    assert s_client_protocol(out) == "TLSv1.1", out


def test_tls1_2_and_1_3_both_accepted_by_default(proxy, certs):
    for flag, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
        r = s_client(proxy.port, flag, "-CAfile", certs.ca)
        assert VERIFY_OK in r.output and s_client_cipher(r.output), r.output
        assert s_client_protocol(r.output) == name, r.output
