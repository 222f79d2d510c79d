"""Logs and metrics an operator can live with: `/metrics` after real logins through a real mariadbd
(help on every family, bytes, TLS sessions by version and cipher, histograms, limits that follow a
reload, backend reachability), `log_connections` (ALL, REFUSED, OFF, changed by SIGHUP), the
`session established` line with the backend's connection id, and IPv4 clients of a dual-stack
listener logged without the `::ffff:` prefix (docs/operations.md "Logs" and "Metrics",
docs/configuration.md `log_connections`)."""

from __future__ import annotations

import re
import socket
import ssl
from pathlib import Path

import pytest

import helpers
import metrics
import option_files
import processes
import proxy_log
import wire

SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)\s*$", re.M)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def samples(text: str) -> dict[str, float]:
    """`name{labels}` -> value for every sample line of a scrape."""
    return {name + (labels or ""): float(value) for name, labels, value in SAMPLE_RE.findall(text)}


def value(text: str, series: str, default: float | None = None) -> float:
    found = samples(text).get(series, default)
    assert found is not None, f"no series {series} in:\n{text}"
    return found


def families_without_help(text: str) -> list[str]:
    typed = re.findall(r"^# TYPE (\S+) ", text, re.M)
    helped = set(re.findall(r"^# HELP (\S+) \S", text, re.M))
    return [name for name in typed if name not in helped]


def set_options(config: Path, **options: object) -> None:
    """Rewrite `key=value` lines of an option file in place (appending keys it lacks)."""
    lines = config.read_text().splitlines()
    for key, val in options.items():
        new = f"{key}={option_files.render_value(val)}"
        for i, line in enumerate(lines):
            if line.partition("=")[0].strip() == key:
                lines[i] = new
                break
        else:
            lines.append(new)
    config.write_text("\n".join(lines) + "\n")


def reload(p: processes.LoggedProcess, **options: object) -> None:
    """Change options in the proxy's option file and SIGHUP it; waits for a successful reload."""
    set_options(p.config, **options)
    processes.reload(p)


def wait_metric(address: str, series: str, at_least: float, *, timeout: float = 10) -> str:
    """Scrapes until `series` reaches `at_least`; returns that scrape."""
    last = ""

    def reached() -> bool:
        nonlocal last
        last = metrics.fetch_metrics(address)
        return samples(last).get(series, 0) >= at_least

    helpers.wait_until(reached, timeout=timeout, what=f"{series} >= {at_least}")
    return last


def metrics_proxy(start_proxy, **overrides):
    address = f"127.0.0.1:{helpers.free_port()}"
    p = start_proxy({"metrics_address": address, **overrides})
    p.wait_for_log("serving metrics", timeout=10)
    return p, address


def login_and_query(port: int, *, tls: ssl.SSLContext | None, sql: str = "SELECT CONNECTION_ID()") -> tuple[int, str]:
    """A real login through the proxy; returns (client port, first value of `sql`)."""
    with wire.Connection.tcp("127.0.0.1", port) as c:
        ok = c.login("app", "app-pass", tls=tls)
        assert ok.is_ok, ok.payload[:80]
        rows = c.query(sql)
        local = c.sock.getsockname()[1]
        c.quit()
    return local, str(rows[0][0])


def wrong_password(port: int) -> int:
    with wire.Connection.tcp("127.0.0.1", port) as c:
        local = c.sock.getsockname()[1]
        try:
            c.login("app", "not-the-password", tls=None)
        except wire.ServerError as e:
            assert e.code == 1045, e
        else:
            raise AssertionError("a wrong password logged in")
    return local


def connect_and_close(port: int) -> int:
    with wire.Connection.tcp("127.0.0.1", port) as c:
        c.read_greeting()
        local = c.sock.getsockname()[1]
    return local


