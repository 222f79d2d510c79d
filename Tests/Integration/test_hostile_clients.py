"""Hostile and broken clients: each is answered or dropped as docs/architecture.md says, within
connect_timeout, with its log line, while real clients keep logging in.

The proxies here use a backend of this module's own, with max_connections raised: the proxy opens
one backend connection per client, so a thousand silent clients mean a thousand backend
connections (the shared backend keeps MariaDB's default of 151); its connect_timeout is raised too.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time

import pytest

import backends
import helpers
import hostile_support as hs
import metrics
import raw_sockets
import wire
from helpers import mariadb, s_client, s_client_cipher

CLOSED_RE = re.compile(r"connection closed .*client=127\.0\.0\.1:(\d+) .*outcome=\"([^\"]*)\"")


@pytest.fixture(scope="module")
def own_backend(prerequisites, tmp_path_factory):
    d = tmp_path_factory.mktemp("hb") / "be"
    # connect_timeout: clients held in their login for longer than mariadbd's default (10 s) keep
    # their backend connection, so what ends them is the proxy's own limit under test.
    b = backends.Backend.start(d, extra_opts=["--max-connections=3000", "--max-connect-errors=1000000",
                                                  "--connect-timeout=120"])
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture
def hostile_proxy(start_proxy, own_backend):
    """start(overrides) -> a proxy in front of this module's backend."""
    def start(overrides: dict[str, object] | None = None, **kw):
        return start_proxy({"backend_port": own_backend.port, **(overrides or {})}, **kw)
    return start


def cli_login_ok(p, certs) -> None:
    """The mariadb CLI logs in over TLS (verifying the certificate) and runs a query."""
    r = mariadb(port=p.port, ca=certs.ca, batch=True, execute="SELECT 40 + 2")
    assert (r.returncode, r.stdout.strip()) == (0, "42"), f"rc={r.returncode}\n{r.stderr}\n{p.log_text()[-3000:]}"


def outcome_for(p, local_port: int, *, timeout: float = 10.0) -> str:
    """The outcome logged for the connection from 127.0.0.1:local_port (waits for its line)."""
    line = p.wait_for_log(re.compile(rf"connection closed .*client=127\.0\.0\.1:{local_port} "), timeout=timeout)[0]
    m = CLOSED_RE.search(line)
    assert m, line
    return m.group(2)


def local_port(c: wire.Connection) -> int:
    return c.sock.getsockname()[1]


def expect_bad_handshake(data: bytes, *, seq: int | None = 2) -> wire.ErrPacket:
    """`data` is (optionally) TLS alert records, then exactly one MariaDB ERR 1043 in plaintext."""
    records, rest = raw_sockets.split_tls_records(data)
    assert all(r.content_type == 21 for r in records), f"non-alert TLS records before the ERR: {records}"
    packets = raw_sockets.split_packets(rest)
    assert len(packets) == 1 and packets[0].is_err, f"expected one plaintext ERR packet, got {rest!r}"
    err = wire.ErrPacket.parse(packets[0])
    assert (err.code, err.sqlstate, err.message) == (1043, "08S01", "Bad handshake"), err
    if seq is not None:
        assert err.seq == seq, f"ERR 1043 at seq {err.seq}, expected {seq}"
    return err


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
# Not TLS, old TLS, weak ciphers, renegotiation
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("garbage", [
    bytes(range(7, 256)) * 2,
    b"GET / HTTP/1.1\r\nHost: db\r\n\r\n",
    b"\x00" * 300,
], ids=["binary", "http", "zeros"])
def test_garbage_instead_of_tls_gets_alert_and_1043(hostile_proxy, certs, garbage):
    p = hostile_proxy()
    with hs.connect_and_greet(p.port) as c:
        c.send_ssl_request()
        c.send_raw(garbage)
        ending = raw_sockets.read_until_closed(c.sock, timeout=5)
        assert ending.how in ("eof", "reset"), "still open after garbage instead of a ClientHello"
        expect_bad_handshake(ending.data, seq=2)
        outcome = outcome_for(p, local_port(c))
    assert outcome.startswith(hs.TLS_FAILED_OUTCOME), outcome
    cli_login_ok(p, certs)


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
def test_old_tls_client_hello_gets_protocol_version_alert_then_1043(hostile_proxy, version):
    p = hostile_proxy()
    v = getattr(ssl.TLSVersion, version)
    hello = hs.client_hello(minimum=v, maximum=v, ciphers="DEFAULT@SECLEVEL=0")
    with hs.connect_and_greet(p.port) as c:
        c.send_ssl_request()
        c.send_raw(hello)
        ending = raw_sockets.read_until_closed(c.sock, timeout=5)
        assert ending.how in ("eof", "reset")
        records, _ = raw_sockets.split_tls_records(ending.data)
        assert records and records[0].content_type == 21, f"no TLS alert first: {ending.data[:40]!r}"
        assert records[0].body == bytes([2, 70]), f"expected fatal protocol_version, got {records[0].body!r}"
        expect_bad_handshake(ending.data, seq=2)
        outcome = outcome_for(p, local_port(c))
    assert outcome.startswith(hs.TLS_FAILED_OUTCOME), outcome


