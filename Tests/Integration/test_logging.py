"""What the proxy writes to stderr cannot be steered by clients: every logged value is escaped
(control characters, backslash, double quote), so a user name holding a newline stays on its line."""

from __future__ import annotations

import re

import wire


def refused_login(c: wire.Connection, user: str, certs) -> None:
    """A TLS login as an unknown user: the backend refuses it (1045, or an auth switch for the
    unknown user that this client does not follow)."""
    try:
        c.login(user, "nope", tls=wire.client_tls_context(certs.ca))
    except wire.ServerError as e:
        assert e.code == 1045, e
        return
    except wire.ProtocolError:
        return
    raise AssertionError(f"login as {user!r} succeeded")


def test_user_name_with_newline_cannot_forge_a_log_line(start_proxy, certs):
    p = start_proxy()
    start = len(p.log_lines())
    forged_user = "x\nfake line 2026-01-01T00:00:00.000Z info connection closed user=root outcome=\"relayed\""
    with wire.Connection.tcp("127.0.0.1", p.port) as c:
        refused_login(c, forged_user, certs)
    line = p.wait_for_log(re.compile(r"connection closed .*user="), start=start)[0]
    assert 'user="x\\nfake line 2026-01-01T00:00:00.000Z info connection closed user=root outcome=\\"relayed\\""' in line, line
    lines = p.log_lines()[start:]
    forged = [l for l in lines if l.startswith("fake line")]
    assert not forged, f"forged log lines: {forged}"
    # Every line the proxy wrote is one of its own: a timestamp, a level, a message.
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (trace|debug|info|notice|warning|error|critical) ")
    assert all(stamp.match(l) for l in lines), [l for l in lines if not stamp.match(l)]


def test_control_characters_and_backslashes_in_values_are_escaped(start_proxy, certs):
    p = start_proxy()
    start = len(p.log_lines())
    with wire.Connection.tcp("127.0.0.1", p.port) as c:
        refused_login(c, "a\\b\rc\x1bd", certs)
    line = p.wait_for_log(re.compile(r"connection closed .*user="), start=start)[0]
    assert "user=a\\\\b\\rc\\x1Bd " in line, line
    assert "\r" not in line and "\x1b" not in line
