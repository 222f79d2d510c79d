"""Client bytes that arrive before the greeting are kept, as testssl.sh sends them."""

import wire


def test_ssl_request_before_greeting_then_login(proxy, certs):
    with wire.Connection.tcp("127.0.0.1", proxy.port) as c:
        # Exactly what testssl.sh/openssl send, before anything has been read.
        c.send_raw(wire.OPENSSL_SSL_REQUEST)
        g = c.read_greeting()
        assert g.capabilities & wire.CLIENT_SSL
        c.caps = int.from_bytes(wire.OPENSSL_SSL_REQUEST[4:8], "little")
        c.start_tls(wire.client_tls_context(certs.ca))
        c.send_handshake_response("app", "app-pass", seq=2, attrs={"_client_name": "wire.py"})
        ok = c.read_auth_result("app-pass")
        assert ok.is_ok and ok.seq == 3
        assert c.query("SELECT CURRENT_USER()") == [["app@%"]]


def test_own_ssl_request_before_greeting_then_login(proxy, certs):
    with wire.Connection.tcp("127.0.0.1", proxy.port) as c:
        c.send_ssl_request()  # MariaDB-style caps, still before the greeting
        c.read_greeting()
        c.start_tls(wire.client_tls_context(certs.ca))
        c.send_handshake_response("app", "app-pass", seq=2)
        assert c.read_auth_result("app-pass").is_ok
        assert c.query("SELECT 1 + 1") == [["2"]]
