"""The access policy, differentially: the proxy against a TLS-enabled MariaDB with the same accounts.

Every (account, client variant, transport) cell runs `mariadb --no-defaults ... -e "SELECT
CURRENT_USER()"` against the reference server (MariaDB enforcing REQUIRE itself) and against the
proxy (in front of a plaintext backend that has the same users with REQUIRE NONE, with an accounts
file exported from the reference server). Any difference fails the test with a table.
"""

from __future__ import annotations

import collections

import pytest

import policy
import policy_matrix
import proxy_log


# ---------------------------------------------------------------------------
# The fixtures themselves (these need no proxy)
# ---------------------------------------------------------------------------
def test_reference_server_has_tls_and_the_accounts(policy_servers):
    ref, plain = policy_servers.reference, policy_servers.plain
    assert ref.sql("SELECT @@have_ssl, @@skip_name_resolve").split() == ["YES", "1"]
    assert plain.sql("SELECT @@have_ssl, @@skip_name_resolve").split() == ["DISABLED", "1"]
    for server in (ref, plain):
        assert server.sql("SELECT COUNT(*) FROM mysql.user WHERE user = ''").strip() == "0", "anonymous accounts"
    # The plaintext backend has every user and no REQUIRE at all.
    plain_rows = policy.user_rows(plain.socket, plain.admin_user)
    assert {(a.user, a.backend_host or a.host) for a in policy.ACCOUNTS + policy.BACKEND_ONLY} <= plain_rows
    assert plain.sql("SELECT COUNT(*) FROM mysql.global_priv "
                     "WHERE JSON_VALUE(priv, '$.ssl_type') <> 0").strip() == "0"


def test_exported_accounts_file_is_show_create_user_output(policy_servers):
    text = policy_servers.accounts_text("show-create-user")
    for a in policy.ACCOUNTS:
        line = text.splitlines()[policy.statement_line(text, a.user, a.host) - 1]
        assert line.startswith(f"CREATE USER `{a.user}`@`{a.host}`") and line.endswith(";"), line
    # SHOW CREATE USER writes OpenSSL's \xHH escapes with doubled backslashes; they must round-trip.
    assert r"REQUIRE SUBJECT '/C=DE/O=Example/CN=J\\xC3\\xBCrgen Gr\\xC3\\xB6\\xC3\\x9Fe'" in text, text
    assert "REQUIRE ISSUER '/CN=Test CA 1' SUBJECT '/C=US/ST=Oregon/L=Portland/O=My Dom, Inc./CN=alice' " \
           "CIPHER 'ECDHE-RSA-AES256-GCM-SHA384'" in text, text
    assert "`gone`" not in text  # dropped on the reference server
    grants = policy_servers.accounts_text("show-grants")
    assert grants.count("GRANT ") >= len(policy.ACCOUNTS), grants


def test_reference_matrix_is_discriminating(reference_matrix):
    """The oracle's answers are what MariaDB's rules say (so the differential test means something)."""
    outcomes = reference_matrix.outcomes
    n = len(outcomes)
    print(f"\nreference matrix: {n} CLI runs in {reference_matrix.seconds:.1f}s")
    codes = collections.Counter(policy_matrix.error_code(o) for o in outcomes.values())
    assert codes[None] >= n // 5, codes       # plenty of logins succeed ...
    assert codes[1045] >= n // 3, codes       # ... and plenty are refused by REQUIRE
    assert set(codes) <= {None, 1045, 2026}, codes
    # A certificate no CA in the bundle signed aborts TLS for every account.
    for (user, variant, transport), o in outcomes.items():
        if variant.endswith("+untrusted"):
            assert o == policy_matrix.CERT_REJECTED, (user, variant, transport, o)
    assert outcomes[("r_none", "plain", "tcp")] == "OK r_none@%"
    assert outcomes[("alice", "plain", "socket")] == "OK alice@localhost"
    assert outcomes[("u", "tls+bob", "tcp")] == "OK u@127.0.0.1"


