"""Backend faults: refused, slow to greet, closing before the greeting or mid-login, killed
mid-session, restarted. Every client gets a MariaDB ERR or a clean close, never a hang, and the
proxy keeps serving and recovers without a restart.

The kill/restart test uses a mariadbd of its own (scripts/start-backend.sh in a module fixture),
so killing it does not hurt the session's shared backend.
"""

from __future__ import annotations

import re
import socket
import time

import pytest

import backends
import fake_backend
import helpers
import hostile_support as hs
import raw_sockets
import wire
from helpers import mariadb

FOREIGN = hs.FOREIGN


@pytest.fixture(scope="module")
def own_backend(prerequisites, tmp_path_factory):
    d = tmp_path_factory.mktemp("fb") / "be"
    b = backends.Backend.start(d)
    try:
        yield b
    finally:
        b.stop()


def closed_line(p, c: wire.Connection, *, timeout: float = 10.0) -> str:
    port = c.sock.getsockname()[1]
    return p.wait_for_log(re.compile(rf"connection closed .*client=127\.0\.0\.1:{port} "), timeout=timeout)[0]


def pre_greeting_1429(port: int) -> tuple[wire.ErrPacket, float]:
    """Connect, expect ERR 1429 instead of the greeting (seq 0, no SQLSTATE), then EOF."""
    t0 = time.monotonic()
    with wire.Connection.tcp("127.0.0.1", port, timeout=15) as c:
        pkt = c.read_first_packet()
        assert pkt.is_err, f"expected ERR 1429 instead of the greeting, got {pkt.payload[:40]!r}"
        err = wire.ErrPacket.parse(pkt)
        assert pkt.seq == 0 and err.sqlstate is None and pkt.payload[3:4] != b"#", pkt.payload
        assert err.code == 1429 and err.message.startswith(FOREIGN + ": backend "), err
        c.wait_closed(10)
    return err, time.monotonic() - t0


# ---------------------------------------------------------------------------
# Nothing listening
# ---------------------------------------------------------------------------
def test_refusing_backend_gives_1429_at_seq_0_promptly(start_proxy, certs):
    dead = helpers.free_port()
    p = start_proxy({"backend_port": dead, "connect_timeout": 10})
    err, elapsed = pre_greeting_1429(p.port)
    assert err.message == f"{FOREIGN}: backend 127.0.0.1:{dead}: connection refused", err.message
    assert elapsed < 3, f"took {elapsed:.1f}s"
    p.wait_for_log(re.compile(rf'outcome="backend failed: backend 127\.0\.0\.1:{dead}: connection refused"'))
    p.wait_for_log("cannot reach the backend")
    # The CLI, with TLS requested, shows the same error (and does not hang).
    r = mariadb(port=p.port, ca=certs.ca, execute="SELECT 1", timeout=30)
    assert r.returncode != 0 and "1429" in r.stderr and f"127.0.0.1:{dead}" in r.stderr, r.stderr
    assert p.running()


# ---------------------------------------------------------------------------
# Scripted fake backends
# ---------------------------------------------------------------------------
def test_backend_slow_to_greet_gives_1429_at_connect_timeout(start_proxy, certs):
    timeout = 2
    with fake_backend.FakeBackend("greet_after", delay=timeout + 4) as fake:
        p = start_proxy({"backend_port": fake.port, "connect_timeout": timeout})
        reason = f"backend 127.0.0.1:{fake.port}: no greeting within connect_timeout ({timeout}s)"
        with wire.Connection.tcp("127.0.0.1", p.port, timeout=20) as c:
            # The client waited for the backend, not the other way round: at connect_timeout it gets
            # the same 1429 as for a backend that cannot be reached, and the log blames the backend.
            ending = raw_sockets.read_until_closed(c.sock, timeout=timeout + 8)
            assert ending.how == "eof", f"client not closed cleanly after {ending.seconds:.1f}s: {ending.how}"
            assert timeout - 0.5 <= ending.seconds <= timeout + 3, f"closed after {ending.seconds:.2f}s"
            packets = raw_sockets.split_packets(ending.data)
            assert len(packets) == 1 and packets[0].is_err and packets[0].seq == 0, ending.data[:80]
            err = wire.ErrPacket.parse(packets[0])
            assert (err.code, err.sqlstate, err.message) == (1429, None, f"{FOREIGN}: {reason}"), err
            line = closed_line(p, c)
        assert f'outcome="backend failed: {reason}"' in line, line
        p.wait_for_log(re.compile(r"warning the backend sent no greeting .*no greeting within connect_timeout"))
        fake.wait_event("accepted")
        # The CLI reports the same error instead of hanging (wrapped in its 2002 when it expected TLS).
        t0 = time.monotonic()
        r = mariadb(port=p.port, ca=certs.ca, execute="SELECT 1", timeout=30)
        assert r.returncode != 0 and f"1429 - {FOREIGN}: {reason}" in r.stderr, r.stderr
        assert time.monotonic() - t0 < timeout + 5
        assert p.running()