def test_tls1_0_s_client_is_refused(hostile_proxy, certs):
    p = hostile_proxy()
    before = len(p.log_lines())
    r = s_client(p.port, "-tls1", "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", certs.ca)
    out = r.output
    assert "no protocols available" not in out and "MySQL server does not support SSL" not in out, out
    assert s_client_cipher(out) is None, out
    assert re.search(r"alert protocol version|SSL alert number 70", out), out
    line = p.wait_for_log("connection closed", start=before)[0]
    assert 'outcome="refused: TLS handshake failed: unsupported protocol"' in line, line
    cli_login_ok(p, certs)


WEAK_CIPHER_CLIENTS = {
    "cbc-no-fs": ("AES256-SHA", "-tls1_2"),
    "cbc-with-fs": ("ECDHE-RSA-AES256-SHA384", "-tls1_2"),
    "rsa-kx-gcm": ("AES256-GCM-SHA384", "-tls1_2"),
    "null": ("NULL-SHA256:@SECLEVEL=0", "-tls1_2"),
    "null-tls1.0": ("ECDHE-RSA-NULL-SHA:@SECLEVEL=0", "-tls1"),
}


@pytest.mark.parametrize("name", list(WEAK_CIPHER_CLIENTS))
def test_weak_cipher_only_client_is_refused_by_default(hostile_proxy, certs, name):
    cipher, proto = WEAK_CIPHER_CLIENTS[name]
    p = hostile_proxy()
    before = len(p.log_lines())
    r = s_client(p.port, proto, "-cipher", cipher, "-CAfile", certs.ca)
    out = r.output
    assert "no cipher match" not in out and "no ciphers available" not in out, f"client refused locally:\n{out}"
    assert s_client_cipher(out) is None, out
    assert re.search(r"alert (handshake failure|protocol version)|SSL alert number (40|70)", out), out
    line = p.wait_for_log("connection closed", start=before)[0]
    assert re.search(r'outcome="refused: TLS handshake failed: (no shared cipher|unsupported protocol)"', line), line

    # The same refusal at the byte level: alert, then ERR 1043 in plaintext at seq 2.
    ciphers = cipher if "SECLEVEL" in cipher else cipher + ":@SECLEVEL=0"
    v = ssl.TLSVersion.TLSv1 if proto == "-tls1" else ssl.TLSVersion.TLSv1_2
    hello = hs.client_hello(minimum=v, maximum=v, ciphers=ciphers)
    with hs.connect_and_greet(p.port) as c:
        c.send_ssl_request()
        c.send_raw(hello)
        ending = raw_sockets.read_until_closed(c.sock, timeout=5)
        records, _ = raw_sockets.split_tls_records(ending.data)
        assert records and records[0].content_type == 21 and records[0].body[0] == 2, ending.data[:40]
        expect_bad_handshake(ending.data, seq=2)
    cli_login_ok(p, certs)


