"""What the proxy checks is what the backend gets: login layouts and commands it must not pass on.

* A pre-4.1 (2-byte) SSLRequest followed, inside TLS, by a HandshakeResponse that claims
  PROTOCOL_41: MariaDB reads the response in the pre-4.1 layout (the SSLRequest's capabilities
  decide, sql/sql_acl.cc parse_client_handshake_packet); the backend, which never sees the
  SSLRequest, must be handed a packet in which it finds the same user name.
* COM_MULTI (0xFE): a 10.2–10.5 backend runs the commands packed in it, COM_CHANGE_USER included.
  The proxy answers it as MariaDB 10.6+ does (1047 Unknown command) and never forwards it.
"""

from __future__ import annotations

import struct

import pytest

import wire

X509_USER = "x509_twenty_three_chars"  # 23 characters: the pre-4.1 user name's bytes 5..27


@pytest.fixture
def x509_account(backend, tmp_path):
    """A passwordless REQUIRE X509 account in the proxy's accounts file (REQUIRE NONE on the backend)."""
    backend.sql(f"CREATE OR REPLACE USER '{X509_USER}'@'%'")
    accounts = tmp_path / "accounts.sql"
    accounts.write_text(f"CREATE USER '{X509_USER}'@'%' REQUIRE X509;\n")
    accounts.chmod(0o600)
    try:
        yield accounts
    finally:
        backend.sql(f"DROP USER IF EXISTS '{X509_USER}'@'%'")


def mixed_layout_response() -> bytes:
    """A response that claims PROTOCOL_41 (first word) and is 34 bytes long. Read pre-4.1, as MariaDB
    reads it after a pre-4.1 SSLRequest, its user name is bytes 5..31: the X509 account's name and
    four more letters, over the bytes the 4.1 layout keeps for the extended capabilities."""
    caps = wire.CLIENT_PROTOCOL_41 | wire.CLIENT_SECURE_CONNECTION | wire.CLIENT_TRANSACTIONS | wire.CLIENT_SSL
    payload = struct.pack("<H", caps) + b"\x00\x00\x00" + X509_USER.encode() + b"ABCD" + b"\x00" + b"\x00"
    assert len(payload) == 34 and payload[28:32] == b"ABCD"
    return payload


def test_pre41_ssl_request_then_41_response_logs_in_the_checked_user_or_nobody(start_proxy, certs, x509_account):
    proxy = start_proxy({"accounts": str(x509_account)})
    with wire.Connection.tcp("127.0.0.1", proxy.port) as conn:
        greeting = conn.read_greeting()
        assert greeting.capabilities & wire.CLIENT_SSL
        # 2-byte pre-4.1 SSLRequest: SSL, SECURE_CONNECTION, TRANSACTIONS; CLIENT_MYSQL clear.
        conn.send_packet(struct.pack("<H", wire.CLIENT_SSL | wire.CLIENT_SECURE_CONNECTION | wire.CLIENT_TRANSACTIONS), 1)
        conn.start_tls(wire.client_tls_context(certs.ca, check_hostname=False))
        conn.send_packet(mixed_layout_response(), 2)
        try:
            conn.read_auth_result("")
        except (wire.ServerError, wire.ConnectionClosed) as refused:
            outcome = f"refused: {refused}"
        else:
            user = conn.query("SELECT CURRENT_USER()")[0][0]
            outcome = f"logged in as {user}"
    # Without a client certificate the X509 account must stay out of reach. MariaDB itself would read the
    # user as 'x509_twenty_three_charsABCD' (no such account) and refuse.
    assert not outcome.startswith(f"logged in as {X509_USER}@"), outcome
    assert outcome.startswith("refused") or outcome == f"logged in as {X509_USER}ABCD@%", outcome
    # The proxy checked (and logged) the name MariaDB would have read.
    closed = proxy.wait_for_log("connection closed")
    assert f"{X509_USER}ABCD" in closed[0], closed[0]


def com_multi(*subcommands: tuple[int, bytes]) -> bytes:
    """COM_MULTI as Connector/C 3.x packs it: 0xFE, then per command a lenenc length of the command
    byte + data, the command byte and the data."""
    return bytes([0xFE]) + b"".join(wire.lenenc_int(1 + len(data)) + bytes([cmd]) + data for cmd, data in subcommands)


def test_com_multi_is_answered_unknown_command_and_never_forwarded(start_proxy):
    proxy = start_proxy()
    with wire.Connection.tcp("127.0.0.1", proxy.port) as conn:
        conn.login("app", "app-pass")
        # The proxy offers no COM_MULTI (MARIADB_CLIENT_COM_MULTI, extended bit 1).
        assert not conn.greeting.ext_capabilities & (1 << 1)
        change_user = wire.change_user_payload(caps=conn.negotiated_caps(), user="ed", auth_response=b"")
        packet = com_multi((wire.COM_QUERY, b"SELECT 1"), (change_user[0], change_user[1:]))
        # Split across two writes, in the middle of the packed COM_CHANGE_USER.
        data = len(packet).to_bytes(3, "little") + b"\x00" + packet
        conn.send_raw(data[:20])
        conn.send_raw(data[20:])
        answer = conn.read_packet()
        err = wire.ErrPacket.parse(answer)
        assert (err.code, err.sqlstate, err.message, err.seq) == (1047, "08S01", "Unknown command", 1)
        # The session goes on, as the same user.
        assert conn.query("SELECT CURRENT_USER()") == [["app@%"]]
    proxy.wait_for_log("COM_MULTI refused")
