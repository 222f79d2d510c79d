"""The access-policy matrix (no pytest here): client variants (plaintext, TLS versions, ciphers,
client certificates), endpoints, the mariadb command line for one cell (user, variant,
transport), its outcome (`OK user@host` or the client's `ERROR nnnn (state): text`), and a run
of many cells side by side against one target, with a table of mismatches.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import helpers
from policy import CIPHER_TLS12, CIPHER_TLS12_B, CIPHER_TLS13_B, PASSWORDS, USERS

# ---------------------------------------------------------------------------
# Client variants and endpoints
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    name: str
    tls: bool
    cert: str | None = None  # NAME for NAME-cert.pem / NAME-key.pem
    tls_version: str | None = None
    cipher: str | None = None


VARIANTS: list[Variant] = [
    Variant("plain", False),
    Variant("tls", True),
    Variant("tls+alice", True, "alice"),
    Variant("tls+bob", True, "bob"),
    Variant("tls+jurgen", True, "jurgen"),
    Variant("tls+alice@other-ca", True, "alice-other"),
    # A certificate no CA in the bundle signed: TLS 1.2 fails inside the handshake (always 2026);
    # TLS 1.3 fails after the client has finished it, so the client sees 2026 or 2013 (a race).
    Variant("tls1.2+untrusted", True, "rogue-client", "TLSv1.2"),
    Variant("tls1.3+untrusted", True, "rogue-client", "TLSv1.3"),
    Variant("tls1.2/AES256", True, None, "TLSv1.2", CIPHER_TLS12),
    Variant("tls1.2/AES128", True, None, "TLSv1.2", CIPHER_TLS12_B),
    Variant("tls1.2/AES256+alice", True, "alice", "TLSv1.2", CIPHER_TLS12),
    Variant("tls1.2/AES256+alice@other-ca", True, "alice-other", "TLSv1.2", CIPHER_TLS12),
    Variant("tls1.3", True, None, "TLSv1.3"),
    Variant("tls1.3/AES128+alice", True, "alice", "TLSv1.3", CIPHER_TLS13_B),
]
VARIANT = {v.name: v for v in VARIANTS}
TRANSPORTS = ("tcp", "socket")


@dataclass(frozen=True)
class Endpoint:
    """Where a target listens: TCP on 127.0.0.1:port and/or a unix socket."""
    port: int
    socket: str


QUERY = "SELECT CURRENT_USER()"


_ACCOUNT_PASSWORD = object()  # client_argv's default: the password the table gives the user


def client_argv(ep: Endpoint, transport: str, variant: Variant, user: str, certs_dir: Path, *,
                password: object = _ACCOUNT_PASSWORD, query: str = QUERY) -> list[str]:
    """`mariadb --no-defaults ... --execute=QUERY` for one cell (password None: no --password)."""
    if password is _ACCOUNT_PASSWORD:
        password = PASSWORDS.get(user)
    assert password is None or isinstance(password, str)
    extra: list[str] = []
    if variant.tls_version:
        extra.append(f"--tls-version={variant.tls_version}")
    if variant.cipher:
        extra.append(f"--ssl-cipher={variant.cipher}")
    return helpers.mariadb_argv(
        port=ep.port if transport == "tcp" else None,
        socket_path=ep.socket if transport == "socket" else None,
        user=user, password=password, ssl=variant.tls,
        ca=str(certs_dir / "ca-bundle.pem"), verify=True,
        cert=str(certs_dir / f"{variant.cert}-cert.pem") if variant.cert else None,
        key=str(certs_dir / f"{variant.cert}-key.pem") if variant.cert else None,
        batch=True, execute=query, extra=extra)


ERROR_RE = re.compile(r"^ERROR (\d+) \(([0-9A-Z]{5})\)(?: at line \d+)?: (.*)$", re.M)


# The server rejected the client certificate. Under TLS 1.3 the alert reaches a client that has
# already sent its login, so the same rejection shows as either line (sql/sql_acl.cc acl_authenticate).
CERT_REJECTED = "ERROR 2026|2013: client certificate rejected (TLS alert unknown ca)"
_CERT_REJECTED_LINES = (
    "ERROR 2026 (HY000): TLS/SSL error: tlsv1 alert unknown ca",
    "ERROR 2013 (HY000): Lost connection to server at 'sending authentication information', system error: 104",
    "ERROR 2013 (HY000): Lost connection to server at 'sending authentication information', system error: 32",
)


def outcome_of(r: helpers.Run) -> str:
    """`OK <CURRENT_USER()>` or the client's error line (without `at line N`)."""
    if r.returncode == 0:
        return "OK " + r.stdout.strip()
    m = ERROR_RE.search(r.stderr)
    if m:
        line = f"ERROR {m.group(1)} ({m.group(2)}): {m.group(3).strip()}"
        return CERT_REJECTED if line in _CERT_REJECTED_LINES else line
    return f"rc={r.returncode}: {r.stderr.strip()[:120]}"


def error_code(outcome: str) -> int | None:
    m = re.match(r"ERROR (\d+)", outcome)
    return int(m.group(1)) if m else None


def run_client(ep: Endpoint, transport: str, variant: Variant, user: str, certs_dir: Path, **kw) -> str:
    return outcome_of(helpers.run(client_argv(ep, transport, variant, user, certs_dir, **kw), timeout=60))


Cell = tuple[str, str, str]  # (user, variant name, transport)


# Expected outcomes, as outcome_of() reports them
HOST_TEXT = {"tcp": "127.0.0.1", "socket": "localhost"}  # the host a client of each transport is


def denied(user: str, transport: str, *, password: bool = True, host: str | None = None) -> str:
    """The 1045 the mariadb CLI prints for a refused login."""
    return (f"ERROR 1045 (28000): Access denied for user '{user}'@'{host or HOST_TEXT[transport]}' "
            f"(using password: {'YES' if password else 'NO'})")


def ok(current_user: str) -> str:
    return f"OK {current_user}"


def all_cells(users: list[str] = USERS, variants: list[Variant] = VARIANTS,
              transports: tuple[str, ...] = TRANSPORTS) -> list[Cell]:
    return [(u, v.name, t) for t in transports for u in users for v in variants]


@dataclass
class MatrixRun:
    outcomes: dict[Cell, str]
    seconds: float


def run_matrix(endpoints: dict[str, Endpoint], cells: list[Cell], certs_dir: Path, *,
               workers: int = 6) -> MatrixRun:
    """Run every cell with the CLI (in a thread pool); `endpoints` maps transport -> Endpoint."""
    start = time.monotonic()

    def one(cell: Cell) -> tuple[Cell, str]:
        user, vname, transport = cell
        return cell, run_client(endpoints[transport], transport, VARIANT[vname], user, certs_dir)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = dict(pool.map(one, cells))
    return MatrixRun(outcomes, time.monotonic() - start)


def mismatch_table(rows: list[tuple[Cell, str, str]], left: str = "reference (MariaDB)",
                   right: str = "proxy") -> str:
    """A readable, aligned table of (cell, expected, got) rows."""
    head = ("account", "client", "transport", left, right)
    body = [(u, v, t, a, b) for (u, v, t), a, b in rows]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(4)]
    lines = []
    for r in [head, *body]:
        lines.append(" | ".join(r[i].ljust(widths[i]) for i in range(4)) + " | " + r[4])
        if r is head:
            lines.append("-+-".join("-" * w for w in widths) + "-+-" + "-" * len(right))
    return f"{len(rows)} mismatch(es):\n" + "\n".join(lines)