def test_cbc_cipher_accepted_when_ssl_cipher_allows_it(hostile_proxy, certs):
    # Positive control for the test above: with ssl_cipher set, the same client gets AES256-SHA.
    p = hostile_proxy({"ssl_cipher": "AES256-SHA"})
    r = s_client(p.port, "-tls1_2", "-cipher", "AES256-SHA", "-CAfile", certs.ca)
    assert s_client_cipher(r.output) == "AES256-SHA", r.output
    r = mariadb(port=p.port, ca=certs.ca, extra=("--tls-version=TLSv1.2", "--ssl-cipher=AES256-SHA"),
                execute="status")
    assert r.returncode == 0, r.stderr
    assert helpers.status_cipher(r.stdout) == "AES256-SHA", r.stdout


def test_renegotiation_is_refused_and_sessions_stay_healthy(hostile_proxy, certs):
    p = hostile_proxy({"connect_timeout": 10})
    # A logged-in TLS 1.2 session that must not be disturbed.
    ctx = wire.client_tls_context(certs.ca, maximum_version=ssl.TLSVersion.TLSv1_2)
    session = wire.Connection.tcp("127.0.0.1", p.port, timeout=20)
    try:
        session.login("app", "app-pass", tls=ctx)
        assert session.query("SELECT 1") == [["1"]]

        before = len(p.log_lines())
        t0 = time.monotonic()
        r = hs.s_client_renegotiate(p.port, "-tls1_2", "-CAfile", certs.ca, timeout=20)
        elapsed = time.monotonic() - t0
        out = r.output
        assert "New, TLSv1.2, Cipher is" in out, out
        assert "RENEGOTIATING" in out, f"s_client did not try to renegotiate:\n{out}"
        after = out.split("RENEGOTIATING", 1)[1]
        # A second handshake would show the certificate chain being verified again.
        assert "verify return:1" not in after and "depth=0" not in after, f"renegotiation happened:\n{out}"
        assert re.search(r"no renegotiation|SSL alert number 100", after), f"no refusal seen:\n{out}"
        assert elapsed < 9, f"s_client took {elapsed:.1f}s: was the refusal only the login timeout?"
        line = p.wait_for_log("connection closed", start=before)[0]
        assert 'outcome="refused: TLS' in line, line

        # The proxy and the other session are fine.
        assert session.query("SELECT 2") == [["2"]]
        cli_login_ok(p, certs)
        assert p.running()
    finally:
        session.quit()


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


