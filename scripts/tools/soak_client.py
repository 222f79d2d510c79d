"""The MariaDB client the soak load (soak.py) drives: just enough of the protocol for a
mysql_native_password login (in plaintext or after an SSLRequest), text-protocol queries, COM_PING
and COM_QUIT. Formats follow MariaDB's sql/sql_acl.cc (greeting, SSLRequest, HandshakeResponse41,
AuthSwitchRequest) and sql/protocol.cc (result sets with EOF packets: CLIENT_DEPRECATE_EOF is not
asked for). Standalone: scripts/ does not import the integration suite.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import struct

# include/mysql_com.h: LONG_PASSWORD, LONG_FLAG, PROTOCOL_41, TRANSACTIONS, SECURE_CONNECTION,
# MULTI_RESULTS, PLUGIN_AUTH; CLIENT_SSL is added for an SSLRequest.
CAPABILITIES = 0x1 | 0x4 | 0x200 | 0x2000 | 0x8000 | 0x20000 | 0x80000
CLIENT_SSL = 0x800
UTF8MB4_GENERAL_CI = 45
COM_QUIT, COM_QUERY, COM_PING = 0x01, 0x03, 0x0E


class ServerError(Exception):
    """An ERR packet: ``code`` is the MariaDB error number."""

    def __init__(self, payload: bytes):
        self.code = struct.unpack_from("<H", payload, 1)[0]
        message = payload[3:]
        if message[:1] == b"#":  # "#" + SQLSTATE
            message = message[6:]
        super().__init__(f"{self.code}: {message.decode('utf-8', 'replace')}")


def scramble_answer(password: str, seed: bytes) -> bytes:
    """mysql_native_password: SHA1(pw) XOR SHA1(seed + SHA1(SHA1(pw)))."""
    stage1 = hashlib.sha1(password.encode()).digest()
    mix = hashlib.sha1(seed[:20] + hashlib.sha1(stage1).digest()).digest()
    return bytes(x ^ y for x, y in zip(stage1, mix))


def lenenc(buf: bytes, pos: int) -> tuple[int | None, int]:
    """A length-encoded integer at ``pos`` (None for 0xFB, NULL) and the position after it."""
    first = buf[pos]
    widths = {0xFC: 2, 0xFD: 3, 0xFE: 8}
    if first == 0xFB:
        return None, pos + 1
    if first not in widths:
        return first, pos + 1
    n = widths[first]
    return int.from_bytes(buf[pos + 1:pos + 1 + n], "little"), pos + 1 + n


class SoakConnection:
    """One connection over TCP or a unix socket; ``sock`` is the socket in use (TLS after login)."""

    def __init__(self, sock: socket.socket, timeout: float):
        sock.settimeout(timeout)
        self.sock = sock
        self.pending = bytearray()
        self.seed = b""

    @classmethod
    def tcp(cls, port: int, *, timeout: float = 20.0) -> "SoakConnection":
        return cls(socket.create_connection(("127.0.0.1", port), timeout=timeout), timeout)

    @classmethod
    def unix(cls, path: str, *, timeout: float = 20.0) -> "SoakConnection":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(path)
        return cls(sock, timeout)

    def close(self) -> None:
        self.sock.close()  # socket.close() does not raise for a peer's reset

    def _take(self, n: int) -> bytes:
        while len(self.pending) < n:
            chunk = self.sock.recv(max(65536, n - len(self.pending)))
            if not chunk:
                raise ConnectionError(f"the proxy closed the connection ({len(self.pending)} of {n} bytes)")
            self.pending += chunk
        out = bytes(self.pending[:n])
        del self.pending[:n]
        return out

    def receive(self) -> tuple[int, bytes]:
        """(sequence id, payload) of the next packet; packets of 16 MiB and more are not expected."""
        header = self._take(4)
        return header[3], self._take(int.from_bytes(header[:3], "little"))

    def send(self, payload: bytes, seq: int) -> None:
        self.sock.sendall(len(payload).to_bytes(3, "little") + bytes([seq]) + payload)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_greeting(self) -> None:
        _, greeting = self.receive()
        if greeting[:1] == b"\xff":
            raise ServerError(greeting)
        pos = greeting.index(b"\x00", 1) + 1 + 4          # server version, connection id
        self.seed = greeting[pos:pos + 8]
        pos += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 6 + 4           # filler, caps, charset, status, caps, length, reserved
        self.seed += greeting[pos:pos + 12]

    def send_ssl_request(self, seq: int = 1) -> None:
        self.send(struct.pack("<IIB", CAPABILITIES | CLIENT_SSL, 1 << 24, UTF8MB4_GENERAL_CI) + bytes(23), seq)

    def login(self, user: str, password: str, *, tls: ssl.SSLContext | None = None) -> None:
        """Greeting, SSLRequest and the TLS handshake (with ``tls``), HandshakeResponse41 and the
        authentication exchange; raises ServerError when the login is refused."""
        self.read_greeting()
        caps, seq = CAPABILITIES, 1
        if tls is not None:
            caps |= CLIENT_SSL
            self.send_ssl_request(seq)
            self.sock = tls.wrap_socket(self.sock, server_hostname="localhost" if tls.check_hostname else None)
            seq += 1
        answer = scramble_answer(password, self.seed)
        self.send(struct.pack("<IIB", caps, 1 << 24, UTF8MB4_GENERAL_CI) + bytes(23) + user.encode() + b"\x00"
                  + bytes([len(answer)]) + answer + b"mysql_native_password\x00", seq)
        while True:
            seq, payload = self.receive()
            if payload[:1] == b"\x00":
                return
            if payload[:1] == b"\xff":
                raise ServerError(payload)
            if payload[:1] != b"\xfe":
                raise ConnectionError(f"unexpected packet during authentication: {payload[:16]!r}")
            plugin, _, seed = payload[1:].partition(b"\x00")  # AuthSwitchRequest
            if plugin != b"mysql_native_password":
                raise ConnectionError(f"authentication switched to {plugin!r}")
            self.send(scramble_answer(password, seed.rstrip(b"\x00")), seq + 1)

    def query(self, sql: str) -> list[list[str | None]]:
        """COM_QUERY; the rows of its text result set (an OK packet gives no rows)."""
        self.send(bytes([COM_QUERY]) + sql.encode(), 0)
        _, first = self.receive()
        if first[:1] == b"\xff":
            raise ServerError(first)
        if first[:1] == b"\x00":
            return []
        columns, _ = lenenc(first, 0)
        for _ in range((columns or 0) + 1):  # column definitions, then EOF
            self.receive()
        rows: list[list[str | None]] = []
        while True:
            _, row = self.receive()
            if row[:1] == b"\xfe" and len(row) < 9:
                return rows
            if row[:1] == b"\xff":
                raise ServerError(row)
            values, pos = [], 0
            while pos < len(row):
                n, pos = lenenc(row, pos)
                values.append(None if n is None else row[pos:pos + n].decode("utf-8", "replace"))
                pos += n or 0
            rows.append(values)

    def ping(self) -> None:
        self.send(bytes([COM_PING]), 0)
        _, answer = self.receive()
        if answer[:1] != b"\x00":
            raise ConnectionError(f"COM_PING answered {answer[:16]!r}")

    def quit(self) -> None:
        try:
            self.send(bytes([COM_QUIT]), 0)
        except OSError:
            pass
        self.close()

    def wait_closed(self, timeout: float) -> None:
        """Read until the proxy closes the connection; raises if it is still open after ``timeout``."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
        except socket.timeout:
            raise AssertionError(f"connection still open after {timeout}s") from None
        except OSError:
            pass
