"""Raw-socket reading for byte-level tests (no pytest imports here): read until the peer closes,
and split what was read into MariaDB packets and TLS records."""

from __future__ import annotations

import socket
import ssl
import struct
import time
from dataclasses import dataclass

from wire_protocol import Packet


@dataclass
class Ending:
    data: bytes          # everything received until the end
    how: str             # "eof", "reset" or "open" (still open at the deadline)
    seconds: float       # time until the end (or the deadline)


def read_until_closed(sock: socket.socket, timeout: float) -> Ending:
    """Read until EOF or reset; `how` is "open" if neither happened within `timeout`."""
    start = time.monotonic()
    deadline = start + timeout
    data = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Ending(data, "open", time.monotonic() - start)
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, TimeoutError):
            continue
        except (ConnectionResetError, BrokenPipeError):
            return Ending(data, "reset", time.monotonic() - start)
        except ssl.SSLEOFError:  # TLS socket: TCP EOF without close_notify
            return Ending(data, "eof", time.monotonic() - start)
        except ssl.SSLError as e:
            return Ending(data, f"tls-error: {e}", time.monotonic() - start)
        except OSError as e:
            return Ending(data, f"error: {e}", time.monotonic() - start)
        if not chunk:
            return Ending(data, "eof", time.monotonic() - start)
        data += chunk


def split_packets(data: bytes) -> list[Packet]:
    """MariaDB packets in `data` (the incomplete tail, if any, is dropped)."""
    out, pos = [], 0
    while pos + 4 <= len(data):
        n = int.from_bytes(data[pos:pos + 3], "little")
        if pos + 4 + n > len(data):
            break
        out.append(Packet(data[pos + 3], data[pos + 4:pos + 4 + n]))
        pos += 4 + n
    return out


@dataclass
class TLSRecord:
    content_type: int  # 21 alert, 22 handshake, 23 application data
    version: int
    body: bytes


def split_tls_records(data: bytes) -> tuple[list[TLSRecord], bytes]:
    """Leading TLS records of `data` (content types 20..23), and the bytes after them."""
    records, pos = [], 0
    while pos + 5 <= len(data) and data[pos] in (20, 21, 22, 23) and data[pos + 1] == 3:
        n = struct.unpack_from(">H", data, pos + 3)[0]
        if pos + 5 + n > len(data):
            break
        records.append(TLSRecord(data[pos], struct.unpack_from(">H", data, pos + 1)[0], data[pos + 5:pos + 5 + n]))
        pos += 5 + n
    return records, data[pos:]


TLS_ALERTS = {40: "handshake_failure", 47: "illegal_parameter", 50: "decode_error", 70: "protocol_version",
              80: "internal_error", 100: "no_renegotiation", 10: "unexpected_message", 22: "record_overflow"}
