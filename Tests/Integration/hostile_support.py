"""Tools for the hostile-client and exhaustion suites (no pytest imports here): a ClientHello
made with Python's ssl module (memory BIOs), many silent connections, clients stalled in the TLS
handshake, openssl s_client asking for a renegotiation, and checks of what the proxy answered
(a 1043 after TLS alerts) and logged (a connection's outcome)."""

from __future__ import annotations

import os
import re
import resource
import selectors
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field

import helpers
import raw_sockets
import wire

FOREIGN = "Unable to connect to foreign data source"
TIMEOUT_OUTCOME = "dropped: login not finished within connect_timeout"
TLS_FAILED_OUTCOME = "refused: TLS handshake failed:"


def client_hello(*, minimum: ssl.TLSVersion, maximum: ssl.TLSVersion, ciphers: str) -> bytes:
    """The first flight (ClientHello records) Python's OpenSSL would send with these settings."""
    import warnings
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers(ciphers)
    with warnings.catch_warnings():  # TLSv1/TLSv1.1 are deprecated in the ssl module
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = minimum
        ctx.maximum_version = maximum
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    assert hello[:1] == b"\x16", f"not a TLS handshake record: {hello[:16]!r}"
    return hello


def connect_and_greet(port: int, *, timeout: float = 10.0) -> wire.Connection:
    c = wire.Connection.tcp("127.0.0.1", port, timeout=timeout)
    c.read_greeting()
    return c


# ---------------------------------------------------------------------------
# Many silent connections
# ---------------------------------------------------------------------------
def raise_nofile(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


@dataclass
class SilentClient:
    sock: socket.socket
    started: float
    connected: float | None = None
    received: int = 0
    ended: float | None = None
    how: str | None = None


@dataclass
class SilentCrowd:
    """N TCP clients that connect and then never send a byte."""

    port: int
    clients: list[SilentClient] = field(default_factory=list)

    def open(self, n: int) -> None:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            rc = s.connect_ex(("127.0.0.1", self.port))
            assert rc in (0, 115), f"connect_ex: {os.strerror(rc)}"  # 115 = EINPROGRESS
            self.clients.append(SilentClient(s, time.monotonic()))

    def run_until_all_closed(self, timeout: float, *, on_tick=None) -> None:
        """Drive every socket (connect completion, reads) until all saw EOF/reset or `timeout`.
        `on_tick()` is called about every 0.1 s (e.g. to check progress elsewhere)."""
        sel = selectors.DefaultSelector()
        for c in self.clients:
            if c.ended is None:
                sel.register(c.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if c.connected is None else 0), c)
        deadline = time.monotonic() + timeout
        open_count = sum(1 for c in self.clients if c.ended is None)
        while open_count and time.monotonic() < deadline:
            for key, events in sel.select(timeout=0.1):
                c: SilentClient = key.data
                now = time.monotonic()
                if events & selectors.EVENT_WRITE and c.connected is None:
                    err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        c.ended, c.how = now, f"connect failed: {os.strerror(err)}"
                        sel.unregister(c.sock)
                        open_count -= 1
                        continue
                    c.connected = now
                    sel.modify(c.sock, selectors.EVENT_READ, c)
                if events & selectors.EVENT_READ:
                    try:
                        chunk = c.sock.recv(65536)
                    except BlockingIOError:
                        continue
                    except (ConnectionResetError, BrokenPipeError):
                        chunk, c.how = b"", "reset"
                    except OSError as e:
                        chunk, c.how = b"", f"error: {e}"
                    if chunk:
                        c.received += len(chunk)
                        if c.connected is None:
                            c.connected = now
                        continue
                    c.ended, c.how = now, c.how or "eof"
                    sel.unregister(c.sock)
                    open_count -= 1
            if on_tick is not None:
                on_tick()
        sel.close()

    def close(self) -> None:
        for c in self.clients:
            try:
                c.sock.close()
            except OSError:
                pass