def closed_line_for(p: processes.LoggedProcess, local_port: int, *, start: int = 0) -> str:
    return p.wait_for_log(re.compile(rf"connection closed .*client=127\.0\.0\.1:{local_port} "), start=start)[0]


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------
def test_metrics_after_real_logins_have_help_and_move(start_proxy, certs):
    p, address = metrics_proxy(start_proxy, max_connections=40)
    first = metrics.fetch_metrics(address)
    assert families_without_help(first) == [], first
    assert value(first, "mariadb_tls_proxy_max_connections") == 40
    assert value(first, "mariadb_tls_proxy_max_handshakes") == 64
    assert value(first, "mariadb_tls_proxy_last_reload_success") == 1
    assert value(first, "mariadb_tls_proxy_last_reload_timestamp_seconds") > 1.7e9
    assert re.search(r'^mariadb_tls_proxy_build_info\{version="[^"]+",openssl="OpenSSL 3[^"]*"\} 1', first, re.M) \
        or re.search(r'^mariadb_tls_proxy_build_info\{openssl="OpenSSL 3[^"]*",version="[^"]+"\} 1', first, re.M), first
    # No client yet: reachability unknown, not "down".
    assert "mariadb_tls_proxy_backend_up " not in first

    tls = wire.client_tls_context(certs.ca)
    login_and_query(p.port, tls=tls, sql="SELECT REPEAT('x', 100000)")
    login_and_query(p.port, tls=None)
    text = wait_metric(address, 'mariadb_tls_proxy_connections_total{outcome="relayed"}', 2)

    assert families_without_help(text) == [], text
    assert value(text, "mariadb_tls_proxy_client_sent_bytes_total") > 100_000
    assert value(text, "mariadb_tls_proxy_client_received_bytes_total") > 100
    tls_sessions = {k: v for k, v in samples(text).items() if k.startswith("mariadb_tls_proxy_tls_sessions_total{")}
    assert len(tls_sessions) == 1, tls_sessions
    assert re.fullmatch(r'mariadb_tls_proxy_tls_sessions_total\{version="TLSv1\.3",cipher="TLS_[A-Z0-9_]+"\}',
                        next(iter(tls_sessions))), tls_sessions
    assert list(tls_sessions.values()) == [1], tls_sessions
    assert value(text, "mariadb_tls_proxy_tls_handshake_duration_seconds_count") == 1
    assert value(text, 'mariadb_tls_proxy_tls_handshake_duration_seconds_bucket{le="5.0"}') == 1
    assert value(text, "mariadb_tls_proxy_login_duration_seconds_count") == 2
    assert value(text, "mariadb_tls_proxy_session_duration_seconds_count") == 2
    assert value(text, "mariadb_tls_proxy_backend_up") == 1
    assert value(text, "mariadb_tls_proxy_tls_handshakes_in_flight") == 0

    # A reload changes the limits gauges; then a backend that is gone turns backend_up to 0.
    reload(p, max_connections=7, max_handshakes=3)
    text = metrics.fetch_metrics(address)
    assert value(text, "mariadb_tls_proxy_max_connections") == 7
    assert value(text, "mariadb_tls_proxy_max_handshakes") == 3
    assert value(text, 'mariadb_tls_proxy_reloads_total{result="success"}') == 1

    reload(p, backend_port=helpers.free_port())  # nothing listens there
    with wire.Connection.tcp("127.0.0.1", p.port) as c:
        assert c.read_first_packet().is_err
    # The outcome is counted when the connection has closed, after the connect failure.
    text = wait_metric(address, 'mariadb_tls_proxy_connections_total{outcome="backend_failed"}', 1)
    assert value(text, 'mariadb_tls_proxy_connections_total{outcome="backend_failed"}') == 1
    assert value(text, "mariadb_tls_proxy_backend_connect_failures_total") == 1
    assert value(text, "mariadb_tls_proxy_backend_up") == 0
    assert families_without_help(text) == [], text


def test_a_failed_reload_sets_last_reload_success_to_0(start_proxy):
    p, address = metrics_proxy(start_proxy)
    before = value(metrics.fetch_metrics(address), "mariadb_tls_proxy_last_reload_timestamp_seconds")
    set_options(p.config, max_connections="many")
    assert any("Failed to reload" in line for line in processes.reload(p, succeeds=False))
    text = metrics.fetch_metrics(address)
    assert value(text, "mariadb_tls_proxy_last_reload_success") == 0
    assert value(text, "mariadb_tls_proxy_last_reload_timestamp_seconds") >= before
    assert value(text, 'mariadb_tls_proxy_reloads_total{result="failure"}') == 1


# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------
def test_session_established_names_the_backend_connection_id(start_proxy, certs):
    p = start_proxy()
    local, connection_id = login_and_query(p.port, tls=wire.client_tls_context(certs.ca))
    line = p.wait_for_log(re.compile(rf"session established .*client=127\.0\.0\.1:{local} "))[0]
    f = proxy_log.log_fields(line)
    assert f["backend_connection_id"] == connection_id, line
    assert f["user"] == "app" and f["transport"] == "tcp" and f["tls"].startswith("TLSv1.3/"), line
    assert " info " in line and "outcome" not in f, line
    closed = proxy_log.log_fields(closed_line_for(p, local))
    assert closed["backend_connection_id"] == connection_id and closed["outcome"] == "relayed", closed


