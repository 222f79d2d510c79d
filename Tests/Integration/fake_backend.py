"""A scripted fake "MariaDB server" for backend failures a real mariadbd cannot be made to show:
the greeting late, a close after the HandshakeResponse, a close before the greeting (no pytest
imports here)."""

from __future__ import annotations

import socket
import struct
import threading
import time

import wire

FAKE_SCRAMBLE = b"0123456789abcdefghij"
FAKE_VERSION = "5.5.5-10.11.99-MariaDB-fake"


def fake_greeting(*, scramble: bytes = FAKE_SCRAMBLE, version: str = FAKE_VERSION, conn_id: int = 4242) -> bytes:
    """A protocol-10 greeting as mariadbd sends it (one framed packet, seq 0)."""
    caps = (wire.CLIENT_LONG_FLAG | wire.CLIENT_CONNECT_WITH_DB | wire.CLIENT_PROTOCOL_41
            | wire.CLIENT_TRANSACTIONS | wire.CLIENT_SECURE_CONNECTION | wire.CLIENT_MULTI_STATEMENTS
            | wire.CLIENT_MULTI_RESULTS | wire.CLIENT_PLUGIN_AUTH | wire.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
            | wire.CLIENT_CONNECT_ATTRS)
    p = (b"\x0a" + version.encode() + b"\x00" + struct.pack("<I", conn_id) + scramble[:8] + b"\x00"
         + struct.pack("<H", caps & 0xFFFF) + bytes([wire.CHARSET_UTF8MB4_GENERAL_CI]) + struct.pack("<H", 2)
         + struct.pack("<H", caps >> 16) + bytes([len(scramble) + 1]) + bytes(6) + struct.pack("<I", 0)
         + scramble[8:] + b"\x00" + b"mysql_native_password\x00")
    return wire.frame(p, 0)


class FakeBackend:
    """Accepts TCP connections on 127.0.0.1 and plays one script per connection:

    mode "greet_after": send the greeting after `delay` seconds, then hold the connection.
    mode "close_after_response": send the greeting, read one packet (the HandshakeResponse), close.
    mode "close_before_greeting": close right after accept.
    Every connection is recorded in `events` as (event, monotonic time, detail).
    """

    def __init__(self, mode: str, *, delay: float = 0.0):
        self.mode = mode
        self.delay = delay
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.events: list[tuple[str, float, object]] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept_loop, name=f"fake-backend-{mode}", daemon=True)
        self._thread.start()

    def __enter__(self) -> "FakeBackend":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _record(self, event: str, detail: object = None) -> None:
        with self._cond:
            self.events.append((event, time.monotonic(), detail))
            self._cond.notify_all()

    def wait_event(self, event: str, *, count: int = 1, timeout: float = 15.0) -> list[tuple[str, float, object]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [e for e in self.events if e[0] == event]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"fake backend: no {event!r} x{count} within {timeout}s; events: {self.events}")
                self._cond.wait(remaining)

    def _accept_loop(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return
            self._conns.append(conn)
            self._record("accepted")
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.mode == "close_before_greeting":
                conn.close()
                self._record("closed")
                return
            if self.mode == "greet_after":
                if self._stop.wait(self.delay):
                    return
                try:
                    conn.sendall(fake_greeting())
                    self._record("greeted")
                except OSError as e:
                    self._record("greeting_failed", repr(e))
                return
            if self.mode == "close_after_response":
                conn.sendall(fake_greeting())
                self._record("greeted")
                conn.settimeout(30)
                hdr = _recv_exact(conn, 4)
                body = _recv_exact(conn, int.from_bytes(hdr[:3], "little"))
                self._record("response", (hdr[3], body))
                conn.close()
                self._record("closed")
                return
            raise ValueError(self.mode)
        except OSError as e:
            self._record("error", repr(e))

    def close(self) -> None:
        self._stop.set()
        try:
            self.sock.close()
        except OSError:
            pass
        for c in self._conns:
            try:
                c.close()
            except OSError:
                pass
        self._thread.join(timeout=5)


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = conn.recv(n - len(out))
        if not chunk:
            raise ConnectionError(f"peer closed after {len(out)} of {n} bytes")
        out += chunk
    return out
