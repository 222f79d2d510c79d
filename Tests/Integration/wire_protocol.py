"""The MariaDB client protocol as the scripted client (``wire.Connection``) and the fake backend
speak it: capability flags and commands (include/mysql_com.h), packet framing, the greeting and ERR
packets, length-encoded values, the SSLRequest, HandshakeResponse41 and COM_CHANGE_USER payloads
(sql/sql_acl.cc), the mysql_native_password scramble, and the TLS context clients use."""

from __future__ import annotations

import hashlib
import ssl
import struct
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
    return out + _plugin_and_attributes(caps, plugin, attrs)


def _plugin_and_attributes(caps: int, plugin: str, attrs: dict[str, str] | None) -> bytes:
    """The tail both login packets share: plugin name NUL (PLUGIN_AUTH), connect attributes (CONNECT_ATTRS)."""
    out = plugin.encode() + b"\x00" if caps & CLIENT_PLUGIN_AUTH else b""
    if caps & CLIENT_CONNECT_ATTRS:
        out += lenenc_str(b"".join(lenenc_str(k.encode()) + lenenc_str(v.encode()) for k, v in (attrs or {}).items()))
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
    return out + _plugin_and_attributes(caps, plugin, attrs)


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


def frame(payload: bytes, seq: int) -> bytes:
    """One framed packet: 3-byte little-endian length, sequence id, payload."""
    return len(payload).to_bytes(3, "little") + bytes([seq & 0xFF]) + payload
