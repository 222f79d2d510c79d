"""The client behaviours of the soak load (soak.py), with their weights in the mix."""

from __future__ import annotations

import random
import socket
import ssl
import struct
import subprocess
from contextlib import closing

from soak_client import COM_QUERY, ServerError, SoakConnection


def tls_context(ca: str) -> ssl.SSLContext:
    """Verifies the proxy's certificate against ``ca`` and the name localhost, as the mariadb CLI
    does with --ssl-verify-server-cert."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def client_hello() -> bytes:
    """The ClientHello records Python's OpenSSL sends first (made in memory, never sent by it)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    outgoing = ssl.MemoryBIO()
    tls = ctx.wrap_bio(ssl.MemoryBIO(), outgoing)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


class SoakClients:
    """The client behaviours of the soak run; each returns normally when the proxy answered as
    it should, and raises otherwise."""

    def __init__(self, port: int, socket_path: str, ca: str):
        self.port = port
        self.socket_path = socket_path
        self.ca = ca
        self.ctx = tls_context(ca)
        self.hello = client_hello()

    def _tls_session(self) -> SoakConnection:
        c = SoakConnection.tcp(self.port)
        try:
            c.login("app", "app-pass", tls=self.ctx)
        except BaseException:
            c.close()
            raise
        return c

    @staticmethod
    def _reset(c: SoakConnection) -> None:
        raw = c.sock
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.close()

    def tls_query(self) -> None:
        with closing(self._tls_session()) as c:
            assert c.query("SELECT 1 + 1") == [["2"]]
            c.ping()
            c.quit()

    def tls_big_result(self) -> None:
        with closing(self._tls_session()) as c:
            rows = c.query("SELECT REPEAT('x', 300000), seq FROM mysql.seq_1_to_5")
            assert len(rows) == 5 and len(rows[0][0]) == 300000
            c.quit()

    def cli_login(self) -> None:
        r = subprocess.run(["mariadb", "--no-defaults", "--connect-timeout=20", "--host=127.0.0.1", f"--port={self.port}",
                            "--protocol=TCP", "--user=app", "--password=app-pass", "--ssl", f"--ssl-ca={self.ca}",
                            "--ssl-verify-server-cert", "--batch", "--skip-column-names", "--execute=SELECT 42"],
                           capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert (r.returncode, r.stdout.strip()) == (0, "42"), r.stderr

    def socket_plaintext(self) -> None:
        with closing(SoakConnection.unix(self.socket_path)) as c:
            c.login("app", "app-pass")
            assert c.query("SELECT 3") == [["3"]]
            c.quit()

    def wrong_password(self) -> None:
        with closing(SoakConnection.tcp(self.port)) as c:
            try:
                c.login("app", "wrong-pass", tls=self.ctx)
            except ServerError as e:
                assert e.code == 1045, e
                return
            raise AssertionError("wrong password accepted")

    def plaintext_tcp(self) -> None:
        with closing(SoakConnection.tcp(self.port)) as c:
            try:
                c.login("app", "app-pass")
            except ServerError as e:
                assert e.code == 3159, e
                return
            raise AssertionError("plaintext TCP login accepted under require_secure_transport")

    def reset_after_login(self) -> None:
        c = self._tls_session()
        assert c.query("SELECT 4") == [["4"]]
        self._reset(c)

    def reset_mid_result(self) -> None:
        c = self._tls_session()
        c.send(bytes([COM_QUERY]) + b"SELECT REPEAT('y', 2000000)", 0)
        c.sock.recv(100)  # the result is on its way
        self._reset(c)

    def close_mid_handshake(self) -> None:
        c = SoakConnection.tcp(self.port)
        c.read_greeting()
        c.send_ssl_request()
        c.send_raw(self.hello[: len(self.hello) // 2])
        if random.random() < 0.5:
            self._reset(c)
        else:
            c.close()

    def close_before_greeting(self) -> None:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()

    def silent_until_timeout(self) -> None:
        with closing(SoakConnection.tcp(self.port, timeout=30)) as c:
            c.read_greeting()
            c.wait_closed(timeout=25)


SOAK_MIX = {  # behaviour: weight
    "tls_query": 30, "tls_big_result": 4, "cli_login": 2, "socket_plaintext": 8, "wrong_password": 10,
    "plaintext_tcp": 10, "reset_after_login": 10, "reset_mid_result": 5, "close_mid_handshake": 10,
    "close_before_greeting": 5, "silent_until_timeout": 1,
}


SOAK_MIX = {  # behaviour: weight
    "tls_query": 30, "tls_big_result": 4, "cli_login": 2, "socket_plaintext": 8, "wrong_password": 10,
    "plaintext_tcp": 10, "reset_after_login": 10, "reset_mid_result": 5, "close_mid_handshake": 10,
    "close_before_greeting": 5, "silent_until_timeout": 1,
}
