"""SIGHUP = FLUSH SSL (docs/operations.md, "Reload"): a session opened before a reload keeps its
TLS session; new connections get the new certificate, TLS settings and CRL.
"""

from __future__ import annotations

from pathlib import Path


import certificates
import helpers
import option_files
import wire
from reload_rig import cli_tls, peer_cert, tls_session


# ---------------------------------------------------------------------------
# 1. A session opened before a reload keeps working after it
# ---------------------------------------------------------------------------
def test_session_opened_before_reload_keeps_running_queries(rig):
    r = rig()
    old = tls_session(r.proxy.port, r.ca)
    try:
        assert peer_cert(old).serial == r.first.serial
        conn_id = old.query("SELECT CONNECTION_ID()")[0][0]
        assert old.query("SELECT 1") == [["1"]]

        new_cert, new_key = r.new_cert("second", "reload-second")
        certificates.install_cert(new_cert, new_key, r.cert, r.key)
        r.reload()

        # The old session: same backend connection, still answering, also a multi-packet result.
        assert old.query("SELECT CONNECTION_ID()") == [[conn_id]]
        for i in range(20):
            assert old.query(f"SELECT {i} + 1") == [[str(i + 1)]]
        rows = old.query("SELECT REPEAT('x', 200000)")
        assert rows == [["x" * 200000]]
        assert peer_cert(old).serial == r.first.serial  # it keeps its TLS session

        # New sessions get the new certificate.
        new = tls_session(r.proxy.port, r.ca)
        try:
            assert peer_cert(new).serial == certificates.cert_info(new_cert).serial
            assert new.query("SELECT 1") == [["1"]]
        finally:
            new.quit()

        # A second reload while the old session is still open changes nothing for it either.
        r.reload()
        assert old.query("SELECT CONNECTION_ID()") == [[conn_id]]
    finally:
        old.quit()


# ---------------------------------------------------------------------------
# 2. openssl s_client sees the new certificate after SIGHUP
# ---------------------------------------------------------------------------
def test_s_client_sees_new_certificate_after_sighup(rig):
    r = rig()
    before = certificates.served_cert(r.proxy.port)
    assert (before.subject, before.serial) == (r.first.subject, r.first.serial)

    new_cert, new_key = r.new_cert("second", "reload-second")
    want = certificates.cert_info(new_cert)
    assert want.serial != before.serial and want.subject != before.subject
    certificates.install_cert(new_cert, new_key, r.cert, r.key)
    lines = r.reload()

    done = next(l for l in lines if "reload succeeded" in l)
    assert "certificate=" in done and "reload-second" in done, done
    assert "expires=" in done, done
    after = certificates.served_cert(r.proxy.port)
    assert (after.subject, after.serial) == (want.subject, want.serial)
    # Verifying clients still get in (same CA, SAN 127.0.0.1).
    ok = cli_tls(r.proxy.port, r.ca)
    assert ok.returncode == 0, ok.output


def test_option_file_tls_settings_apply_on_reload(rig):
    # Unlike MariaDB (read-only variables), the option file is re-read: new ssl_cert/ssl_key
    # paths and a new tls_version apply to new connections.
    r = rig()
    assert helpers.s_client_protocol(helpers.s_client(r.proxy.port, "-tls1_2").stdout) == "TLSv1.2"
    cert, key = r.new_cert("elsewhere", "reload-elsewhere")
    cfg = r.proxy.config
    option_files.set_option(cfg, "ssl_cert", cert)
    option_files.set_option(cfg, "ssl_key", key)
    option_files.set_option(cfg, "tls_version", "TLSv1.3")
    r.reload()
    assert certificates.served_cert(r.proxy.port).serial == certificates.cert_info(cert).serial
    old_protocol = helpers.s_client(r.proxy.port, "-tls1_2")
    assert helpers.s_client_cipher(old_protocol.stdout) is None, f"TLSv1.2 still accepted:\n{old_protocol.stdout}"
    assert helpers.s_client_protocol(helpers.s_client(r.proxy.port, "-tls1_3").stdout) == "TLSv1.3"
    assert cli_tls(r.proxy.port, r.ca).returncode == 0


def test_reloaded_crl_refuses_revoked_client_certificate(rig, certs, tmp_path):
    crl = certificates.Crl(Path(certs.ca).parent, tmp_path / "crl-db")
    crl_file = crl.write(tmp_path / "crl.pem")  # nothing revoked yet
    r = rig("CREATE USER 'app'@'%' REQUIRE X509;\n", ssl_crl=crl_file)

    def x509_login(name: str) -> helpers.Run:
        return helpers.mariadb(port=r.proxy.port, ca=r.ca, verify=True, cert=certs.path(f"{name}-cert.pem"),
                               key=certs.path(f"{name}-key.pem"), batch=True, execute="SELECT CURRENT_USER()")

    for name in ("client", "bob"):
        ok = x509_login(name)
        assert ok.returncode == 0 and ok.stdout.strip() == "app@%", ok.output
    old = wire.Connection.tcp("127.0.0.1", r.proxy.port, timeout=15)
    try:
        old.login("app", "app-pass", tls=wire.client_tls_context(r.ca, certs.client_cert, certs.client_key))
        crl.revoke(certs.client_cert)
        crl.write(crl_file)
        r.reload()
        refused = x509_login("client")
        assert refused.returncode != 0, f"revoked certificate still accepted after the reload:\n{refused.output}"
        still = x509_login("bob")
        assert still.returncode == 0, still.output
        assert old.query("SELECT 1") == [["1"]]  # the session opened before keeps going
    finally:
        old.quit()
