"""Access-policy test data: the accounts table, the SQL for the reference and plaintext servers,
the export of the policy (no pytest here); the client matrix is in policy_matrix.py.

One table of accounts drives everything:
  * reference_sql() (hand-written, every REQUIRE form, several spellings) runs as is on the
    TLS-enabled reference mariadbd, which is the oracle;
  * the plaintext backend behind the proxy gets the same users and passwords, REQUIRE NONE
    (`backend_sql()`), with the same host rows (except where an account says otherwise);
  * the proxy's accounts file is exported from the reference server with the pipeline in
    docs/access-policy.md (`SHOW CREATE USER` for every row of mysql.user), so the paste-in
    path is what is tested.

A matrix cell is (user, client variant, transport); its outcome is what `mariadb --no-defaults
... -e "SELECT CURRENT_USER()"` printed: `OK user@host` or the client's `ERROR nnnn (state): text`.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import helpers

# ---------------------------------------------------------------------------
# Certificates (scripts/make-certs.sh) and their one-line (X509_NAME_oneline) names
# ---------------------------------------------------------------------------
ALICE_SUBJECT = "/C=US/ST=Oregon/L=Portland/O=My Dom, Inc./CN=alice"
BOB_SUBJECT = "/C=US/O=Example/CN=bob"
# CN=Jürgen Größe in UTF-8: OpenSSL's one-line form escapes every non-ASCII byte as \xHH.
JURGEN_SUBJECT = r"/C=DE/O=Example/CN=J\xC3\xBCrgen Gr\xC3\xB6\xC3\x9Fe"
CA1_NAME = "/CN=Test CA 1"
OTHER_CA_NAME = "/CN=Other CA"
ROGUE_CA_NAME = "/CN=Rogue CA"

# name in the certs dir -> (subject, issuer) as X509_NAME_oneline prints them
CLIENT_CERTS: dict[str, tuple[str, str]] = {
    "alice": (ALICE_SUBJECT, CA1_NAME),
    "bob": (BOB_SUBJECT, CA1_NAME),
    "jurgen": (JURGEN_SUBJECT, CA1_NAME),
    "alice-other": (ALICE_SUBJECT, OTHER_CA_NAME),
    "rogue-client": (ALICE_SUBJECT, ROGUE_CA_NAME),
}

CIPHER_TLS12 = "ECDHE-RSA-AES256-GCM-SHA384"
CIPHER_TLS12_B = "ECDHE-RSA-AES128-GCM-SHA256"
CIPHER_TLS13 = "TLS_AES_256_GCM_SHA384"  # what a TLS 1.3 client negotiates by default
CIPHER_TLS13_B = "TLS_AES_128_GCM_SHA256"


def oneline_name(cert_path: str, which: str = "subject") -> str:
    """`openssl x509 -noout -subject -nameopt compat`: the X509_NAME_oneline form MariaDB compares."""
    r = helpers.run([helpers.which("openssl") or "openssl", "x509", "-noout", f"-{which}", "-nameopt", "compat",
                     "-in", cert_path], timeout=30)
    assert r.returncode == 0, r.stderr
    out = r.stdout.strip()
    prefix = f"{which}="
    assert out.startswith(prefix), out
    return out[len(prefix):]


def sql_str(value: str) -> str:
    """A MariaDB string literal: backslashes and quotes escaped (`\\x` must be written `\\\\x`)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# ---------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Account:
    user: str
    host: str
    password: str | None
    require: str  # for humans
    backend_host: str | None = None  # the plaintext backend's host for this row, if different


def pw(user: str) -> str:
    return f"pw-{user}"


LONG_USER = "L" * 128  # USERNAME_CHAR_LENGTH: the longest user name MariaDB keeps
LONG_UTF8_USER = "é" * 128  # the same in characters; 256 bytes in UTF-8


ACCOUNTS: list[Account] = [
    Account("r_none", "%", pw("r_none"), "NONE"),
    Account("r_ssl", "%", pw("r_ssl"), "SSL"),
    Account("r_x509", "%", pw("r_x509"), "X509"),
    Account("r_subject", "%", pw("r_subject"), "SUBJECT alice"),
    Account("r_issuer", "%", pw("r_issuer"), "ISSUER CA 1"),
    Account("r_cipher12", "%", pw("r_cipher12"), f"CIPHER {CIPHER_TLS12}"),
    Account("r_cipher13", "%", pw("r_cipher13"), f"CIPHER {CIPHER_TLS13}"),
    Account("r_combo", "%", pw("r_combo"), f"SUBJECT alice AND ISSUER CA 1 AND CIPHER {CIPHER_TLS13}"),
    Account("r_utf8", "%", pw("r_utf8"), "SUBJECT Jürgen Größe (non-ASCII)"),
    Account("r_nopw", "%", None, "SSL, no password"),
    Account("alice", "localhost", pw("alice"), "NONE (seed page)"),
    Account("alice", "%", pw("alice"), f"SUBJECT alice AND ISSUER CA 1 AND CIPHER {CIPHER_TLS12} (seed page)"),
    Account("u", "127.0.0.1", pw("u"), "X509"),
    Account("u", "%", pw("u"), "SSL"),
    Account("n", "127.0.0.0/255.0.0.0", pw("n"), "SUBJECT bob"),
    Account("n", "localhost", pw("n"), "X509"),
    # Mentioned in the file for a host no test client has; the backend would accept 'x'@'%'.
    Account("x", "10.9.9.9", pw("x"), "NONE", backend_host="%"),
    # Names the server rewrites before the lookup (not in the matrix; see test_user_name_spellings):
    # it clips names to 128 characters and converts them from the client's character set.
    Account(LONG_USER, "%", pw("long"), "SSL (a 128-character name)"),
    Account(LONG_UTF8_USER, "%", pw("long-utf8"), "SSL (128 two-byte characters)"),
    Account("josé", "%", pw("jose"), "SSL (a non-ASCII name)"),
]

