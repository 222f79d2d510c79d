"""Hostile and broken clients in the login: silent and stalled ones cut at connect_timeout, oversized
and malformed login packets refused with 1043, clients that leave at once logged and freed; each
with its log line, while real clients keep logging in (docs/architecture.md).

The proxies use the hostile suites' own backend (hostile_fixtures.py).
"""

from __future__ import annotations

import re
import socket
import ssl
import time

import pytest

import helpers
import hostile_support as hs
import metrics
import raw_sockets
import wire
from hostile_support import cli_login_ok, expect_bad_handshake, local_port, outcome_for


# ---------------------------------------------------------------------------
# Silent and stalled clients: cut at connect_timeout
# ---------------------------------------------------------------------------
def test_silent_and_stalled_clients_are_dropped_at_connect_timeout(hostile_proxy, certs):
    timeout = 3
    p = hostile_proxy({"connect_timeout": timeout})
    t0 = time.monotonic()
    # 1. Connects and never sends anything (it does get the greeting).
    silent = wire.Connection.tcp("127.0.0.1", p.port, timeout=20)
    # 2. SSLRequest, then half a ClientHello, then nothing.
    mid_tls = hs.connect_and_greet(p.port, timeout=20)
    mid_tls.send_ssl_request()
    hello = hs.client_hello(minimum=ssl.TLSVersion.TLSv1_2, maximum=ssl.TLSVersion.TLSv1_3, ciphers="DEFAULT")
    mid_tls.send_raw(hello[: len(hello) // 2])
    # 3. TLS up, but no HandshakeResponse.
    no_response = hs.connect_and_greet(p.port, timeout=20)
    no_response.send_ssl_request()
    no_response.start_tls(wire.client_tls_context(certs.ca))
    stalled = {"silent": silent, "mid-TLS": mid_tls, "TLS up, no login": no_response}
    try:
        # A real client logs in while they hang around.
        cli_login_ok(p, certs)
        assert time.monotonic() - t0 < timeout, "the CLI login was too slow to overlap with the stalled clients"

        for name, c in stalled.items():
            ending = raw_sockets.read_until_closed(c.sock, timeout=timeout + 8)
            elapsed = time.monotonic() - t0
            assert ending.how in ("eof", "reset"), f"{name}: still open {elapsed:.1f}s after connecting"
            assert elapsed >= timeout - 0.5, f"{name}: closed after {elapsed:.2f}s, before connect_timeout={timeout}"
            if name == "silent":
                # The greeting, then nothing more: MariaDB sends no ERR on a login timeout either.
                packets = raw_sockets.split_packets(ending.data)
                assert len(packets) == 1 and packets[0].payload[:1] == b"\x0a", ending.data[:80]
            elif name == "mid-TLS":
                assert ending.data == b"", f"{name}: unexpected bytes {ending.data[:40]!r}"
        for name, c in stalled.items():
            outcome = outcome_for(p, local_port(c))
            assert outcome == f"{hs.TIMEOUT_OUTCOME} ({timeout}s)", f"{name}: {outcome}"
        # TLS facts are logged for the one that got as far as TLS.
        line = p.wait_for_log(re.compile(rf"client=127\.0\.0\.1:{local_port(no_response)} "))[0]
        assert re.search(r"tls=TLSv1\.[23]/", line), line
        cli_login_ok(p, certs)
    finally:
        for c in stalled.values():
            c.close()


# ---------------------------------------------------------------------------
# Oversized login packets
# ---------------------------------------------------------------------------
def test_16mb_handshake_packet_is_refused_with_1043(hostile_proxy, certs):
    p = hostile_proxy({"connect_timeout": 10})
    with hs.connect_and_greet(p.port) as c:
        # Header: length 0xFFFFFF (a 16 MB packet that continues), seq 1; then the start of the data.
        c.send_raw(b"\xff\xff\xff\x01" + b"\x00" * 65536)
        ending = raw_sockets.read_until_closed(c.sock, timeout=5)
        assert ending.how in ("eof", "reset"), "connection still open after a 16 MB login packet header"
        assert ending.seconds < 3, f"took {ending.seconds:.1f}s: the proxy waited for the data"
        expect_bad_handshake(ending.data, seq=None)
        outcome = outcome_for(p, local_port(c))
    assert outcome.startswith("refused: 1043 bad handshake: packet too large"), outcome

    # The whole 16 MB, streamed: the proxy must cut it off early, not buffer it.
    with hs.connect_and_greet(p.port) as c:
        sent = 0
        err: Exception | None = None
        chunk = b"\xff\xff\xff\x01" + b"A" * (1 << 20)
        t0 = time.monotonic()
        try:
            while sent < (16 << 20):
                c.sock.sendall(chunk)
                sent += len(chunk)
        except OSError as e:  # reset or broken pipe once the proxy has closed
            err = e
        ending = raw_sockets.read_until_closed(c.sock, timeout=5)
        assert err is not None or ending.how in ("eof", "reset"), "proxy accepted 16 MB of login data"
        assert time.monotonic() - t0 < 5
        outcome = outcome_for(p, local_port(c))
    assert outcome.startswith("refused: 1043 bad handshake"), outcome
    cli_login_ok(p, certs)


def test_more_than_1mib_buffered_during_login_is_refused_with_1043(hostile_proxy, certs):
    p = hostile_proxy()
    with hs.connect_and_greet(p.port) as c:
        # A 2 MiB packet (legal framing, but no login packet is that large).
        c.send_raw(b"\x00\x00\x20\x01" + b"\x00" * ((1 << 20) + 4096))
        ending = raw_sockets.read_until_closed(c.sock, timeout=5)
        assert ending.how in ("eof", "reset"), "still open after 1 MiB of login data"
        expect_bad_handshake(ending.data, seq=None)
        outcome = outcome_for(p, local_port(c))
    assert outcome.startswith("refused: 1043 bad handshake: more than 1048576 bytes"), outcome
    cli_login_ok(p, certs)


@pytest.mark.parametrize("header", [b"\xff\xff\xff\x01", b"\x00\x00\x20\x01"], ids=["16MB-header", "2MiB-buffered"])
def test_oversized_login_packet_err_answers_with_the_next_sequence_id(hostile_proxy, header):
    # The client's packet carried seq 1, so the answer must be seq 2 (MariaDB's 1043 comes at seq 2
    # or 3, never 1; sql/sql_acl.cc). A malformed packet of normal size is answered at seq 2.
    p = hostile_proxy()
    with hs.connect_and_greet(p.port) as c:
        c.send_raw(header + b"\x00" * ((1 << 20) + 4096 if header[2] == 0x20 else 4096))
        ending = raw_sockets.read_until_closed(c.sock, timeout=5)
    expect_bad_handshake(ending.data, seq=2)


def test_malformed_handshake_response_err_at_seq_2(hostile_proxy):
    # Control for the test above: the same ERR for a short, malformed packet comes at seq 2.
    p = hostile_proxy()
    with hs.connect_and_greet(p.port) as c:
        c.send_raw(b"\x05\x00\x00\x01" + b"\x00" * 5)
        ending = raw_sockets.read_until_closed(c.sock, timeout=5)
        assert ending.how in ("eof", "reset")
        expect_bad_handshake(ending.data, seq=2)
        assert outcome_for(p, local_port(c)).startswith("refused: 1043 bad handshake: malformed HandshakeResponse")


# ---------------------------------------------------------------------------
# Clients that leave at once
# ---------------------------------------------------------------------------
def test_clients_closing_right_after_connecting_are_logged_and_freed(hostile_proxy, certs):
    # connect() + close() without waiting for the greeting: port scanners, health checks, load
    # balancer probes. Each such connection must end like any other: one log line, and nothing
    # left behind in the proxy's memory.
    p = hostile_proxy({"connect_timeout": 3})

    def burst(n: int) -> None:
        for _ in range(n):
            socket.create_connection(("127.0.0.1", p.port), timeout=5).close()

    def settle(expected_lines: int) -> int:
        # Every connection ends within connect_timeout (3 s) at the latest.
        deadline = time.monotonic() + 6
        while len(p.closed_lines()) < expected_lines and time.monotonic() < deadline:
            time.sleep(0.1)
        return len(p.closed_lines())

    warm, n = 300, 3000
    burst(warm)
    settle(warm)
    rss_before = metrics.proc_rss_kib(p.pid)
    logged_before = len(p.closed_lines())
    burst(n)
    logged = settle(logged_before + n) - logged_before
    rss_after = metrics.proc_rss_kib(p.pid)
    growth_kib = rss_after - rss_before
    facts = (f"{n} connect+close: {logged} 'connection closed' lines; RSS {rss_before} -> {rss_after} KiB "
             f"({growth_kib * 1024 // n} bytes per connection)")
    print(facts)
    assert logged == n, facts
    if not helpers.UNDER_SANITIZER:  # ASan/TSan hold freed memory back (quarantine, shadow)
        assert growth_kib < 4096, facts
    cli_login_ok(p, certs)
