"""backend_ssl: TLS from the proxy to a backend that has it (docs/configuration.md "TLS to the backend").

A TLS-enabled mariadbd with require_secure_transport=ON (so a plaintext login cannot succeed) and
the suite's server certificate (SAN DNS:localhost, IP:127.0.0.1, IP:::1), listening on 127.0.0.1
and 127.0.0.2 (an address its certificate does not name). The proxy sends its own SSLRequest,
verifies the backend's certificate, and relays the login and the session over that TLS connection.
"""

from __future__ import annotations

import re
import socket
from typing import Iterator

import pytest

import backends
import helpers
import processes
import wire



@pytest.fixture(scope="module")
def tls_backend(prerequisites, certs, tmp_path_factory) -> Iterator[backends.Backend]:
    d = tmp_path_factory.mktemp("tlsbe")
    opts = ["--ssl", f"--ssl-cert={certs.server_cert}", f"--ssl-key={certs.server_key}", f"--ssl-ca={certs.ca}",
            "--require-secure-transport=ON", "--bind-address=127.0.0.1,127.0.0.2",
            "--proxy-protocol-networks=127.0.0.1"]
    try:
        b = backends.Backend.start(d, extra_opts=opts)
    except AssertionError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        assert b.sql("SELECT @@have_ssl, @@require_secure_transport").split() == ["YES", "1"]
        b.sql("CREATE USER 'x509app'@'%' IDENTIFIED BY 'x509-pass' REQUIRE X509; "
              "GRANT SELECT ON *.* TO 'x509app'@'%'")
        yield b
    finally:
        b.stop()


def backend_tls_options(backend: backends.Backend, certs, **extra: object) -> dict[str, object]:
    options: dict[str, object] = {"backend_port": backend.port, "backend_ssl": True, "backend_ssl_ca": certs.ca}
    options.update(extra)
    return options


def status(proxy: processes.LoggedProcess, name: str, *, ssl: bool = True, user: str = "app",
           password: str = "app-pass") -> helpers.Run:
    return helpers.mariadb(port=proxy.port, ssl=ssl, ca=None, verify=False, user=user, password=password,
                           batch=True, execute=f"SHOW SESSION STATUS LIKE '{name}'")


def status_value(run: helpers.Run) -> str:
    assert run.returncode == 0, run.output
    fields = run.stdout.split()
    return fields[1] if len(fields) > 1 else ""


def test_verified_backend_tls_carries_the_login_and_the_session(start_proxy, tls_backend, certs):
    proxy = start_proxy(backend_tls_options(tls_backend, certs))
    # TLS client, and a plaintext client (the legs' sequence ids then differ by two).
    for ssl in (True, False):
        r = helpers.mariadb(port=proxy.port, ssl=ssl, ca=certs.ca, verify=ssl, batch=True,
                            execute="SHOW SESSION STATUS LIKE 'Ssl_cipher'; SELECT CONCAT('relayed-', 6*7)")
        assert r.returncode == 0, r.output + proxy.log_text()
        lines = r.stdout.splitlines()
        assert lines[0].startswith("Ssl_cipher\t") and lines[0].split("\t")[1], r.stdout
        assert lines[1] == "relayed-42"
    # An account whose plugin switches the authentication method (AuthSwitchRequest over TLS).
    r = helpers.mariadb(port=proxy.port, user="ed", password="ed-pass", ssl=False, batch=True, execute="SELECT 1")
    assert r.returncode == 0, r.output
    # A larger result streams back through both TLS legs.
    r = helpers.mariadb(port=proxy.port, ca=certs.ca, batch=True, execute="SELECT REPEAT('x', 3000000)")
    assert r.returncode == 0 and len(r.stdout.strip()) == 3000000, r.stderr


