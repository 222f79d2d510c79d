"""SIGTERM with an idle session open."""

import signal
import time

import helpers
import wire


def test_sigterm_with_idle_session_exits_0_within_shutdown_timeout(start_proxy, certs):
    p = start_proxy({"shutdown_timeout": 2})
    c = wire.Connection.tcp("127.0.0.1", p.port, timeout=30)
    try:
        c.login("app", "app-pass", tls=wire.client_tls_context(certs.ca))
        assert c.query("SELECT 1") == [["1"]]
        t0 = time.monotonic()
        p.signal(signal.SIGTERM)
        rc = p.wait(timeout=15)
        elapsed = time.monotonic() - t0
        assert rc == 0, f"rc={rc}\n{p.log_text()}"
        assert elapsed < 2 + 3, f"took {elapsed:.1f}s with shutdown_timeout=2"
        # The idle session did not outlive the proxy, and nothing listens any more.
        c.wait_closed(timeout=5)
        assert not helpers.port_is_listening(p.port)
    finally:
        c.close()


def test_sigterm_idle_proxy_exits_0_promptly(proxy):
    t0 = time.monotonic()
    proxy.signal(signal.SIGTERM)
    assert proxy.wait(timeout=10) == 0, proxy.log_text()
    assert time.monotonic() - t0 < 5
