#!/usr/bin/env python3
"""capture_relay.py — a one-connection TCP relay that records both directions.

    capture_relay.py BACKEND_PORT OUT_PREFIX [--advertise-ssl]

Listens on an ephemeral 127.0.0.1 port and prints it (one line, then flushes), accepts ONE
connection, relays it to 127.0.0.1:BACKEND_PORT, and writes the raw bytes to OUT_PREFIX.c2s
(client -> server) and OUT_PREFIX.s2c (server -> client). Exits when both directions ended.

--advertise-ssl sets CLIENT_SSL (0x0800) in the greeting's capability word on its way to the
client, so TLS clients (openssl s_client -starttls mysql, mariadb --ssl) send their SSLRequest and
ClientHello to a --skip-ssl server; the recorded .s2c keeps the server's original greeting.
"""
import socket
import sys
import threading

CLIENT_SSL = 0x0800


def read_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def patched_greeting(packet: bytes) -> bytes:
    """The greeting packet (header included) with CLIENT_SSL set in its low capability word."""
    payload = bytearray(packet[4:])
    if not payload or payload[0] != 0x0A:
        return packet
    end = payload.index(0, 1)            # server version, NUL-terminated
    offset = end + 1 + 4 + 8 + 1         # connection id, scramble part 1, filler
    caps = int.from_bytes(payload[offset:offset + 2], "little") | CLIENT_SSL
    payload[offset:offset + 2] = caps.to_bytes(2, "little")
    return packet[:4] + bytes(payload)


def pump(src: socket.socket, dst: socket.socket, log, first_packet_hook=None) -> None:
    try:
        if first_packet_hook is not None:
            header = read_exact(src, 4)
            if len(header) == 4:
                body = read_exact(src, int.from_bytes(header[:3], "little"))
                log.write(header + body)
                dst.sendall(first_packet_hook(header + body))
        while True:
            data = src.recv(65536)
            if not data:
                break
            log.write(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        log.flush()
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def main() -> int:
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and sys.argv[3] != "--advertise-ssl"):
        print(__doc__, file=sys.stderr)
        return 2
    backend_port, prefix = int(sys.argv[1]), sys.argv[2]
    advertise_ssl = len(sys.argv) == 4
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(60)
    print(listener.getsockname()[1], flush=True)
    client, _ = listener.accept()
    listener.close()
    backend = socket.create_connection(("127.0.0.1", backend_port))
    with open(prefix + ".c2s", "wb") as c2s, open(prefix + ".s2c", "wb") as s2c:
        up = threading.Thread(target=pump, args=(client, backend, c2s))
        down = threading.Thread(
            target=pump, args=(backend, client, s2c, patched_greeting if advertise_ssl else None))
        up.start()
        down.start()
        up.join(timeout=60)
        down.join(timeout=60)
    client.close()
    backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