def test_half_close_still_gets_the_backends_answer(start_proxy, tls_backend, certs):
    """A query, then the client's FIN: the proxy sends close_notify to the backend and still relays
    the answer it sends back over TLS."""
    proxy = start_proxy(backend_tls_options(tls_backend, certs))
    with wire.Connection.tcp("127.0.0.1", proxy.port, timeout=15) as c:
        c.login("app", "app-pass")
        c.send_packet(bytes([wire.COM_QUERY]) + b"SELECT SLEEP(0.2), 6 * 7", 0)
        c.sock.shutdown(socket.SHUT_WR)
        _, rest = c.wait_closed(timeout=15)  # what came before the proxy closed
        assert b"42" in rest, f"no result after the half-close: {rest!r}"


def test_proxy_protocol_header_goes_first_then_tls(start_proxy, tls_backend, certs):
    """backend_proxy_protocol with backend_ssl: the header precedes the greeting in plaintext, TLS
    follows. A client of the proxy's socket is sent as AF_UNIX, which the backend takes for localhost."""
    proxy = start_proxy(backend_tls_options(tls_backend, certs, backend_proxy_protocol="v2"))
    r = helpers.mariadb(socket_path=proxy.socket, ssl=False, batch=True,
                        execute="SELECT USER(); SHOW SESSION STATUS LIKE 'Ssl_version'")
    assert r.returncode == 0, r.output + proxy.log_text()
    lines = r.stdout.splitlines()
    assert lines[0] == "app@localhost", r.stdout
    assert lines[1].startswith("Ssl_version\tTLSv1."), r.stdout


def test_backend_certificate_from_another_ca_is_refused(start_proxy, tls_backend, certs):
    proxy = start_proxy(backend_tls_options(tls_backend, certs, backend_ssl_ca=certs.other_ca))
    r = helpers.mariadb(port=proxy.port, ca=certs.ca, execute="SELECT 1")
    assert r.returncode != 0
    assert "ERROR 1429 (HY000)" in r.stderr and "certificate verify failed" in r.stderr, r.stderr
    # The backend sends its chain with Test CA 1 in it, which other-ca.pem does not trust.
    proxy.wait_for_log(re.compile(r"TLS with the backend failed.*certificate verify failed: self-signed certificate in certificate chain"))


def test_backend_address_not_in_its_certificate_is_refused(start_proxy, tls_backend, certs):
    proxy = start_proxy(backend_tls_options(tls_backend, certs, backend_host="127.0.0.2"))
    r = helpers.mariadb(port=proxy.port, ca=certs.ca, execute="SELECT 1")
    assert "ERROR 1429 (HY000)" in r.stderr, r.output
    proxy.wait_for_log(re.compile(r"TLS with the backend failed.*certificate verify failed: IP address mismatch"))
    # The same server by a name its certificate does name.
    named = start_proxy(backend_tls_options(tls_backend, certs, backend_host="localhost"))
    r = helpers.mariadb(port=named.port, ca=certs.ca, execute="SELECT 1")
    assert r.returncode == 0, r.output + named.log_text()


def test_verification_off_accepts_any_certificate(start_proxy, tls_backend, certs):
    proxy = start_proxy(backend_tls_options(tls_backend, certs, backend_ssl_ca=certs.other_ca,
                                            backend_ssl_verify_server_cert=False))
    assert status_value(status(proxy, "Ssl_cipher"))


def test_backend_without_tls_is_refused_and_sees_no_login(start_proxy, backend, certs):
    general = backend.dir / "backend-tls-test-general.log"
    backend.sql(f"SET GLOBAL general_log_file='{general}'; SET GLOBAL general_log=ON")
    try:
        log = backends.GeneralLog(general)
        proxy = start_proxy({"backend_port": backend.port, "backend_ssl": True, "backend_ssl_ca": certs.ca})
        r = helpers.mariadb(port=proxy.port, ca=certs.ca, execute="SELECT 'must-not-run'")
        assert r.returncode != 0
        assert "ERROR 1429 (HY000)" in r.stderr and "does not offer TLS" in r.stderr, r.stderr
        proxy.wait_for_log(r"backend_ssl is ON but the backend does not offer TLS")
        backend.sql("SELECT 'general-log-marker'")
        text = log.new_text()
        assert "general-log-marker" in text
        assert "app@" not in text and "must-not-run" not in text, text
    finally:
        backend.sql("SET GLOBAL general_log=OFF")