# ---------------------------------------------------------------------------
# A thousand silent connections
# ---------------------------------------------------------------------------
def test_thousand_silent_connections_are_cut_while_logins_succeed(hostile_proxy, certs):
    # Under a sanitizer a TLS login takes seconds while the crowd is served: a longer cut-off keeps
    # the crowd open during the logins, which is what this test is about.
    n, timeout = 1000, (10 if helpers.UNDER_SANITIZER else 3)
    hs.raise_nofile(n + 1000)
    p = hostile_proxy({"max_connections": 2000, "connect_timeout": timeout})
    cli_login_ok(p, certs)
    fds_before = metrics.proc_fd_count(p.pid)
    start_index = len(p.log_lines())

    crowd = hs.SilentCrowd(p.port)
    logins: list[tuple[float, int, str]] = []  # (finished at, rc, stderr)
    all_connected = threading.Event()

    def login_while_crowded() -> None:
        all_connected.wait(15)
        for _ in range(3):
            r = mariadb(port=p.port, ca=certs.ca, batch=True, execute="SELECT 40 + 2", timeout=30)
            logins.append((time.monotonic(), r.returncode, r.stderr + r.stdout))

    def tick() -> None:
        if not all_connected.is_set() and all(c.received > 0 for c in crowd.clients):
            all_connected.set()

    worker = threading.Thread(target=login_while_crowded, daemon=True)
    worker.start()
    t0 = time.monotonic()
    try:
        crowd.open(n)
        crowd.run_until_all_closed(timeout + 25, on_tick=tick)
        worker.join(timeout=60)
        clients = crowd.clients

        still_open = [c for c in clients if c.ended is None]
        assert not still_open, f"{len(still_open)} of {n} silent connections still open after {timeout + 25}s"
        failed = [c.how for c in clients if c.how not in ("eof", "reset")]
        assert not failed, f"{len(failed)} connections failed: {failed[:5]}"
        no_greeting = [c for c in clients if c.received == 0]
        assert not no_greeting, f"{len(no_greeting)} silent clients never got a greeting"

        # Cut by connect_timeout: not before it, and not long after.
        lifetimes = sorted(c.ended - c.started for c in clients)
        assert lifetimes[0] >= timeout - 0.5, f"a silent client was cut after {lifetimes[0]:.2f}s"
        assert lifetimes[-1] <= timeout + 10, f"the last silent client lasted {lifetimes[-1]:.2f}s"

        # The logins ran while (nearly) all of them were open.
        assert len(logins) == 3 and all(rc == 0 and "42" in out for _, rc, out in logins), logins
        first_login_done = logins[0][0]
        open_then = sum(1 for c in clients if c.ended > first_login_done)
        assert open_then >= n * 0.9, f"only {open_then} silent connections were open during the first login"

        lines = p.wait_for_log(f"{hs.TIMEOUT_OUTCOME} ({timeout}s)", start=start_index, count=n,
                               timeout=60 if helpers.UNDER_SANITIZER else 15)
        assert len(lines) == n, len(lines)
        print(f"{n} silent connections: all cut {lifetimes[0]:.2f}..{lifetimes[-1]:.2f}s after connecting; "
              f"first login done at +{first_login_done - t0:.2f}s with {open_then} open")
    finally:
        crowd.close()

    # Everything is released: the proxy's descriptors go back to where they were.
    deadline = time.monotonic() + 10
    while metrics.proc_fd_count(p.pid) > fds_before + 2:
        assert time.monotonic() < deadline, f"proxy fds {metrics.proc_fd_count(p.pid)} > {fds_before} + 2 after the crowd left"
        time.sleep(0.1)
    cli_login_ok(p, certs)


# ---------------------------------------------------------------------------
# max_handshakes
# ---------------------------------------------------------------------------
def stall_in_tls_handshake(port: int) -> tuple[wire.Connection, float]:
    """SSLRequest + a full ClientHello; read the server's first flight; then say nothing.
    Returns the connection and when it was accepted (just before its greeting was read)."""
    t = time.monotonic()
    c = hs.connect_and_greet(port, timeout=20)
    c.send_ssl_request()
    c.send_raw(hs.client_hello(minimum=ssl.TLSVersion.TLSv1_2, maximum=ssl.TLSVersion.TLSv1_3, ciphers="DEFAULT"))
    c.sock.settimeout(10)
    first_flight = c.sock.recv(65536)
    assert first_flight[:1] == b"\x16", f"expected a ServerHello, got {first_flight[:20]!r}"
    return c, t


