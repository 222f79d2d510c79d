"""`backend_connect_attributes` (docs/configuration.md): the relayed login carries the proxy's
`_proxy_*` connect attributes, which performance_schema.session_connect_attrs on a real backend
shows; a client's own `_proxy_*` attributes never reach the backend."""

from __future__ import annotations

import shutil
import signal
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

import helpers
import option_files
import wire
from backends import Backend

ATTRS_SQL = ("SELECT ATTR_NAME, ATTR_VALUE FROM performance_schema.session_connect_attrs "
             "WHERE PROCESSLIST_ID = CONNECTION_ID() ORDER BY ORDINAL_POSITION")


@pytest.fixture(scope="module")
def ps_backend(prerequisites) -> Iterator[Backend]:
    d = Path(tempfile.mkdtemp(prefix="mtp-psattrs-"))
    b = Backend.start(d, extra_opts=["--performance-schema=ON"])
    yield b
    b.kill()
    shutil.rmtree(d, ignore_errors=True)


def login(c: wire.Connection, *, tls, attrs: dict[str, str] | None = None) -> None:
    c.read_greeting()
    seq = 1
    if tls is not None:
        # MariaDB takes the capabilities from the SSLRequest (the response's are ignored).
        c.send_ssl_request(wire.DEFAULT_CLIENT_CAPS | wire.CLIENT_CONNECT_ATTRS, seq=1)
        c.start_tls(tls)
        seq = 2
    c.send_handshake_response("app", "app-pass", seq=seq,
                              caps=(c.caps or wire.DEFAULT_CLIENT_CAPS) | wire.CLIENT_CONNECT_ATTRS
                              | (wire.CLIENT_SSL if tls is not None else 0),
                              attrs={"_client_name": "wire.py", **(attrs or {})})
    c.read_auth_result("app-pass")


def session_attrs(port: int, *, tls, attrs: dict[str, str] | None = None) -> list[tuple[str, str]]:
    with wire.Connection.tcp("127.0.0.1", port) as c:
        login(c, tls=tls, attrs=attrs)
        return [(name, value) for name, value in c.query(ATTRS_SQL)]


def start(start_proxy, backend: Backend, **options):
    return start_proxy({"backend_port": backend.port, **options})


def test_the_proxys_attributes_reach_the_backend(start_proxy, ps_backend, certs):
    p = start(start_proxy, ps_backend, backend_connect_attributes="ON")
    tls = wire.client_tls_context(certs.ca, certs.client_cert, certs.client_key)
    got = dict(session_attrs(p.port, tls=tls))
    assert got["_client_name"] == "wire.py", got
    assert got["_proxy_tls_version"] == "TLSv1.3", got
    assert got["_proxy_tls_cipher"].startswith("TLS_"), got
    assert got["_proxy_client_subject"] == helpers.run(
        ["openssl", "x509", "-noout", "-subject", "-nameopt", "compat", "-in", certs.client_cert]
    ).stdout.strip().removeprefix("subject="), got
    assert got["_proxy_client_address"] == "127.0.0.1", got

    plain = dict(session_attrs(p.port, tls=None))
    assert "_proxy_tls_version" not in plain and "_proxy_client_subject" not in plain, plain
    assert plain["_proxy_client_address"] == "127.0.0.1", plain


@pytest.mark.parametrize("option", ["ON", "OFF"])
def test_a_clients_own_proxy_attributes_never_reach_the_backend(start_proxy, ps_backend, certs, option):
    p = start(start_proxy, ps_backend, backend_connect_attributes=option)
    forged = {"_proxy_client_address": "203.0.113.66", "_proxy_tls_version": "TLSv1.3", "_os": "Linux"}
    got = session_attrs(p.port, tls=None, attrs=forged)
    names = [name for name, _ in got]
    assert "_os" in names and "_client_name" in names, got
    assert ("_proxy_client_address", "203.0.113.66") not in got and ("_proxy_tls_version", "TLSv1.3") not in got, got
    if option == "OFF":
        assert not any(name.startswith("_proxy_") for name in names), got
    else:
        assert dict(got)["_proxy_client_address"] == "127.0.0.1", got


@pytest.mark.parametrize("option", ["ON", "OFF"])
def test_a_change_of_user_cannot_smuggle_proxy_attributes_either(start_proxy, ps_backend, option):
    # MariaDB replaces the session's attributes with those of a COM_CHANGE_USER.
    p = start(start_proxy, ps_backend, backend_connect_attributes=option)
    with wire.Connection.tcp("127.0.0.1", p.port) as c:
        login(c, tls=None)
        c.change_user("app", "app-pass", attrs={"_proxy_client_address": "203.0.113.66", "_os": "changed"})
        got = [(name, value) for name, value in c.query(ATTRS_SQL)]
    assert ("_os", "changed") in got, got
    assert ("_proxy_client_address", "203.0.113.66") not in got, got
    if option == "ON":
        assert dict(got)["_proxy_client_address"] == "127.0.0.1", got
    else:
        assert not any(name.startswith("_proxy_") for name, _ in got), got


def test_the_option_follows_reloads(start_proxy, ps_backend):
    p = start(start_proxy, ps_backend)
    assert not any(n.startswith("_proxy_") for n, _ in session_attrs(p.port, tls=None))
    option_files.set_option(p.config, "backend_connect_attributes", "ON")
    mark = len(p.log_lines())
    p.signal(signal.SIGHUP)
    p.wait_for_log("reload succeeded", start=mark, timeout=20)
    assert dict(session_attrs(p.port, tls=None)).get("_proxy_client_address") == "127.0.0.1"
