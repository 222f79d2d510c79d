"""require_secure_transport and what the proxy advertises in the greeting."""

import pytest

import helpers
import wire
from helpers import INSECURE_TRANSPORT_MSG, mariadb


def test_greeting_adds_ssl_and_drops_compress(proxy, backend):
    with wire.Connection.tcp("127.0.0.1", backend.port) as direct:
        bg = direct.read_greeting()
    with wire.Connection.tcp("127.0.0.1", proxy.port) as c:
        g = c.read_greeting()
    assert g.seq == 0 and g.protocol == 10
    assert g.capabilities & wire.CLIENT_SSL
    assert not g.capabilities & wire.CLIENT_COMPRESS
    assert not g.capabilities & wire.CLIENT_LONG_PASSWORD, "bit 0 must stay clear (MariaDB ext caps)"
    assert "MariaDB" in g.server_version
    # Everything else is the backend's.
    expected = (bg.capabilities | wire.CLIENT_SSL) & ~wire.CLIENT_COMPRESS
    assert g.capabilities == expected, f"{g.capabilities:#x} != {expected:#x}"
    assert g.ext_capabilities == bg.ext_capabilities
    assert g.server_version == bg.server_version
    assert len(g.scramble) == 20 and g.auth_plugin == "mysql_native_password"


def test_plaintext_tcp_refused_with_3159_when_required(start_proxy, certs):
    p = start_proxy({"require_secure_transport": "ON"})

    r = mariadb(port=p.port, ssl=False, execute="SELECT 1")
    assert r.returncode != 0
    assert f"ERROR 3159 (08004): {INSECURE_TRANSPORT_MSG}" in r.stderr, r.stderr

    with wire.Connection.tcp("127.0.0.1", p.port) as c:
        c.read_greeting()
        with pytest.raises(wire.ServerError) as ei:
            c.login("app", "app-pass")
        err = ei.value.err
        assert (err.code, err.sqlstate, err.seq, err.message) == (3159, "08004", 2, INSECURE_TRANSPORT_MSG)

    # Also for an account that does not exist (the check precedes the account lookup).
    with wire.Connection.tcp("127.0.0.1", p.port) as c:
        with pytest.raises(wire.ServerError) as ei:
            c.login("no-such-user", "x")
        assert ei.value.code == 3159

    # TLS over TCP still works under the policy.
    r = mariadb(port=p.port, ca=certs.ca, execute="status")
    assert r.returncode == 0, r.stderr
    assert helpers.status_cipher(r.stdout), r.stdout


def test_unix_socket_plaintext_allowed_when_required(start_proxy):
    p = start_proxy({"require_secure_transport": "ON"})
    r = mariadb(socket_path=p.socket, ssl=False, execute="status")
    assert r.returncode == 0, r.stderr
    assert helpers.SSL_NOT_IN_USE_RE.search(r.stdout), r.stdout
    r = mariadb(socket_path=p.socket, ssl=False, batch=True, execute="SELECT CURRENT_USER()")
    assert (r.returncode, r.stdout.strip()) == (0, "app@%"), r.stderr


def test_plaintext_relayed_when_not_required(start_proxy, backend):
    p = start_proxy({"require_secure_transport": "OFF"})
    r = mariadb(port=p.port, ssl=False, execute="status")
    assert r.returncode == 0, r.stderr
    assert helpers.SSL_NOT_IN_USE_RE.search(r.stdout), r.stdout
    r = mariadb(port=p.port, ssl=False, batch=True, execute="SELECT CURRENT_USER(), @@port")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["app@%", str(backend.port)]

    with wire.Connection.tcp("127.0.0.1", p.port) as c:
        ok = c.login("app", "app-pass")
        assert ok.seq == 2
        assert c.query("SELECT 40 + 2") == [["42"]]


def test_default_is_not_required(proxy):
    # require_secure_transport defaults to OFF.
    r = mariadb(port=proxy.port, ssl=False, batch=True, execute="SELECT 1")
    assert (r.returncode, r.stdout.strip()) == (0, "1"), r.stderr
