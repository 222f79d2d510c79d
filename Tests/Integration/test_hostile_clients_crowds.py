"""Crowds of hostile clients: a thousand silent connections, and clients stalled in the TLS handshake
below, at and far beyond max_handshakes; they are cut at their deadline, hold no slot they should
not, and real TLS logins are not delayed.

The proxies use the hostile suites' own backend (hostile_fixtures.py).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time


import helpers
import hostile_support as hs
import metrics
import raw_sockets
import wire
from helpers import mariadb
from hostile_support import cli_login_ok, local_port, outcome_for


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
