"""The accounts file (docs/access-policy.md): syntax errors stop the startup with their position,
a missing file stops it; user names are matched after the rewrites MariaDB applies (quotes,
character set, length), checked against the reference server.
"""

from __future__ import annotations

import os
import re

import pytest

import helpers
import policy
import policy_matrix
from policy_matrix import VARIANT


# ---------------------------------------------------------------------------
# The accounts file must parse
# ---------------------------------------------------------------------------
_GOOD = """-- valid statements first, so the error is not on line 1
CREATE USER 'a'@'%' REQUIRE SSL;
CREATE USER 'b'@'%'
  REQUIRE SUBJECT '/CN=b'
  AND ISSUER '/CN=Test CA 1';
"""

SYNTAX_ERRORS = [
    # (name, text, the token the error must point at (its first occurrence after _GOOD))
    ("unknown-require", _GOOD + "CREATE USER 'c'@'%' REQUIRE BANANA;\n", "BANANA"),
    ("missing-string", _GOOD + "CREATE USER 'c'@'%' REQUIRE CIPHER;\n", ";"),
    ("not-a-statement", _GOOD + "CREAT USER 'c'@'%';\n", "CREAT"),
    ("unknown-tls-option", _GOOD + "ALTER USER 'a'@'%'\n  REQUIRE SSL AND SUBJECT '/CN=a';\n", "AND"),
]


def _position(text: str, token: str, after: int) -> tuple[int, int]:
    index = text.index(token, after)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


@pytest.mark.parametrize("name,text,token", SYNTAX_ERRORS, ids=[s[0] for s in SYNTAX_ERRORS])
def test_accounts_syntax_error_stops_startup(policy_proxies, name, text, token):
    d = policy_proxies.new_dir()
    accounts = d / "accounts-bad.sql"
    accounts.write_text(text)
    line, column = _position(text, token, len(_GOOD))
    cfg = policy_proxies.config({"accounts": str(accounts)}, d=d)
    r = policy_proxies.run(cfg)
    assert r.returncode == 78, f"rc={r.returncode}\n{r.stderr}"
    assert re.search(rf"(^|\s|/){re.escape(accounts.name)}:{line}:{column}: \S", r.stderr, re.M), \
        f"expected {accounts}:{line}:{column}: ... on stderr, got:\n{r.stderr}"
    assert "ready for connections" not in r.stderr


def test_missing_accounts_file_stops_startup(policy_proxies):
    d = policy_proxies.new_dir()
    cfg = policy_proxies.config({"accounts": str(d / "nope.sql")}, d=d)
    r = policy_proxies.run(cfg)
    assert r.returncode == 78 and "nope.sql" in r.stderr, f"rc={r.returncode}\n{r.stderr}"


# ---------------------------------------------------------------------------
# User names the server rewrites before it looks the account up
# ---------------------------------------------------------------------------
# MariaDB (parse_client_handshake_packet) strips one pair of enclosing single quotes, converts
# the name from the client's character set to utf8 and clips it to 128 characters; only then
# does it find the account and check REQUIRE. The proxy must decide on that same name, or a
# spelling the backend maps onto an account with a requirement would skip the requirement.
LATIN1_JOSE = os.fsdecode(b"jos\xe9")  # argv bytes 6A 6F 73 E9: 'josé' in latin1
SPELLINGS = [
    # (id, user as typed, password, client charset, variant, expected class)
    ("quoted-x509-tls", "'r_x509'", "pw-r_x509", None, "tls", "1045"),
    ("quoted-ssl-plain", "'r_ssl'", "pw-r_ssl", None, "plain", "1045"),
    ("quoted-ssl-tls", "'r_ssl'", "pw-r_ssl", None, "tls", "OK"),
    ("clipped-plain", policy.LONG_USER + "XYZ", "pw-long", None, "plain", "1045"),
    ("clipped-tls", policy.LONG_USER + "XYZ", "pw-long", None, "tls", "OK"),
    # The test servers' default character set is latin1 (mariadbd --no-defaults): a backend without the
    # character set handshake would read these UTF-8 names as latin1, so the proxy refuses them
    # ("OK/refused": MariaDB admits, the proxy fails closed; docs/access-policy.md, "User names").
    ("clipped-utf8-plain", policy.LONG_UTF8_USER + "éé", "pw-long-utf8", "utf8mb4", "plain", "1045"),
    ("clipped-utf8-tls", policy.LONG_UTF8_USER + "éé", "pw-long-utf8", "utf8mb4", "tls", "OK/refused"),
    ("utf8-plain", "josé", "pw-jose", "utf8mb4", "plain", "1045"),
    ("utf8-tls", "josé", "pw-jose", "utf8mb4", "tls", "OK/refused"),
    ("latin1-plain", LATIN1_JOSE, "pw-jose", "latin1", "plain", "1045"),
    ("latin1-tls", LATIN1_JOSE, "pw-jose", "latin1", "tls", "OK"),
]


@pytest.mark.parametrize("transport", ["tcp", "socket"])
@pytest.mark.parametrize("user,password,charset,variant,expected", [s[1:] for s in SPELLINGS],
                         ids=[s[0] for s in SPELLINGS])
def test_user_name_spellings(reference_endpoints, policy_proxy_pool, certs, transport, user, password, charset,
                             variant, expected):
    outcomes = {}
    for name, endpoints in (("reference", reference_endpoints), ("proxy", policy_proxy_pool.endpoints())):
        argv = policy_matrix.client_argv(endpoints[transport], transport, VARIANT[variant], user, certs.dir,
                                  password=password)
        if charset:
            argv.insert(2, f"--default-character-set={charset}")
        outcomes[name] = policy_matrix.outcome_of(helpers.run(argv, timeout=60))
    assert outcomes["reference"].startswith("OK " if expected.startswith("OK") else "ERROR 1045 "), ascii(outcomes)
    if expected == "OK/refused":
        assert outcomes["proxy"].startswith("ERROR 1045 "), ascii(outcomes)
    else:
        assert outcomes["proxy"] == outcomes["reference"], ascii(outcomes)