def test_backend_not_accepting_gives_1429_at_connect_timeout(start_proxy):
    # A listener whose accept queue is full drops new SYNs, so the proxy's connect hangs like one
    # to a firewalled host: at connect_timeout the client gets 1429, not a silent close.
    timeout = 2
    with socket.socket() as full, socket.socket() as filler:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = full.getsockname()[1]
        filler.connect(("127.0.0.1", port))  # the one connection a backlog of 0 queues
        p = start_proxy({"backend_port": port, "connect_timeout": timeout})
        err, elapsed = pre_greeting_1429(p.port)
    reason = f"backend 127.0.0.1:{port}: connect timed out after {timeout}s"
    assert err.message == f"{FOREIGN}: {reason}", err
    assert timeout - 0.5 <= elapsed <= timeout + 3, f"answered after {elapsed:.2f}s"
    # Logged once as the backend's failure; the connection line still names the client, which has
    # already gone when the connect attempt gives up.
    assert len(p.wait_for_log(f'warning cannot reach the backend conn=1 backend=127.0.0.1:{port} error="{reason}"')) == 1
    line = p.wait_for_log(re.compile(r"connection closed conn=1 "))[0]
    assert re.search(r" client=127\.0\.0\.1:\d+ ", line) and f'outcome="backend failed: {reason}"' in line, line
    assert p.running()


def test_backend_closing_before_greeting_gives_1429_at_seq_0(start_proxy):
    with fake_backend.FakeBackend("close_before_greeting") as fake:
        p = start_proxy({"backend_port": fake.port})
        err, elapsed = pre_greeting_1429(p.port)
        assert err.message == f"{FOREIGN}: backend 127.0.0.1:{fake.port} closed the connection during login", err
        assert elapsed < 3
        assert p.running()


@pytest.mark.parametrize("transport", ["tls", "plaintext"])
def test_backend_dying_mid_login_gives_1429_at_next_sequence_id(start_proxy, certs, transport):
    with fake_backend.FakeBackend("close_after_response") as fake:
        p = start_proxy({"backend_port": fake.port})
        with wire.Connection.tcp("127.0.0.1", p.port, timeout=15) as c:
            tls = wire.client_tls_context(certs.ca) if transport == "tls" else None
            with pytest.raises(wire.ServerError) as info:
                c.login("app", "app-pass", tls=tls)
            err = info.value.err
            expected_seq = 3 if tls else 2  # the HandshakeResponse went out at seq 2 (TLS) / 1
            assert (err.code, err.sqlstate, err.seq) == (1429, "HY000", expected_seq), err
            assert err.message == f"{FOREIGN}: backend 127.0.0.1:{fake.port} closed the connection during login", err
            ending = raw_sockets.read_until_closed(c.sock, timeout=5)
            assert ending.how == "eof" and ending.data == b"", ending
            line = closed_line(p, c)
        assert "outcome=\"backend failed: backend 127.0.0.1" in line and "user=app" in line, line
        # The backend got the HandshakeResponse at seq 1, without CLIENT_SSL, with the user name.
        seq, body = fake.wait_event("response")[0][2]
        assert seq == 1
        caps = int.from_bytes(body[:4], "little")
        assert not caps & wire.CLIENT_SSL and body[32:36] == b"app\x00", body[:40]
        assert p.running()


