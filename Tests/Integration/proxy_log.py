"""Fields of the proxy's log lines (key=value, quoted values unescaped) and the account field's
`'u'@'h' (file:line:col)` form (no pytest here)."""

from __future__ import annotations

import re

# ---------------------------------------------------------------------------
# The proxy's log
# ---------------------------------------------------------------------------
_FIELD_RE = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


def log_fields(line: str) -> dict[str, str]:
    """key=value fields of a proxy log line (quoted values unescaped)."""
    out = {}
    for key, value in _FIELD_RE.findall(line):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out[key] = value
    return out


ACCOUNT_FIELD_RE = re.compile(r"^('(?:[^']|'')*'@'[^']*') \((.*):(\d+):(\d+)\)$")


def account_field(value: str) -> tuple[str, str, int, int] | None:
    """`'u'@'h' (file:line:col)` -> ("'u'@'h'", file, line, col)."""
    m = ACCOUNT_FIELD_RE.match(value)
    return (m.group(1), m.group(2), int(m.group(3)), int(m.group(4))) if m else None


def current_user_to_account(current_user: str) -> str:
    """`u@h` (CURRENT_USER()) -> `'u'@'h'`."""
    user, _, host = current_user.rpartition("@")
    return f"'{user}'@'{host}'"