# On the plaintext backend only (strict_accounts tests): the accounts file never mentions it.
BACKEND_ONLY: list[Account] = [Account("stranger", "%", pw("stranger"), "NONE (not in the accounts file)")]

USERS: list[str] = list(dict.fromkeys(a.user for a in ACCOUNTS
                                      if a.user not in (LONG_USER, LONG_UTF8_USER, "josé")))
PASSWORDS: dict[str, str | None] = {a.user: a.password for a in ACCOUNTS + BACKEND_ONLY}

# Run as is on the reference server; also fed, unchanged, to a proxy (the "handwritten" source).
# Several spellings on purpose: quotes of each kind, bare user (= '%'), ALTER USER, GRANT ...
# REQUIRE, AND-joined and space-joined tls options, multi-line statements, comments.
_REFERENCE_SQL = string.Template(r"""-- Accounts for the access-policy tests: every REQUIRE form, written the ways admins write them.
CREATE USER 'r_none'@'%' IDENTIFIED BY 'pw-r_none';
CREATE USER 'r_ssl'@'%' IDENTIFIED BY 'pw-r_ssl' REQUIRE SSL;
CREATE USER r_x509 IDENTIFIED BY 'pw-r_x509' REQUIRE X509;  # a bare user name is user@'%'
CREATE USER 'r_subject'@'%' IDENTIFIED BY 'pw-r_subject' REQUIRE SUBJECT $ALICE;
CREATE USER "r_issuer"@"%" IDENTIFIED BY 'pw-r_issuer';
ALTER USER "r_issuer"@"%" REQUIRE ISSUER $CA1;
GRANT USAGE ON *.* TO `r_cipher12`@`%` IDENTIFIED BY 'pw-r_cipher12' REQUIRE CIPHER '$CIPHER_TLS12';
CREATE USER 'r_cipher13'@'%' IDENTIFIED BY 'pw-r_cipher13' REQUIRE CIPHER '$CIPHER_TLS13';
/* SUBJECT, ISSUER and CIPHER together; the last two joined by a space, not AND */
CREATE USER 'r_combo'@'%' IDENTIFIED BY 'pw-r_combo'
  REQUIRE SUBJECT $ALICE AND ISSUER $CA1 CIPHER '$CIPHER_TLS13';
-- CN=Jürgen Größe: OpenSSL's one-line form has \xHH escapes, whose backslashes SQL writes as \\.
CREATE USER 'r_utf8'@'%' IDENTIFIED BY 'pw-r_utf8' REQUIRE SUBJECT $JURGEN;
CREATE USER 'r_nopw'@'%' REQUIRE SSL;
CREATE USER 'gone'@'%' IDENTIFIED BY 'pw-gone' REQUIRE X509;
DROP USER 'gone'@'%';

-- The example from "Securing Connections for Client and Server", adapted to our certificates:
CREATE USER 'alice'@'localhost'
  IDENTIFIED BY 'pw-alice'
  REQUIRE NONE;

CREATE USER 'alice'@'%'
  IDENTIFIED BY 'pw-alice'
  REQUIRE SUBJECT $ALICE
  AND ISSUER $CA1
  AND CIPHER '$CIPHER_TLS12';

-- One user, different requirements per host row.
CREATE USER 'u'@'127.0.0.1' IDENTIFIED BY 'pw-u' REQUIRE X509;
CREATE USER 'u'@'%' IDENTIFIED BY 'pw-u' REQUIRE SSL;
CREATE USER 'n'@'127.0.0.0/255.0.0.0' IDENTIFIED BY 'pw-n' REQUIRE SUBJECT $BOB;
CREATE USER 'n'@'localhost' IDENTIFIED BY 'pw-n' REQUIRE X509;
CREATE USER 'x'@'10.9.9.9' IDENTIFIED BY 'pw-x';
GRANT SELECT, INSERT ON policytest.* TO 'r_none'@'%';  -- no REQUIRE: the requirement stays NONE
CREATE USER '$LONG_USER'@'%' IDENTIFIED BY 'pw-long' REQUIRE SSL;
CREATE USER '$LONG_UTF8_USER'@'%' IDENTIFIED BY 'pw-long-utf8' REQUIRE SSL;
CREATE USER 'josé'@'%' IDENTIFIED BY 'pw-jose' REQUIRE SSL;
""")