# ---------------------------------------------------------------------------
# A real backend killed and restarted
# ---------------------------------------------------------------------------
def test_backend_killed_mid_session_then_restarted(start_proxy, certs, own_backend):
    b = own_backend
    p = start_proxy({"backend_port": b.port, "connect_timeout": 5})
    ctx = wire.client_tls_context(certs.ca)

    idle = wire.Connection.tcp("127.0.0.1", p.port, timeout=20)
    busy = wire.Connection.tcp("127.0.0.1", p.port, timeout=20)
    plain = wire.Connection.unix(p.socket, timeout=20)
    try:
        idle.login("app", "app-pass", tls=ctx)
        busy.login("app", "app-pass", tls=ctx)
        plain.login("app", "app-pass")
        for c in (idle, busy, plain):
            assert c.query("SELECT @@port") == [[str(b.port)]]
        # One session has a query running on the backend when it dies.
        busy.send_packet(bytes([wire.COM_QUERY]) + b"SELECT SLEEP(60)", 0)
        deadline = time.monotonic() + 10
        while "SLEEP(60)" not in b.sql("SHOW PROCESSLIST"):
            assert time.monotonic() < deadline, "the SLEEP query never showed up on the backend"
            time.sleep(0.05)

        t_kill = time.monotonic()
        b.kill()
        # Every session sees its connection closed: TLS ones with close_notify (a clean EOF).
        for name, c in (("idle", idle), ("busy", busy), ("plaintext", plain)):
            ending = raw_sockets.read_until_closed(c.sock, timeout=10)
            assert ending.how == "eof", f"{name} session: {ending.how} after {ending.seconds:.1f}s"
            assert ending.data == b"", f"{name} session got {ending.data[:40]!r}"
        assert time.monotonic() - t_kill < 10
        assert p.running()

        # Backend down at connect: 1429 instead of the greeting, at once.
        err, elapsed = pre_greeting_1429(p.port)
        assert err.message == f"{FOREIGN}: backend 127.0.0.1:{b.port}: connection refused", err.message
        assert elapsed < 3
        r = mariadb(port=p.port, ca=certs.ca, execute="SELECT 1")
        assert r.returncode != 0 and "1429" in r.stderr, r.stderr

        # Back up: new logins work without restarting the proxy.
        b.restart()
        r = mariadb(port=p.port, ca=certs.ca, batch=True, execute="SELECT @@port")
        assert (r.returncode, r.stdout.strip()) == (0, str(b.port)), r.stderr
        with wire.Connection.tcp("127.0.0.1", p.port, timeout=20) as c:
            c.login("app", "app-pass", tls=ctx)
            assert c.query("SELECT 5") == [["5"]]
            c.quit()
        r = mariadb(socket_path=p.socket, ssl=False, batch=True, execute="SELECT 6")
        assert (r.returncode, r.stdout.strip()) == (0, "6"), r.stderr
        assert p.running()
    finally:
        for c in (idle, busy, plain):
            c.close()


@pytest.mark.parametrize("how", ["kill-9", "graceful-restart"])
def test_backend_restart_frees_the_proxy_slot_even_if_the_client_does_not_close(start_proxy, certs, own_backend,
                                                                                 how):
    # A pool's idle connection does not read, so it does not notice that the backend (and with it
    # the session) is gone. Behind a plain MariaDB that costs the restarted server nothing; behind
    # the proxy the dead session must not keep holding a max_connections slot (and two fds)
    # either, or new clients get 1040 after a backend restart. MariaDB never half-closes: its FIN
    # ends the session.
    b = own_backend
    if not b.alive():
        b.restart()
    p = start_proxy({"backend_port": b.port, "max_connections": 2})
    ctx = wire.client_tls_context(certs.ca)
    idle = [wire.Connection.tcp("127.0.0.1", p.port, timeout=20) for _ in range(2)]
    try:
        for c in idle:
            c.login("app", "app-pass", tls=ctx)
        start = len(p.log_lines())
        if how == "kill-9":
            b.kill()
        else:
            b.stop()
        b.restart()
        # The idle clients keep their sockets open and read nothing.
        lines = p.wait_for_log("connection closed", start=start, count=2, timeout=10)
        assert all("outcome=relayed" in l for l in lines), lines
        r = mariadb(port=p.port, ca=certs.ca, batch=True, execute="SELECT 8")
        assert (r.returncode, r.stdout.strip()) == (0, "8"), r.stderr
    finally:
        for c in idle:
            c.close()
