"""TLS logins through the proxy with the real mariadb CLI (tests 1, 3, 4, 5)."""

import re

import helpers
from helpers import mariadb, status_cipher

QUERY = "SELECT CONCAT('via-', 'proxy'), CURRENT_USER(), @@port"


def assert_tls_status(r: helpers.Run) -> str:
    assert r.returncode == 0, f"rc={r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    cipher = status_cipher(r.stdout)
    assert cipher, f"status does not show a cipher in use:\n{r.stdout}"
    assert re.match(r"^(TLS_|ECDHE-|DHE-|AES)", cipher), cipher
    return cipher


def test_tls_login_over_tcp_verifies_server_cert(proxy, certs, backend):
    # --ssl-verify-server-cert: the server cert's SAN IP:127.0.0.1 must match the host.
    r = mariadb(port=proxy.port, ca=certs.ca, verify=True, execute="status")
    assert_tls_status(r)
    assert "via TCP/IP" in r.stdout

    r = mariadb(port=proxy.port, ca=certs.ca, verify=True, batch=True, execute=QUERY)
    assert r.returncode == 0, r.stderr
    # @@port proves the session really runs on the backend behind the proxy.
    assert r.stdout.split("\n")[0].split("\t") == ["via-proxy", "app@%", str(backend.port)]


def test_tls_login_over_tcp_rejects_wrong_ca(proxy, certs):
    # Control for the test above: verification is really on, so a wrong CA must fail.
    r = mariadb(port=proxy.port, ca=certs.other_ca, verify=True, execute="SELECT 1")
    assert r.returncode != 0
    assert "ERROR 2026" in r.stderr, r.stderr


def test_tls_login_over_unix_socket(proxy, certs, backend):
    # Over a socket Connector/C verifies the certificate against the name "localhost".
    r = mariadb(socket_path=proxy.socket, ca=certs.ca, verify=True, execute="status")
    assert_tls_status(r)
    assert "via UNIX socket" in r.stdout or "Localhost via UNIX socket" in r.stdout, r.stdout

    r = mariadb(socket_path=proxy.socket, ca=certs.ca, verify=False, batch=True, execute=QUERY)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[0].split("\t") == ["via-proxy", "app@%", str(backend.port)]


def test_connection_closed_log_line(proxy, certs):
    before = len(proxy.closed_lines())
    r = mariadb(port=proxy.port, ca=certs.ca, execute="SELECT 1")
    assert r.returncode == 0, r.stderr
    lines = proxy.wait_for_log("connection closed", start=0, count=before + 1)
    line = next((l for l in lines if re.search(r"\buser=[\"']?app\b", l)), None)
    assert line is not None, f"no 'connection closed' line with user=app:\n{proxy.log_text()}"
    assert "outcome=" in line and "tls=" in line, line
    assert not re.search(r"\btls=[\"']?(none|no|off|false)\b", line, re.I), f"TLS session logged as plaintext: {line}"


def test_wrong_password_is_access_denied(proxy, certs):
    r = mariadb(port=proxy.port, ca=certs.ca, password="not-the-password", execute="SELECT 1")
    assert r.returncode != 0
    assert re.search(r"ERROR 1045 \(28000\): Access denied for user 'app'@'[^']+' \(using password: YES\)",
                     r.stderr), r.stderr


def test_ed25519_account_over_tls(proxy, certs):
    r = mariadb(port=proxy.port, ca=certs.ca, user="ed", password="ed-pass", execute="status")
    assert_tls_status(r)
    r = mariadb(port=proxy.port, ca=certs.ca, user="ed", password="ed-pass", batch=True,
                execute="SELECT CURRENT_USER()")
    assert (r.returncode, r.stdout.strip()) == (0, "ed@%"), r.stderr
    bad = mariadb(port=proxy.port, ca=certs.ca, user="ed", password="wrong", execute="SELECT 1")
    assert bad.returncode != 0 and "ERROR 1045 (28000)" in bad.stderr, bad.stderr


BIG_QUERY = "SELECT REPEAT(CHAR(65 + seq % 26), 1024) FROM seq_1_to_65536"
BIG_BYTES = 65536 * 1025  # 1024 characters + newline per row


def test_64mb_result_crosses_intact(proxy, certs, backend):
    rc, via_proxy, n_proxy, err = helpers.mariadb_stream_sha256(
        port=proxy.port, ca=certs.ca, batch=True, database="mysql", execute=BIG_QUERY)
    assert rc == 0, err
    rc, direct, n_direct, err = helpers.mariadb_stream_sha256(
        socket_path=backend.socket, ssl=False, batch=True, database="mysql", execute=BIG_QUERY)
    assert rc == 0, err
    assert n_direct == BIG_BYTES, n_direct
    assert (n_proxy, via_proxy) == (n_direct, direct)
