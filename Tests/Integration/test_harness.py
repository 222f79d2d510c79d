"""Self-checks of the harness itself, straight against the backend (no proxy needed).

If these fail, the proxy tests cannot mean anything: fix the fixtures first.
"""


import helpers
import wire


def test_certificates_chain_as_documented(certs):
    openssl = helpers.which("openssl")
    ok = helpers.run([openssl, "verify", "-CAfile", certs.ca, certs.server_cert, certs.client_cert])
    assert ok.returncode == 0, ok.output
    other = helpers.run([openssl, "verify", "-CAfile", certs.other_ca, certs.other_client_cert])
    assert other.returncode == 0, other.output
    cross = helpers.run([openssl, "verify", "-CAfile", certs.ca, certs.other_client_cert])
    assert cross.returncode != 0, "the Other CA client certificate must not verify against CA 1"
    text = helpers.run([openssl, "x509", "-in", certs.server_cert, "-noout", "-text"]).stdout
    assert "DNS:localhost" in text and "IP Address:127.0.0.1" in text and "IP Address:0:0:0:0:0:0:0:1" in text
    assert "CN = localhost" in text or "CN=localhost" in text


def test_backend_is_plaintext_and_accounts_work(backend):
    r = helpers.mariadb(port=backend.port, ssl=False, execute="status")
    assert r.returncode == 0, r.stderr
    assert helpers.SSL_NOT_IN_USE_RE.search(r.stdout), r.stdout
    r = helpers.mariadb(port=backend.port, ssl=False, user="ed", password="ed-pass", batch=True,
                        execute="SELECT CURRENT_USER()")
    assert (r.returncode, r.stdout.strip()) == (0, "ed@%"), r.stderr
    bad = helpers.mariadb(port=backend.port, ssl=False, password="wrong", execute="SELECT 1")
    assert bad.returncode != 0
    assert "ERROR 1045 (28000): Access denied for user 'app'@" in bad.stderr


def test_backend_greeting_has_no_ssl_and_scripted_login_works(backend):
    with wire.Connection.tcp("127.0.0.1", backend.port) as c:
        g = c.read_greeting()
        assert g.seq == 0 and g.protocol == 10 and "MariaDB" in g.server_version
        assert not g.capabilities & wire.CLIENT_SSL, "backend must be --skip-ssl"
        assert len(g.scramble) == 20 and g.auth_plugin == "mysql_native_password"
        ok = c.login("app", "app-pass")
        assert ok.seq == 2
        assert c.query("SELECT CONCAT('a', 'b'), CURRENT_USER()") == [["ab", "app@%"]]
    with wire.Connection.tcp("127.0.0.1", backend.port) as c:
        try:
            c.login("app", "nope")
        except wire.ServerError as e:
            assert e.code == 1045 and e.err.sqlstate == "28000" and e.err.seq == 2
        else:
            raise AssertionError("wrong password accepted")
