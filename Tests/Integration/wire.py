"""A tiny scripted MariaDB client for byte-level integration tests.

It speaks just enough of the connection phase (MariaDB's sql/sql_acl.cc and sql/protocol.cc)
to drive the proxy the way real clients and scanners do: read packets, parse the
greeting and ERR packets, send an SSLRequest (also before the greeting has been
read), upgrade the socket with Python's ``ssl`` module, send a HandshakeResponse41
with a mysql_native_password scramble, follow an AuthSwitchRequest, and run simple
text-protocol queries.
"""

from __future__ import annotations

import contextlib
import socket
import ssl

from raw_sockets import read_until_closed
# The protocol definitions are part of this module's interface: callers write wire.CLIENT_SSL,
# wire.ServerError, wire.client_tls_context next to wire.Connection.
from wire_protocol import *  # noqa: F401,F403
from wire_protocol import (CHARSET_UTF8MB4_GENERAL_CI, CLIENT_CONNECT_WITH_DB, CLIENT_LONG_PASSWORD, CLIENT_PROTOCOL_41,
                           CLIENT_SSL, COM_PING, COM_QUERY, COM_QUIT, DEFAULT_CLIENT_CAPS, ConnectionClosed, ErrPacket,
                           Greeting, Packet, ProtocolError, ServerError, change_user_payload, frame,
                           handshake_response_payload, native_password_scramble, read_lenenc_int, ssl_request_payload)