def test_max_handshakes_stalled_handshakes_hold_no_slot_and_are_dropped_at_the_deadline(hostile_proxy, certs):
    # connect_timeout far away: what ends the stallers here is the per-handshake deadline (5 s
    # after the ClientHello), not connect_timeout.
    deadline, timeout = 5, 60
    p = hostile_proxy({"max_handshakes": 2, "connect_timeout": timeout})

    # Silent (plaintext) connections hold no handshake slot: TLS logins still work next to them.
    silent = [hs.connect_and_greet(p.port) for _ in range(4)]
    try:
        cli_login_ok(p, certs)
    finally:
        for c in silent:
            c.close()

    # Two clients (as many as there are slots) send a whole ClientHello, read the server's flight
    # and stall. A slot is held only while OpenSSL computes, so both are back already.
    a, t_a = stall_in_tls_handshake(p.port)
    b, _ = stall_in_tls_handshake(p.port)
    try:
        # The unix socket logs in at once, and so does a third TLS handshake: it does not wait
        # for the stallers' deadline.
        t0 = time.monotonic()
        r = mariadb(socket_path=p.socket, ssl=False, batch=True, execute="SELECT 7", timeout=10)
        assert (r.returncode, r.stdout.strip()) == (0, "7"), r.stderr
        assert time.monotonic() - t0 < 2, f"unix-socket login took {time.monotonic() - t0:.2f}s"

        third = hs.connect_and_greet(p.port, timeout=20)
        t0 = time.monotonic()
        assert third.login("app", "app-pass", tls=wire.client_tls_context(certs.ca)).is_ok
        login = time.monotonic() - t0
        assert third.query("SELECT 3") == [["3"]]
        third.quit()
        limit = 5 if helpers.UNDER_SANITIZER else 1
        assert login < limit, f"third TLS login took {login:.2f}s next to two stalled handshakes"

        # The stallers are dropped at the handshake deadline, counted from their ClientHello.
        for s in (a, b):
            ending = raw_sockets.read_until_closed(s.sock, 10)
            assert ending.how in ("eof", "reset"), ending
            outcome = outcome_for(p, local_port(s))
            assert outcome == f"refused: TLS handshake failed: not finished within {deadline}s of the ClientHello", outcome
        dropped = time.monotonic() - t_a
        assert deadline - 0.5 <= dropped <= deadline + 4, f"first staller dropped {dropped:.2f}s after it connected"
        cli_login_ok(p, certs)
    finally:
        a.close()
        b.close()


def test_stalled_handshakes_beyond_max_handshakes_do_not_delay_tls_logins(hostile_proxy, certs):
    """F5: K clients each send a whole ClientHello, read the server's flight and never answer
    (and connect again when dropped). They hold no max_handshakes slot while the proxy waits for
    them, so TLS logins with the mariadb CLI still finish within a second."""
    k, max_handshakes = 150, 8
    hs.raise_nofile(4 * k + 1000)
    p = hostile_proxy({"max_connections": k + 50, "max_handshakes": max_handshakes, "connect_timeout": 60})
    cli_login_ok(p, certs)
    start_index = len(p.log_lines())

    hello = hs.client_hello(minimum=ssl.TLSVersion.TLSv1_2, maximum=ssl.TLSVersion.TLSv1_3, ciphers="DEFAULT")
    stallers = hs.HandshakeStallers(p.port, k, hello)
    latencies: list[float] = []
    try:
        # With slots held until the deadline only 8 of them would have their flight by now.
        t_stalled = time.monotonic()
        all_stalled = stallers.wait_stalled(k, timeout=10)
        stalled_then = stallers.stalled_now
        # Logins go on past the stallers' first deadline, while the dropped ones connect again.
        while len(latencies) < 5 or time.monotonic() - t_stalled < 7:
            t0 = time.monotonic()
            r = mariadb(port=p.port, ca=certs.ca, batch=True, execute="SELECT 40 + 2", timeout=15)
            latencies.append(round(time.monotonic() - t0, 2))
            assert (r.returncode, r.stdout.strip()) == (0, "42"), \
                f"login {len(latencies)} rc={r.returncode} after {latencies[-1]}s: {r.stderr}"
        stalled_during = stallers.stalled_now
        dropped = list(stallers.dropped_after)
    finally:
        stallers.stop()
    print(f"{k} stalled handshakes, max_handshakes={max_handshakes}: {stalled_then} stalled before, "
          f"{stalled_during} after the logins, {len(dropped)} dropped and reconnected; "
          f"{len(latencies)} TLS logins, slowest {max(latencies)} s, median {sorted(latencies)[len(latencies) // 2]} s")
    assert all_stalled, f"only {stalled_then} of {k} stallers got the server's flight within 10 s"
    limit = 5 if helpers.UNDER_SANITIZER else 1
    assert max(latencies) < limit, f"TLS logins took {latencies} s next to {k} stalled handshakes"
    assert stalled_during >= k // 2, f"only {stalled_during} stallers were still stalled after the logins"
    assert not stallers.errors, stallers.errors
    # Those dropped during the logins were dropped by the handshake deadline.
    assert dropped and all(4.5 <= t <= 9 for t in dropped), sorted(dropped)[:5]
    p.wait_for_log("not finished within 5s of the ClientHello", start=start_index, timeout=10)


