"""`policy_mode = AUDIT` (docs/access-policy.md "Rolling out a policy"): logins and changes of
user the accounts file would refuse are logged and counted, and let through; ENFORCE (the
default, and after a reload back to it) refuses them; require_secure_transport is enforced in
both modes. Real `mariadb` CLI through the proxy to a real backend."""

from __future__ import annotations

import re
import signal

import helpers
import metrics
import option_files
import proxy_log

ACCOUNTS = "CREATE USER 'app'@'%' REQUIRE X509;\n"
WOULD_REFUSE = "policy_mode = AUDIT: would refuse (1045), let through"


def proxy_with(start_proxy, tmp_path, **options):
    accounts = tmp_path / "accounts.sql"
    accounts.write_text(ACCOUNTS)
    address = f"127.0.0.1:{helpers.free_port()}"
    p = start_proxy({"accounts": accounts, "metrics_address": address, **options})
    p.wait_for_log("serving metrics", timeout=10)
    return p, address


def tls_login(p, certs, **kw) -> helpers.Run:
    return helpers.mariadb(port=p.port, ca=certs.ca, execute="SELECT CURRENT_USER()", batch=True, **kw)


def would_refuse_count(address: str) -> float:
    m = re.search(r'^mariadb_tls_proxy_audit_would_refuse_total\{at="login"\} (\S+)$', metrics.fetch_metrics(address), re.M)
    return float(m.group(1)) if m else 0.0


def test_audit_lets_through_logs_and_counts_what_enforce_refuses(start_proxy, certs, tmp_path):
    p, address = proxy_with(start_proxy, tmp_path, policy_mode="AUDIT")
    mark = len(p.log_lines())
    r = tls_login(p, certs)       # TLS without a client certificate: REQUIRE X509 is not met
    assert (r.returncode, r.stdout.strip()) == (0, "app@%"), r.output
    line = p.wait_for_log(WOULD_REFUSE, start=mark)[0]
    fields = proxy_log.log_fields(line)
    assert fields["user"] == "app" and fields["at"] == "login" and "X509" in fields["reason"], line
    assert fields["account"].startswith("'app'@'%'"), line
    assert would_refuse_count(address) == 1

    # With the certificate the account requires: nothing to report.
    r = tls_login(p, certs, cert=certs.client_cert, key=certs.client_key)
    assert r.returncode == 0, r.output
    assert would_refuse_count(address) == 1
    assert len([l for l in p.log_lines()[mark:] if WOULD_REFUSE in l]) == 1

    # Back to ENFORCE by reload: the same login is refused as MariaDB refuses it.
    option_files.set_option(p.config, "policy_mode", "ENFORCE")
    reload_mark = len(p.log_lines())
    p.signal(signal.SIGHUP)
    p.wait_for_log("reload succeeded", start=reload_mark, timeout=20)
    r = tls_login(p, certs)
    assert r.returncode == 1 and "ERROR 1045 (28000): Access denied for user 'app'@'127.0.0.1'" in r.stderr, r.output
    assert would_refuse_count(address) == 1


def test_require_secure_transport_is_enforced_in_audit_mode(start_proxy, certs, tmp_path):
    p, _ = proxy_with(start_proxy, tmp_path, policy_mode="AUDIT", require_secure_transport="ON")
    r = helpers.mariadb(port=p.port, ssl=False, execute="SELECT 1", batch=True)
    assert r.returncode == 1 and "ERROR 3159" in r.stderr, r.output