def reference_sql() -> str:
    return _REFERENCE_SQL.substitute(
        ALICE=sql_str(ALICE_SUBJECT), BOB=sql_str(BOB_SUBJECT), JURGEN=sql_str(JURGEN_SUBJECT),
        CA1=sql_str(CA1_NAME), CIPHER_TLS12=CIPHER_TLS12, CIPHER_TLS13=CIPHER_TLS13, LONG_USER=LONG_USER,
        LONG_UTF8_USER=LONG_UTF8_USER)


# Run on both servers before the accounts (a table for the LOAD DATA LOCAL test).
SCHEMA_SQL = """CREATE DATABASE IF NOT EXISTS policytest;
CREATE TABLE IF NOT EXISTS policytest.t (line VARBINARY(64));
"""


def backend_sql() -> str:
    """The plaintext backend: the same users and passwords, no REQUIRE (the proxy enforces it)."""
    lines = []
    for a in ACCOUNTS + BACKEND_ONLY:
        ident = f" IDENTIFIED BY {sql_str(a.password)}" if a.password is not None else ""
        lines.append(f"CREATE USER {sql_str(a.user)}@{sql_str(a.backend_host or a.host)}{ident};")
    lines.append("GRANT SELECT, INSERT ON policytest.* TO 'r_none'@'%';")
    return "\n".join(lines) + "\n"


def expected_reference_rows() -> set[tuple[str, str]]:
    return {(a.user, a.host) for a in ACCOUNTS}


def sql_utf8(socket_path: str, admin_user: str, sql: str) -> str:
    """Run SQL (from stdin) as the admin over the socket in utf8mb4; returns the batch output."""
    r = helpers.run([helpers.which("mariadb") or "mariadb", "--no-defaults", f"--socket={socket_path}",
                     f"--user={admin_user}", "--batch", "--skip-column-names", "--default-character-set=utf8mb4"],
                    input=sql, timeout=60)
    assert r.returncode == 0, f"SQL failed on {socket_path}:\n{r.stderr}"
    return r.stdout


def user_rows(socket_path: str, admin_user: str) -> set[tuple[str, str]]:
    out = sql_utf8(socket_path, admin_user, "SELECT user, host FROM mysql.user")
    return {tuple(line.split("\t")) for line in out.splitlines()}  # type: ignore[misc]


# ---------------------------------------------------------------------------
# Exporting the policy from the reference server (docs/access-policy.md)
# ---------------------------------------------------------------------------
_EXPORT_SHOW_CREATE_USER = r"""
M="mariadb --no-defaults --socket=$1 --user=$2 --default-character-set=utf8mb4"
$M -N -B -e "SELECT CONCAT('SHOW CREATE USER \`', user, '\`@\`', host, '\`;') FROM mysql.user" \
  | $M -N -B -r | sed 's/$/;/'
"""

_EXPORT_SHOW_GRANTS = r"""
M="mariadb --no-defaults --socket=$1 --user=$2 --default-character-set=utf8mb4"
$M -N -B -e "SELECT CONCAT('SHOW GRANTS FOR \`', user, '\`@\`', host, '\`;') FROM mysql.user" \
  | $M -N -B -r | sed 's/$/;/'
"""


# Three ways to write the same accounts file, each fed to its own proxies in the matrix:
# SHOW CREATE USER output (the documented export), SHOW GRANTS output, and REFERENCE_SQL itself.
ACCOUNT_SOURCES = ("show-create-user", "show-grants", "handwritten")


def export_accounts(socket_path: str, admin_user: str, *, grants: bool = False) -> str:
    """The documented export pipeline (in UTF-8: the tests run in the C locale, where the
    client would otherwise pick latin1 and write 'josé' as the single byte 0xE9)."""
    script = _EXPORT_SHOW_GRANTS if grants else _EXPORT_SHOW_CREATE_USER
    r = helpers.run(["bash", "-o", "pipefail", "-c", script, "export", socket_path, admin_user], timeout=60)
    assert r.returncode == 0 and r.stdout.strip(), f"export failed (rc={r.returncode}): {r.stderr}"
    return r.stdout


def statement_line(text: str, user: str, host: str) -> int:
    """1-based line of the exported `CREATE USER `user`@`host`` (or GRANT ... TO) statement."""
    needle = f"`{user}`@`{host}`"
    for i, line in enumerate(text.splitlines(), start=1):
        if needle in line and (line.startswith("CREATE USER") or line.startswith("GRANT ")):
            return i
    raise KeyError(needle)