class Connection:
    """One client connection. All reads honour `timeout` (seconds) per operation."""

    def __init__(self, sock: socket.socket, *, timeout: float = 10.0, server_hostname: str = "localhost"):
        self.sock: socket.socket = sock
        self.timeout = timeout
        self.server_hostname = server_hostname
        self.sock.settimeout(timeout)
        self._buf = b""
        self.greeting: Greeting | None = None
        self.caps = 0  # capabilities as sent (SSLRequest / HandshakeResponse)
        self.tls = False
        self.seq = 0  # next expected/last used sequence id in the connection phase
        # The seed mysql_native_password answers use: the greeting's scramble, replaced by the
        # one in an AuthSwitchRequest (the server keeps using that one, e.g. for COM_CHANGE_USER).
        self.scramble: bytes = b""
        self._held: list[bytes] | None = None  # see buffered()

    # -- construction ---------------------------------------------------------
    @classmethod
    def tcp(cls, host: str, port: int, *, timeout: float = 10.0) -> "Connection":
        sock = socket.create_connection((host, port), timeout=timeout)
        return cls(sock, timeout=timeout, server_hostname=host)

    @classmethod
    def unix(cls, path: str, *, timeout: float = 10.0) -> "Connection":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(path)
        return cls(sock, timeout=timeout, server_hostname="localhost")

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # -- framing --------------------------------------------------------------
    def _recv_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError, ssl.SSLZeroReturnError) as e:
                raise ConnectionClosed(f"connection closed by peer ({e.__class__.__name__})") from e
            if not chunk:
                raise ConnectionClosed(f"connection closed by peer after {len(self._buf)} of {n} bytes")
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def read_packet(self) -> Packet:
        """One logical packet (joins 0xFFFFFF continuation packets)."""
        payload = b""
        while True:
            hdr = self._recv_exact(4)
            length = int.from_bytes(hdr[:3], "little")
            seq = hdr[3]
            payload += self._recv_exact(length)
            if length < 0xFFFFFF:
                self.seq = seq
                return Packet(seq, payload)

    def send_packet(self, payload: bytes, seq: int) -> None:
        if len(payload) >= 0xFFFFFF:
            raise ValueError("payload too large for this helper")
        data = frame(payload, seq)
        if self._held is not None:
            self._held.append(data)
        else:
            self.sock.sendall(data)
        self.seq = seq

    @contextlib.contextmanager
    def buffered(self, *, send: bool = True):
        """Collect the packets sent inside the block; on exit send them in one write (pipelined),
        or, with send=False, only keep them (the yielded list) for the caller to send."""
        held: list[bytes] = []
        self._held = held
        try:
            yield held
        finally:
            self._held = None
        if send:
            self.sock.sendall(b"".join(held))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    # -- connection phase -----------------------------------------------------
    def read_greeting(self) -> Greeting:
        """Read the first server packet; raises ServerError if it is an ERR."""
        pkt = self.read_packet()
        self.greeting = Greeting.parse(pkt)
        self.scramble = self.greeting.scramble
        return self.greeting

    def read_first_packet(self) -> Packet:
        """Read the first server packet without interpreting it (greeting or ERR)."""
        pkt = self.read_packet()
        if not pkt.is_err:
            self.greeting = Greeting.parse(pkt)
            self.scramble = self.greeting.scramble
        return pkt

    def send_ssl_request(self, caps: int = DEFAULT_CLIENT_CAPS, seq: int = 1) -> None:
        self.caps = caps | CLIENT_SSL | CLIENT_PROTOCOL_41
        self.send_packet(ssl_request_payload(self.caps), seq)

    def start_tls(self, context: ssl.SSLContext, server_hostname: str | None = None,
                  session: ssl.SSLSession | None = None) -> ssl.SSLSocket:
        if self._buf:
            raise ProtocolError(f"{len(self._buf)} unread plaintext bytes before the TLS handshake: {self._buf[:32]!r}")
        hostname = server_hostname or self.server_hostname
        self.sock = context.wrap_socket(
            self.sock, server_hostname=hostname if context.check_hostname else None, do_handshake_on_connect=False,
            session=session,
        )
        self.sock.settimeout(self.timeout)
        try:
            self.sock.do_handshake()
        except (ConnectionResetError, BrokenPipeError) as e:
            raise ConnectionClosed(f"connection closed during TLS handshake ({e})") from e
        self.tls = True
        return self.sock  # type: ignore[return-value]

    def negotiated_caps(self, caps: int | None = None) -> int:
        if self.greeting is None:
            raise ProtocolError("no greeting read yet")
        return (self.caps if caps is None else caps) & self.greeting.capabilities

    def send_handshake_response(
        self,
        user: str | bytes,
        password: str,
        *,
        seq: int,
        caps: int | None = None,
        database: str | None = None,
        attrs: dict[str, str] | None = None,
        charset: int = CHARSET_UTF8MB4_GENERAL_CI,
    ) -> None:
        assert self.greeting is not None, "read the greeting first"
        if caps is None:
            caps = self.caps or DEFAULT_CLIENT_CAPS
            if self.tls:
                caps |= CLIENT_SSL
        if database:
            caps |= CLIENT_CONNECT_WITH_DB
        self.caps = caps
        negotiated = caps & self.greeting.capabilities
        # Keep the bits the server ignores in the AND (e.g. CLIENT_LONG_PASSWORD) as sent.
        wire_caps = negotiated | (caps & CLIENT_LONG_PASSWORD)
        payload = handshake_response_payload(
            caps=wire_caps,
            user=user,
            auth_response=native_password_scramble(password, self.greeting.scramble),
            plugin="mysql_native_password",
            database=database,
            charset=charset,
            attrs=attrs,
        )
        self.send_packet(payload, seq)

    def read_auth_result(self, password: str) -> Packet:
        """Follow the auth exchange until OK; raise ServerError on ERR."""
        while True:
            pkt = self.read_packet()
            head = pkt.payload[:1]
            if head == b"\x00":
                return pkt
            if head == b"\xff":
                raise ServerError(ErrPacket.parse(pkt))
            if head == b"\xfe" and len(pkt.payload) > 1:
                body = pkt.payload[1:]
                end = body.index(b"\x00")
                plugin = body[:end].decode()
                data = body[end + 1 :]
                if plugin != "mysql_native_password":
                    raise ProtocolError(f"auth switch to unsupported plugin {plugin!r}")
                seed = data[:20] if len(data) >= 20 else data.rstrip(b"\x00")
                self.scramble = seed
                self.send_packet(native_password_scramble(password, seed), pkt.seq + 1)
                continue
            raise ProtocolError(f"unexpected auth packet seq={pkt.seq}: {pkt.payload[:32]!r}")

    def login(
        self,
        user: str | bytes,
        password: str,
        *,
        tls: ssl.SSLContext | None = None,
        database: str | None = None,
        caps: int = DEFAULT_CLIENT_CAPS,
        charset: int = CHARSET_UTF8MB4_GENERAL_CI,
        session: ssl.SSLSession | None = None,
    ) -> Packet:
        """Complete login from a fresh connection (reads the greeting if not yet read)."""
        if self.greeting is None:
            self.read_greeting()
        seq = 1
        if tls is not None:
            self.send_ssl_request(caps, seq=1)
            self.start_tls(tls, session=session)
            seq = 2
        else:
            self.caps = caps & ~CLIENT_SSL
        self.send_handshake_response(user, password, seq=seq, database=database, charset=charset)
        return self.read_auth_result(password)

    # -- command phase --------------------------------------------------------
    def query(self, sql: str) -> list[list[str | None]]:
        """COM_QUERY in the text protocol; returns rows of decoded strings (None = NULL)."""
        self.send_packet(bytes([COM_QUERY]) + sql.encode(), 0)
        first = self.read_packet()
        if first.is_err:
            raise ServerError(ErrPacket.parse(first))
        if first.is_ok:
            return []
        ncols, _ = read_lenenc_int(first.payload, 0)
        assert ncols is not None
        for _ in range(ncols):
            self.read_packet()  # column definitions
        eof = self.read_packet()
        if not (eof.payload[:1] == b"\xfe" and len(eof.payload) < 9):
            raise ProtocolError("expected EOF after column definitions")
        rows: list[list[str | None]] = []
        while True:
            pkt = self.read_packet()
            p = pkt.payload
            if p[:1] == b"\xfe" and len(p) < 9:
                return rows
            if p[:1] == b"\xff":
                raise ServerError(ErrPacket.parse(pkt))
            pos, row = 0, []
            while pos < len(p):
                n, pos = read_lenenc_int(p, pos)
                if n is None:
                    row.append(None)
                else:
                    row.append(p[pos : pos + n].decode("utf-8", "replace"))
                    pos += n
            rows.append(row)

    def change_user(self, user: str | bytes, password: str, **options) -> Packet:
        """COM_CHANGE_USER (seq 0) with a native scramble of the current seed (``options`` as for
        send_change_user); follows an AuthSwitchRequest (answering with the password scrambled with
        its new 20-byte seed). Returns the final OK packet; raises ServerError on ERR (its seq is in
        `.err.seq`)."""
        self.send_change_user(user, password, **options)
        return self.read_auth_result(password)

    def send_change_user(
        self,
        user: str | bytes,
        password: str,
        *,
        database: str | None = None,
        charset: int = CHARSET_UTF8MB4_GENERAL_CI,
        attrs: dict[str, str] | None = None,
    ) -> None:
        """Only send the COM_CHANGE_USER packet (read the answer with read_auth_result)."""
        if self.greeting is None:
            raise ProtocolError("log in first")
        negotiated = self.caps & self.greeting.capabilities
        payload = change_user_payload(
            caps=negotiated,
            user=user,
            auth_response=native_password_scramble(password, self.scramble),
            database=database,
            charset=charset,
            attrs=attrs,
        )
        self.send_packet(payload, 0)

    def ping(self) -> Packet:
        self.send_packet(bytes([COM_PING]), 0)
        pkt = self.read_packet()
        if pkt.is_err:
            raise ServerError(ErrPacket.parse(pkt))
        return pkt

    def load_data_local(self, sql: str, chunks: list[bytes]) -> Packet:
        """LOAD DATA LOCAL INFILE: COM_QUERY, the server's 0xFB file request (seq 1), then each
        chunk as one packet (seq 2, 3, … wrapping at 256), an empty packet, and the OK (or ERR).
        The session must have been opened with CLIENT_LOCAL_FILES."""
        self.send_packet(bytes([COM_QUERY]) + sql.encode(), 0)
        req = self.read_packet()
        if req.is_err:
            raise ServerError(ErrPacket.parse(req))
        if req.payload[:1] != b"\xfb":
            raise ProtocolError(f"expected a LOCAL INFILE request, got {req.payload[:16]!r}")
        seq = req.seq
        for chunk in chunks:
            seq = (seq + 1) & 0xFF
            self.send_packet(chunk, seq)
        self.send_packet(b"", (seq + 1) & 0xFF)
        pkt = self.read_packet()
        if pkt.is_err:
            raise ServerError(ErrPacket.parse(pkt))
        return pkt

    def quit(self) -> None:
        try:
            self.send_packet(bytes([COM_QUIT]), 0)
        except OSError:
            pass
        self.close()

    def wait_closed(self, timeout: float) -> tuple[float, bytes]:
        """Block until the peer closes the connection; returns (seconds waited, bytes received).

        Raises AssertionError if it is still open after `timeout` seconds.
        """
        received, self._buf = self._buf, b""
        ending = read_until_closed(self.sock, timeout)
        received += ending.data
        if ending.how == "open":
            raise AssertionError(f"connection still open after {timeout:.1f}s (received {received[:64]!r})")
        return ending.seconds, received