def test_log_connections_all_refused_off_follow_reloads(start_proxy):
    p, address = metrics_proxy(start_proxy, log_connections="OFF")

    def settle(relayed: int, backend_refused: int) -> None:
        wait_metric(address, 'mariadb_tls_proxy_connections_total{outcome="relayed"}', relayed)
        wait_metric(address, 'mariadb_tls_proxy_connections_total{outcome="backend_refused"}', backend_refused)

    # OFF: nothing per connection; the metrics still count. The reload line comes after any line
    # the connections could have written.
    mark = len(p.log_lines())
    login_and_query(p.port, tls=None)
    wrong_password(p.port)
    settle(1, 1)
    reload(p, log_connections="REFUSED")
    since = "\n".join(p.log_lines()[mark:])
    assert "connection closed" not in since and "session established" not in since, since

    # REFUSED: only the refusal; neither the relayed session nor a client that just went away.
    mark = len(p.log_lines())
    ok_port, _ = login_and_query(p.port, tls=None)
    gone_port = connect_and_close(p.port)
    wait_metric(address, 'mariadb_tls_proxy_connections_total{outcome="client_closed"}', 1)
    settle(2, 1)
    refused_port = wrong_password(p.port)
    line = closed_line_for(p, refused_port, start=mark)
    assert proxy_log.log_fields(line)["outcome"].startswith("refused by backend: 1045 "), line
    since = "\n".join(p.log_lines()[mark:])
    assert f":{ok_port} " not in since and f":{gone_port} " not in since, since
    assert "session established" not in since, since

    # ALL (by reload): both lines of a session, and the client that went away.
    reload(p, log_connections="ALL")
    mark = len(p.log_lines())
    ok_port, _ = login_and_query(p.port, tls=None)
    p.wait_for_log(re.compile(rf"session established .*client=127\.0\.0\.1:{ok_port} "), start=mark)
    assert proxy_log.log_fields(closed_line_for(p, ok_port, start=mark))["outcome"] == "relayed"
    gone_port = connect_and_close(p.port)
    assert proxy_log.log_fields(closed_line_for(p, gone_port, start=mark))["outcome"] == "client closed the connection during login"


def test_a_client_rejecting_the_certificate_is_a_logged_tls_failure(start_proxy, certs):
    # The client checks the proxy's certificate against another CA, sends its alert and closes;
    # the close often reaches the proxy before the alert is read. Either way it is a TLS failure,
    # which log_connections = REFUSED keeps and the metrics count as tls_failed.
    p, address = metrics_proxy(start_proxy, log_connections="REFUSED")
    wrong_ca = wire.client_tls_context(certs.other_ca)
    ports = []
    for _ in range(8):
        with wire.Connection.tcp("127.0.0.1", p.port) as c:
            c.read_greeting()
            c.send_ssl_request()
            ports.append(c.sock.getsockname()[1])
            with pytest.raises(ssl.SSLError):
                c.start_tls(wrong_ca, server_hostname="localhost")
    for port in ports:
        outcome = proxy_log.log_fields(closed_line_for(p, port))["outcome"]
        assert outcome.startswith("refused: TLS handshake failed: "), outcome
    text = wait_metric(address, 'mariadb_tls_proxy_connections_total{outcome="tls_failed"}', len(ports))
    assert value(text, 'mariadb_tls_proxy_connections_total{outcome="client_closed"}', 0) == 0, text


def test_refusals_at_max_connections_follow_log_connections(start_proxy):
    p, address = metrics_proxy(start_proxy, max_connections=1, log_connections="OFF")
    with wire.Connection.tcp("127.0.0.1", p.port) as holder:
        holder.read_greeting()
        with wire.Connection.tcp("127.0.0.1", p.port) as c:
            assert wire.ErrPacket.parse(c.read_first_packet()).code == 1040
        wait_metric(address, 'mariadb_tls_proxy_connections_total{outcome="too_many_connections"}', 1)
        # Its line, if any, would come before the reload's.
        reload(p, log_connections="REFUSED")
        assert not any("too many connections" in l for l in p.log_lines()), p.log_text()
        mark = len(p.log_lines())
        with wire.Connection.tcp("127.0.0.1", p.port) as c:
            assert wire.ErrPacket.parse(c.read_first_packet()).code == 1040
            local = c.sock.getsockname()[1]
        line = p.wait_for_log(re.compile(rf"connection closed .*client=127\.0\.0\.1:{local} "), start=mark)[0]
        assert proxy_log.log_fields(line)["outcome"] == "refused: 1040 too many connections", line


def test_ipv4_client_of_a_dual_stack_listener_is_logged_as_ipv4(start_proxy, backend):
    p = start_proxy({"bind_address": "::"})
    local, _ = login_and_query(p.port, tls=None)
    line = p.wait_for_log(re.compile(r"session established "))[0]
    assert proxy_log.log_fields(line)["client"] == f"127.0.0.1:{local}", line
    closed = closed_line_for(p, local)
    assert "::ffff:" not in closed, closed
    # A real IPv6 client keeps its brackets.
    with socket.create_connection(("::1", p.port), timeout=10) as s:
        six = s.getsockname()[1]
        s.recv(1)
    p.wait_for_log(re.compile(rf"connection closed .*client=\[::1\]:{six} "))
