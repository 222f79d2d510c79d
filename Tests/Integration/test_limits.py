"""max_connections and connect_timeout."""

import time

import pytest

import wire
from helpers import mariadb


def test_max_connections_answers_1040_at_seq0(start_proxy, certs):
    p = start_proxy({"max_connections": 2})
    held = [wire.Connection.tcp("127.0.0.1", p.port) for _ in range(2)]
    try:
        for c in held:
            g = c.read_greeting()
            assert g.protocol == 10

        with wire.Connection.tcp("127.0.0.1", p.port) as third:
            pkt = third.read_first_packet()
            assert pkt.is_err, f"expected ERR 1040, got {pkt.payload[:40]!r}"
            err = wire.ErrPacket.parse(pkt)
            assert pkt.seq == 0
            assert err.code == 1040
            assert err.sqlstate is None and pkt.payload[3:4] != b"#", pkt.payload
            assert err.message == "Too many connections"
            third.wait_closed(10)

        # The CLI shows the same error.
        r = mariadb(port=p.port, ca=certs.ca, execute="SELECT 1")
        assert r.returncode != 0 and "1040" in r.stderr and "Too many connections" in r.stderr, r.stderr

        # Free one slot; a new client gets a greeting again. The slot is released asynchronously
        # after the close, so retry briefly (bounded) instead of sleeping a fixed time.
        held.pop(0).close()
        deadline = time.monotonic() + 10
        while True:
            with wire.Connection.tcp("127.0.0.1", p.port) as c:
                pkt = c.read_first_packet()
                if not pkt.is_err:
                    assert c.greeting is not None and c.greeting.protocol == 10
                    ok = c.login("app", "app-pass", tls=wire.client_tls_context(certs.ca))
                    assert ok.is_ok
                    break
                assert wire.ErrPacket.parse(pkt).code == 1040
            assert time.monotonic() < deadline, "no greeting within 10 s after a slot was freed"
            time.sleep(0.05)
    finally:
        for c in held:
            c.close()


def test_connect_timeout_drops_silent_plaintext_client(start_proxy):
    p = start_proxy({"connect_timeout": 2})
    t0 = time.monotonic()
    with wire.Connection.tcp("127.0.0.1", p.port, timeout=20) as c:
        c.read_greeting()
        c.wait_closed(timeout=15)
        elapsed = time.monotonic() - t0
    assert elapsed >= 1.5, f"closed after {elapsed:.2f}s, before connect_timeout=2"
    assert elapsed < 15


def test_connect_timeout_drops_tls_client_without_handshake_response(start_proxy, certs):
    p = start_proxy({"connect_timeout": 2})
    t0 = time.monotonic()
    with wire.Connection.tcp("127.0.0.1", p.port, timeout=20) as c:
        c.read_greeting()
        c.send_ssl_request()
        c.start_tls(wire.client_tls_context(certs.ca))
        # TLS is up; now say nothing.
        c.wait_closed(timeout=15)
        elapsed = time.monotonic() - t0
    assert elapsed >= 1.5, f"closed after {elapsed:.2f}s, before connect_timeout=2"


def test_connect_timeout_does_not_cut_logged_in_sessions(start_proxy, certs):
    # The timeout applies to the login only; an authenticated idle session stays open.
    p = start_proxy({"connect_timeout": 2})
    with wire.Connection.tcp("127.0.0.1", p.port, timeout=20) as c:
        c.login("app", "app-pass", tls=wire.client_tls_context(certs.ca))
        with pytest.raises(AssertionError, match="still open"):
            c.wait_closed(timeout=3.5)
        assert c.query("SELECT 7") == [["7"]]