def test_sessions_are_resumed(start_proxy, tls_backend, certs):
    proxy = start_proxy(backend_tls_options(tls_backend, certs, log_level="debug"))
    for _ in range(3):
        assert status_value(status(proxy, "Ssl_cipher"))
    # SSL_session_reused on the proxy's side: true only when the backend accepted the session.
    established = [line for line in proxy.log_lines() if "backend TLS established" in line]
    assert len(established) == 3, established
    assert "session_reused=false" in established[0]
    assert all("session_reused=true" in line for line in established[1:]), established


def test_proxy_client_certificate_needs_strict_accounts_and_the_accounts_file_decides(proxies, start_proxy, tls_backend, certs, tmp_path):
    without = start_proxy(backend_tls_options(tls_backend, certs))
    r = helpers.mariadb(port=without.port, ca=certs.ca, user="x509app", password="x509-pass", execute="SELECT 1")
    assert "ERROR 1045 (28000)" in r.stderr, r.output
    # The backend would take the proxy's certificate for every client's: without strict_accounts,
    # which makes the accounts file check every client's own, the proxy refuses to start.
    with_cert = backend_tls_options(tls_backend, certs, backend_ssl_cert=certs.client_cert, backend_ssl_key=certs.client_key)
    r = proxies.run(proxies.config(with_cert), "--check")
    assert r.returncode == 78 and "backend_ssl_cert needs strict_accounts = ON" in r.stderr, r.output
    accounts = tmp_path / "accounts.sql"
    accounts.write_text("CREATE USER 'x509app'@'%' REQUIRE X509;\nCREATE USER 'app'@'%';\n")
    proxy = start_proxy({**with_cert, "strict_accounts": "ON", "accounts": accounts})
    r = helpers.mariadb(port=proxy.port, ca=certs.ca, user="x509app", password="x509-pass", execute="SELECT 1")
    assert "ERROR 1045 (28000)" in r.stderr, r.output + proxy.log_text()
    r = helpers.mariadb(port=proxy.port, ca=certs.ca, user="x509app", password="x509-pass", batch=True,
                        cert=certs.client_cert, key=certs.client_key, execute="SHOW SESSION STATUS LIKE 'Ssl_cipher'")
    assert r.returncode == 0, r.output + proxy.log_text()


def test_reload_changes_the_backend_ca_and_a_missing_ca_keeps_the_old_one(start_proxy, tls_backend, certs):
    proxy = start_proxy(backend_tls_options(tls_backend, certs, backend_ssl_ca=certs.other_ca))
    assert "ERROR 1429" in helpers.mariadb(port=proxy.port, ca=certs.ca, execute="SELECT 1").stderr

    def set_ca(path: str) -> None:
        text = re.sub(r"(?m)^backend_ssl_ca=.*$", f"backend_ssl_ca={path}", proxy.config.read_text())
        proxy.config.write_text(text)

    set_ca(certs.ca)
    processes.reload(proxy, succeeds=True)
    assert status_value(status(proxy, "Ssl_cipher"))
    set_ca(str(proxy.workdir / "missing-ca.pem"))
    processes.reload(proxy, succeeds=False)
    assert any("backend_ssl_ca" in line and "missing-ca.pem" in line for line in proxy.log_lines())
    assert status_value(status(proxy, "Ssl_cipher"))


def test_bad_backend_ca_fails_at_startup(proxies, tls_backend, certs):
    d = proxies.new_dir()
    cfg = proxies.config(backend_tls_options(tls_backend, certs, backend_ssl_ca=str(d / "no-such-ca.pem")), d=d)
    r = proxies.run(cfg, "--check")
    assert r.returncode != 0
    assert "backend_ssl_ca" in r.output and "no-such-ca.pem" in r.output, r.output
