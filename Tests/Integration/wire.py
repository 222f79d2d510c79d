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
import hashlib
import socket
import ssl
import struct
import time
from dataclasses import dataclass, field

# Capability flags (include/mysql_com.h).
CLIENT_LONG_PASSWORD = 1  # a.k.a. CLIENT_MYSQL; never set by a MariaDB server
CLIENT_FOUND_ROWS = 1 << 1
CLIENT_LONG_FLAG = 1 << 2
CLIENT_CONNECT_WITH_DB = 1 << 3
CLIENT_NO_SCHEMA = 1 << 4
CLIENT_COMPRESS = 1 << 5
CLIENT_ODBC = 1 << 6
CLIENT_LOCAL_FILES = 1 << 7
CLIENT_IGNORE_SPACE = 1 << 8
CLIENT_PROTOCOL_41 = 1 << 9
CLIENT_INTERACTIVE = 1 << 10
CLIENT_SSL = 1 << 11
CLIENT_IGNORE_SIGPIPE = 1 << 12
CLIENT_TRANSACTIONS = 1 << 13
CLIENT_SECURE_CONNECTION = 1 << 15
CLIENT_MULTI_STATEMENTS = 1 << 16
CLIENT_MULTI_RESULTS = 1 << 17
CLIENT_PS_MULTI_RESULTS = 1 << 18
CLIENT_PLUGIN_AUTH = 1 << 19
CLIENT_CONNECT_ATTRS = 1 << 20
CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 1 << 21
CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS = 1 << 22
CLIENT_SESSION_TRACK = 1 << 23
CLIENT_DEPRECATE_EOF = 1 << 24

DEFAULT_CLIENT_CAPS = (
    CLIENT_LONG_PASSWORD
    | CLIENT_LONG_FLAG
    | CLIENT_PROTOCOL_41
    | CLIENT_TRANSACTIONS
    | CLIENT_SECURE_CONNECTION
    | CLIENT_MULTI_RESULTS
    | CLIENT_PLUGIN_AUTH
    | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
)

CHARSET_UTF8MB4_GENERAL_CI = 45
CHARSET_LATIN1_SWEDISH_CI = 8
MAX_PACKET = 1 << 24
COM_QUIT = 0x01
COM_QUERY = 0x03
COM_PING = 0x0E
COM_CHANGE_USER = 0x11

# The 36 bytes `openssl s_client -starttls mysql` and testssl.sh send (section 9):
# header 20 00 00 01, caps 0x007FAE85, max packet 0x01000000, charset 0x21, 23 zeros.
OPENSSL_SSL_REQUEST = bytes.fromhex("20000001" "85ae7f00" "00000001" "21") + bytes(23)


class ConnectionClosed(Exception):
    """The peer closed the connection (EOF or reset) while we expected data."""


class ProtocolError(Exception):
    """The peer sent something this client does not understand."""


@dataclass
class Packet:
    seq: int
    payload: bytes

    @property
    def is_err(self) -> bool:
        return self.payload[:1] == b"\xff"

    @property
    def is_ok(self) -> bool:
        return self.payload[:1] == b"\x00"


@dataclass
class ErrPacket:
    code: int
    sqlstate: str | None  # None when the '#' marker is absent (pre-greeting ERRs)
    message: str
    seq: int
    raw: bytes

    @classmethod
    def parse(cls, packet: Packet) -> "ErrPacket":
        p = packet.payload
        if p[:1] != b"\xff" or len(p) < 3:
            raise ProtocolError(f"not an ERR packet: {p[:16]!r}")
        code = struct.unpack_from("<H", p, 1)[0]
        rest = p[3:]
        sqlstate = None
        if rest[:1] == b"#" and len(rest) >= 6:
            sqlstate = rest[1:6].decode("ascii", "replace")
            rest = rest[6:]
        return cls(code, sqlstate, rest.decode("utf-8", "replace"), packet.seq, p)


class ServerError(Exception):
    def __init__(self, err: ErrPacket):
        super().__init__(f"ERR {err.code} ({err.sqlstate}) seq={err.seq}: {err.message}")
        self.err = err

    @property
    def code(self) -> int:
        return self.err.code