class HandshakeStallers:
    """K clients that each send an SSLRequest and a whole ClientHello, read the server's flight and
    never answer; when the proxy drops one, it connects again (until stop()). One thread each."""

    def __init__(self, port: int, k: int, hello: bytes):
        self.port = port
        self.request = wire.frame(wire.ssl_request_payload(wire.DEFAULT_CLIENT_CAPS), 1) + hello
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self.flights = 0            # server flights received (over all connections)
        self.stalled_now = 0        # connections that got their flight and are still open
        self.dropped_after: list[float] = []  # seconds from ClientHello to being dropped
        self.errors: list[str] = []
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(k)]
        for t in self._threads:
            t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            s = None
            stalled = False
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
                if not s.recv(4096):
                    raise ConnectionError("closed before the greeting")
                s.sendall(self.request)
                sent = time.monotonic()
                first = s.recv(65536)
                if first[:1] != b"\x16":
                    raise ConnectionError(f"expected a ServerHello, got {first[:20]!r}")
                with self._cond:
                    self.flights += 1
                    self.stalled_now += 1
                    stalled = True
                    self._cond.notify_all()
                s.settimeout(0.2)
                while not self._stop.is_set():  # read until dropped, never answer
                    try:
                        if not s.recv(65536):
                            break
                    except (socket.timeout, TimeoutError):
                        continue
                else:
                    continue
                with self._cond:
                    self.dropped_after.append(time.monotonic() - sent)
            except (OSError, ConnectionError) as e:
                with self._cond:
                    if len(self.errors) < 20 and not self._stop.is_set():
                        self.errors.append(repr(e))
            finally:
                if stalled:
                    with self._cond:
                        self.stalled_now -= 1
                if s is not None:
                    s.close()

    def wait_stalled(self, count: int, timeout: float) -> bool:
        """True once `count` connections have their flight and are open at once (within `timeout`)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.stalled_now < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=10)


# ---------------------------------------------------------------------------
# openssl s_client with a scripted stdin
# ---------------------------------------------------------------------------
def s_client_renegotiate(port: int, *args: str, timeout: float = 30.0) -> helpers.Run:
    """`openssl s_client -starttls mysql … ` that asks for a renegotiation ("R" on stdin) once its
    handshake is done, then keeps stdin open until s_client exits (or `timeout`)."""
    argv = [helpers.which("openssl") or "openssl", "s_client", "-starttls", "mysql", "-connect",
            f"127.0.0.1:{port}", *args]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=helpers.clean_env())
    assert p.stdin is not None and p.stdout is not None
    lines: list[str] = []
    done = threading.Event()
    handshake_done = threading.Event()

    def reader() -> None:
        for raw in iter(p.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            lines.append(line)
            # s_client prints the session summary, then "---", once the handshake is complete.
            if line.startswith("    Verify return code") or line.startswith("Verify return code"):
                handshake_done.set()
        done.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        if not handshake_done.wait(timeout):
            raise AssertionError("s_client did not finish its handshake:\n" + "".join(lines))
        try:
            p.stdin.write(b"R\n")
            p.stdin.flush()
        except BrokenPipeError:
            pass
        if not done.wait(timeout):
            raise AssertionError("s_client still running after the renegotiation request:\n" + "".join(lines))
        rc = p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
        try:
            p.stdin.close()
        except OSError:
            pass
        t.join(timeout=5)
    return helpers.Run(rc, "".join(lines), "")


# ---------------------------------------------------------------------------
# What the proxy answered and logged
# ---------------------------------------------------------------------------
CLOSED_RE = re.compile(r"connection closed .*client=127\.0\.0\.1:(\d+) .*outcome=\"([^\"]*)\"")


def cli_login_ok(p, certs) -> None:
    """The mariadb CLI logs in over TLS (verifying the certificate) and runs a query."""
    r = helpers.mariadb(port=p.port, ca=certs.ca, batch=True, execute="SELECT 40 + 2")
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