def test_a_thousand_stalled_tls_clients_do_not_delay_logins(hostile_proxy, certs):
    """1,000 clients send an SSLRequest and stall, 100 more stall inside their ClientHello: none of
    them holds a max_handshakes slot, so TLS logins over TCP and logins over the unix socket go on."""
    n_ssl, n_partial = 1000, 100
    total = n_ssl + n_partial
    hs.raise_nofile(2 * total + 1000)
    # max_connections is a limit of its own: high enough for the crowd and the logins.
    p = hostile_proxy({"max_connections": total + 100, "connect_timeout": 60})
    # Two descriptors per connection (client and backend), plus the proxy's own.
    assert metrics.proc_nofile_limit(p.pid) >= 2 * total + 200, metrics.proc_nofile_limit(p.pid)
    cli_login_ok(p, certs)

    hello = hs.client_hello(minimum=ssl.TLSVersion.TLSv1_2, maximum=ssl.TLSVersion.TLSv1_3, ciphers="DEFAULT")
    ssl_request = wire.frame(wire.ssl_request_payload(wire.DEFAULT_CLIENT_CAPS), 1)
    stallers: list[socket.socket] = []
    try:
        for i in range(total):
            s = socket.create_connection(("127.0.0.1", p.port), timeout=10)
            # Pipelined before the greeting, as testssl.sh does; the proxy keeps it until then.
            s.sendall(ssl_request + (hello[: len(hello) // 2] if i >= n_ssl else b""))
            stallers.append(s)
        # Every staller got its greeting, so the proxy has read its SSLRequest and is in TLS.
        deadline = time.monotonic() + 30
        for s in stallers:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            head = s.recv(4)
            assert len(head) == 4, "a staller was closed instead of greeted"
        open_connections = metrics.proc_fd_count(p.pid)
        assert open_connections >= 2 * total, f"proxy has {open_connections} descriptors for {total} stallers"

        t0 = time.monotonic()
        cli_login_ok(p, certs)
        tcp_login = time.monotonic() - t0
        t0 = time.monotonic()
        r = mariadb(socket_path=p.socket, ssl=False, batch=True, execute="SELECT 7", timeout=10)
        socket_login = time.monotonic() - t0
        assert (r.returncode, r.stdout.strip()) == (0, "7"), r.stderr
        print(f"{total} stallers: TCP TLS login {tcp_login:.2f}s, unix-socket login {socket_login:.2f}s")
        limit = 5 if helpers.UNDER_SANITIZER else 1
        assert tcp_login < limit, f"TLS login over TCP took {tcp_login:.2f}s with {total} stallers"
        assert socket_login < limit, f"unix-socket login took {socket_login:.2f}s with {total} stallers"
        # The stallers are still there: they were not dropped to make room.
        assert all(s.fileno() >= 0 for s in stallers)
        assert metrics.proc_fd_count(p.pid) >= 2 * total
    finally:
        for s in stallers:
            s.close()


def socket_connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)