@dataclass
class Greeting:
    protocol: int
    server_version: str
    connection_id: int
    scramble: bytes
    capabilities: int  # low 32 bits
    ext_capabilities: int  # MariaDB bits 32..63 (only meaningful if bit 0 is clear)
    charset: int
    status: int
    auth_plugin: str
    seq: int
    raw: bytes = field(repr=False)

    @classmethod
    def parse(cls, packet: Packet) -> "Greeting":
        p = packet.payload
        if p[:1] == b"\xff":
            raise ServerError(ErrPacket.parse(packet))
        if p[:1] != b"\x0a":
            raise ProtocolError(f"unexpected greeting protocol byte {p[:1]!r}")
        pos = 1
        end = p.index(b"\x00", pos)
        version = p[pos:end].decode("utf-8", "replace")
        pos = end + 1
        conn_id = struct.unpack_from("<I", p, pos)[0]
        pos += 4
        scramble1 = p[pos : pos + 8]
        pos += 8 + 1  # filler
        caps_lo = struct.unpack_from("<H", p, pos)[0]
        pos += 2
        charset = p[pos]
        pos += 1
        status = struct.unpack_from("<H", p, pos)[0]
        pos += 2
        caps_hi = struct.unpack_from("<H", p, pos)[0]
        pos += 2
        auth_len = p[pos]
        pos += 1 + 6
        ext_caps = struct.unpack_from("<I", p, pos)[0]
        pos += 4
        caps = caps_lo | (caps_hi << 16)
        scramble2 = b""
        if caps & CLIENT_SECURE_CONNECTION:
            n = max(13, auth_len - 8)
            scramble2 = p[pos : pos + n]
            pos += n
            scramble2 = scramble2.rstrip(b"\x00")
        plugin = ""
        if caps & CLIENT_PLUGIN_AUTH and pos < len(p):
            end = p.find(b"\x00", pos)
            plugin = p[pos : end if end >= 0 else len(p)].decode("ascii", "replace")
        return cls(
            protocol=p[0],
            server_version=version,
            connection_id=conn_id,
            scramble=scramble1 + scramble2,
            capabilities=caps,
            ext_capabilities=ext_caps,
            charset=charset,
            status=status,
            auth_plugin=plugin,
            seq=packet.seq,
            raw=p,
        )


def native_password_scramble(password: str | bytes, scramble: bytes) -> bytes:
    """SHA1(pw) XOR SHA1(scramble || SHA1(SHA1(pw))); empty password -> empty response."""
    if isinstance(password, str):
        password = password.encode()
    if not password:
        return b""
    h1 = hashlib.sha1(password).digest()
    h2 = hashlib.sha1(h1).digest()
    h3 = hashlib.sha1(scramble[:20] + h2).digest()
    return bytes(a ^ b for a, b in zip(h1, h3))


def lenenc_int(n: int) -> bytes:
    if n < 0xFB:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    if n < 1 << 24:
        return b"\xfd" + struct.pack("<I", n)[:3]
    return b"\xfe" + struct.pack("<Q", n)


def read_lenenc_int(buf: bytes, pos: int) -> tuple[int | None, int]:
    first = buf[pos]
    if first < 0xFB:
        return first, pos + 1
    if first == 0xFB:
        return None, pos + 1
    if first == 0xFC:
        return struct.unpack_from("<H", buf, pos + 1)[0], pos + 3
    if first == 0xFD:
        return int.from_bytes(buf[pos + 1 : pos + 4], "little"), pos + 4
    return struct.unpack_from("<Q", buf, pos + 1)[0], pos + 9


def lenenc_str(data: bytes) -> bytes:
    return lenenc_int(len(data)) + data


def ssl_request_payload(caps: int, charset: int = CHARSET_UTF8MB4_GENERAL_CI, ext_caps: int = 0) -> bytes:
    """The 32-byte SSLRequest (a truncated HandshakeResponse41)."""
    caps |= CLIENT_SSL | CLIENT_PROTOCOL_41
    ext = 0 if caps & CLIENT_LONG_PASSWORD else ext_caps
    return struct.pack("<IIB", caps, MAX_PACKET, charset) + bytes(19) + struct.pack("<I", ext)