# ---------------------------------------------------------------------------
# The differential test
# ---------------------------------------------------------------------------
def _log_tails(pair) -> str:
    return "\n".join(f"---- {p.stderr_path} (last 30 lines) ----\n" + "\n".join(p.log_lines()[-30:]) for p in pair)


@pytest.mark.parametrize("source", policy.ACCOUNT_SOURCES)
def test_proxy_matches_mariadb(source, reference_matrix, policy_proxy_pool, certs):
    """Same outcome (CURRENT_USER() or the exact error line) for every cell, for each way of
    writing the accounts file: SHOW CREATE USER output, SHOW GRANTS output, the hand-written SQL."""
    pair = policy_proxy_pool.pair(source)
    cells = list(reference_matrix.outcomes)
    offsets = [len(p.log_lines()) for p in pair]
    run = policy_matrix.run_matrix(policy_proxy_pool.endpoints(source), cells, certs.dir)
    print(f"\nproxy[{source}] matrix: {len(cells)} CLI runs in {run.seconds:.1f}s "
          f"(reference: {reference_matrix.seconds:.1f}s)")
    mismatches = [(c, reference_matrix.outcomes[c], run.outcomes[c]) for c in cells
                  if reference_matrix.outcomes[c] != run.outcomes[c]]
    assert not mismatches, (f"accounts file: {policy_proxy_pool.factory.servers.accounts[source]}\n"
                            + policy_matrix.mismatch_table(mismatches) + "\n" + _log_tails(pair))

    # The proxy's own choice of row (its log's account=) is the row MariaDB picked (CURRENT_USER()),
    # for every login that succeeded; and the proxy logs as many 1045 refusals as MariaDB gave.
    for proxy, offset, transport in zip(pair, offsets, ("tcp", "socket")):
        mine = [c for c in cells if c[2] == transport]
        lines = proxy.wait_for_log("connection closed", start=offset, count=len(mine), timeout=20)
        expected = collections.Counter(
            (u, proxy_log.current_user_to_account(reference_matrix.outcomes[(u, v, t)][3:]))
            for (u, v, t) in mine if reference_matrix.outcomes[(u, v, t)].startswith("OK "))
        logged = collections.Counter()
        refused_1045 = 0
        for line in lines:
            f = proxy_log.log_fields(line)
            if f.get("outcome", "").startswith("refused: 1045"):
                refused_1045 += 1
            elif f.get("outcome") == "relayed":
                acc = proxy_log.account_field(f.get("account", ""))
                logged[(f.get("user"), acc[0] if acc else None)] += 1
        assert logged == expected, (f"{transport}: account rows in the proxy log differ from CURRENT_USER()\n"
                                    f"only in the log: {dict(logged - expected)}\n"
                                    f"only in MariaDB: {dict(expected - logged)}")
        want_1045 = sum(1 for c in mine if reference_matrix.outcomes[c].startswith("ERROR 1045"))
        assert refused_1045 == want_1045, (transport, refused_1045, want_1045)


def test_matrix_covers_every_form(reference_matrix):
    """Every account is both let in and refused with 1045 somewhere, over each transport."""
    never_refused = {("r_none", "tcp"), ("r_none", "socket"), ("alice", "socket")}  # REQUIRE NONE rows
    for user in policy.USERS:
        if user == "x":  # no row matches any test client: refused everywhere, by design
            assert all(o.startswith("ERROR ") for (u, _, _), o in reference_matrix.outcomes.items() if u == "x")
            continue
        for transport in policy_matrix.TRANSPORTS:
            mine = [o for (u, _, t), o in reference_matrix.outcomes.items() if u == user and t == transport]
            assert any(o.startswith("OK ") for o in mine), (user, transport, mine)
            if (user, transport) not in never_refused:
                assert any(o.startswith("ERROR 1045 ") for o in mine), (user, transport, mine)