def handshake_response_payload(
    *,
    caps: int,
    user: str | bytes,
    auth_response: bytes,
    plugin: str = "mysql_native_password",
    database: str | None = None,
    charset: int = CHARSET_UTF8MB4_GENERAL_CI,
    attrs: dict[str, str] | None = None,
    ext_caps: int = 0,
) -> bytes:
    """HandshakeResponse41; `caps` must be the negotiated capabilities (client & server)."""
    ext = 0 if caps & CLIENT_LONG_PASSWORD else ext_caps
    out = struct.pack("<IIB", caps, MAX_PACKET, charset) + bytes(19) + struct.pack("<I", ext)
    out += _name_bytes(user) + b"\x00"
    if caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA:
        out += lenenc_str(auth_response)
    elif caps & CLIENT_SECURE_CONNECTION:
        out += bytes([len(auth_response)]) + auth_response
    else:
        out += auth_response + b"\x00"
    if caps & CLIENT_CONNECT_WITH_DB:
        out += (database or "").encode() + b"\x00"
    if caps & CLIENT_PLUGIN_AUTH:
        out += plugin.encode() + b"\x00"
    if caps & CLIENT_CONNECT_ATTRS:
        blob = b"".join(lenenc_str(k.encode()) + lenenc_str(v.encode()) for k, v in (attrs or {}).items())
        out += lenenc_str(blob)
    return out


def _name_bytes(user: str | bytes) -> bytes:
    """A user name as sent: str in UTF-8, bytes as given (e.g. latin1 with a latin1 charset)."""
    return user if isinstance(user, bytes) else user.encode()


def change_user_payload(
    *,
    caps: int,
    user: str | bytes,
    auth_response: bytes,
    database: str | None = None,
    charset: int = CHARSET_UTF8MB4_GENERAL_CI,
    plugin: str = "mysql_native_password",
    attrs: dict[str, str] | None = None,
) -> bytes:
    """COM_CHANGE_USER (0x11); `caps` are the session's negotiated capabilities.

    0x11, user NUL, auth response (1-byte length + bytes with CLIENT_SECURE_CONNECTION, else
    NUL-terminated), database NUL, charset (2 bytes LE, PROTOCOL_41), plugin name NUL
    (PLUGIN_AUTH), connect attributes (CONNECT_ATTRS).
    """
    out = bytes([COM_CHANGE_USER]) + _name_bytes(user) + b"\x00"
    if caps & CLIENT_SECURE_CONNECTION:
        if len(auth_response) > 255:
            raise ValueError("auth response too long for COM_CHANGE_USER")
        out += bytes([len(auth_response)]) + auth_response
    else:
        out += auth_response + b"\x00"
    out += (database or "").encode() + b"\x00"
    if caps & CLIENT_PROTOCOL_41:
        out += struct.pack("<H", charset)
    if caps & CLIENT_PLUGIN_AUTH:
        out += plugin.encode() + b"\x00"
    if caps & CLIENT_CONNECT_ATTRS:
        blob = b"".join(lenenc_str(k.encode()) + lenenc_str(v.encode()) for k, v in (attrs or {}).items())
        out += lenenc_str(blob)
    return out


def client_tls_context(
    ca: str | None = None,
    cert: str | None = None,
    key: str | None = None,
    *,
    check_hostname: bool = True,
    minimum_version: ssl.TLSVersion | None = None,
    maximum_version: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca:
        ctx.load_verify_locations(cafile=ca)
        ctx.check_hostname = check_hostname
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    if minimum_version is not None:
        ctx.minimum_version = minimum_version
    if maximum_version is not None:
        ctx.maximum_version = maximum_version
    return ctx


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
        data = len(payload).to_bytes(3, "little") + bytes([seq & 0xFF]) + payload
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

    def change_user(
        self,
        user: str | bytes,
        password: str,
        *,
        database: str | None = None,
        charset: int = CHARSET_UTF8MB4_GENERAL_CI,
        attrs: dict[str, str] | None = None,
    ) -> Packet:
        """COM_CHANGE_USER (seq 0) with a native scramble of the current seed; follows an
        AuthSwitchRequest (answering with the password scrambled with its new 20-byte seed).
        Returns the final OK packet; raises ServerError on ERR (its seq is in `.err.seq`)."""
        self.send_change_user(user, password, database=database, charset=charset, attrs=attrs)
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
        start = time.monotonic()
        received = self._buf
        self._buf = b""
        deadline = start + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"connection still open after {timeout:.1f}s (received {received[:64]!r})")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                continue
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
                return time.monotonic() - start, received
            if not chunk:
                return time.monotonic() - start, received
            received += chunk
