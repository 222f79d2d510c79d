"""Certificate expiry watched while running (docs/configuration.md `ssl_cert_expiry_warning`,
docs/operations.md "Metrics"): warnings relative to a certificate's lifetime, errors for expired
ones, and the expiry gauge per loaded certificate, kept in step with reloads. The daily re-check
itself is unit-tested (CertificateExpiryWatchTests); here the same check runs at startup, under
--check and after a reload."""

from __future__ import annotations

import datetime
import os
import re
import signal
import ssl
from pathlib import Path

import certificates
import helpers
import metrics

DAY = datetime.timedelta(days=1)
EXPIRY_SERIES = re.compile(r'^mariadb_tls_proxy_certificate_expiry_timestamp_seconds\{([^}]*)\} (\S+)$', re.M)


def backdated_server_cert(ca_dir: Path, out_dir: Path, name: str, cn: str, *,
                          not_before: datetime.datetime, not_after: datetime.datetime) -> tuple[Path, Path]:
    """Like ``certificates.make_server_cert`` but valid from ``not_before`` (which may be in the past) to
    ``not_after``: ``openssl ca`` takes both dates, ``openssl x509 -req`` only a day count."""
    out_dir.mkdir(parents=True, exist_ok=True)
    key = certificates.new_key(out_dir / f"{name}-key.pem")
    csr = out_dir / f"{name}.csr"
    cert = out_dir / f"{name}-cert.pem"
    db = out_dir / f"{name}-ca"
    db.mkdir(exist_ok=True)
    (db / "index.txt").write_text("")
    config = db / "ca.cnf"
    config.write_text(
        "[ca]\ndefault_ca = test_ca\n"
        "[test_ca]\n"
        f"database = {db / 'index.txt'}\nnew_certs_dir = {db}\nserial = {db / 'serial'}\n"
        f"certificate = {ca_dir / 'ca.pem'}\nprivate_key = {ca_dir / 'ca-key.pem'}\n"
        "default_md = sha256\npolicy = any\nunique_subject = no\ncopy_extensions = none\n"
        "x509_extensions = server\n"
        "[any]\ncommonName = supplied\n"
        "[server]\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")
    stamp = "%Y%m%d%H%M%SZ"
    certificates.openssl("req", "-new", "-sha256", "-key", str(key), "-subj", f"/CN={cn}", "-out", str(csr))
    (db / "serial").write_text(os.urandom(16).hex() + "\n")
    certificates.openssl("ca", "-batch", "-config", str(config), "-notext", "-in", str(csr), "-out", str(cert),
                "-startdate", not_before.astimezone(datetime.timezone.utc).strftime(stamp),
                "-enddate", not_after.astimezone(datetime.timezone.utc).strftime(stamp))
    csr.unlink()
    os.chmod(cert, 0o644)
    return cert, key


def backdated(certs, d: Path, name: str, *, lifetime_days: float, remaining_days: float) -> tuple[Path, Path]:
    now = datetime.datetime.now(datetime.timezone.utc)
    not_after = now + datetime.timedelta(days=remaining_days)
    return backdated_server_cert(Path(certs.ca).parent, d, name, f"expiry-{name}",
                                         not_before=not_after - datetime.timedelta(days=lifetime_days),
                                         not_after=not_after)


def check(proxies, cert: Path, key: Path, **options) -> helpers.Run:
    cfg = proxies.config({"ssl_cert": cert, "ssl_key": key, **options})
    r = proxies.run(cfg, "--check")
    assert r.returncode == 0, r.output
    return r


def expiry_lines(r: helpers.Run) -> list[str]:
    return [l for l in r.stderr.splitlines() if "expires in" in l or "has expired" in l or "not valid yet" in l]


def test_a_certificate_inside_its_window_is_warned(proxies, certs):
    cert, key = backdated(certs, proxies.new_dir(), "year", lifetime_days=400, remaining_days=5.5)
    lines = expiry_lines(check(proxies, cert, key))
    assert len(lines) == 1, lines
    assert re.search(r" warning the TLS certificate expires in 5 days certificate=\"/CN=expiry-year\"", lines[0]), lines[0]


def test_the_window_is_set_by_ssl_cert_expiry_warning(proxies, certs):
    cert, key = backdated(certs, proxies.new_dir(), "year", lifetime_days=400, remaining_days=5.5)
    assert expiry_lines(check(proxies, cert, key, ssl_cert_expiry_warning=5)) == []
    assert len(expiry_lines(check(proxies, cert, key, ssl_cert_expiry_warning=6))) == 1
    assert expiry_lines(check(proxies, cert, key, ssl_cert_expiry_warning=0)) == []


def test_short_lived_certificates_renewed_on_schedule_are_not_nagged(proxies, certs):
    d = proxies.new_dir()
    # A 90-day ACME certificate at certbot's renewal point (30 days left): on schedule, no warning.
    cert, key = backdated(certs, d, "acme", lifetime_days=90, remaining_days=29)
    assert expiry_lines(check(proxies, cert, key)) == []
    # A freshly issued 6-day certificate, and one with a day and a half left: still on schedule.
    cert, key = certificates.make_server_cert(Path(certs.ca).parent, d, "six", "expiry-six", days=6)
    assert expiry_lines(check(proxies, cert, key)) == []
    cert, key = backdated(certs, d, "six-later", lifetime_days=6, remaining_days=1.6)
    assert expiry_lines(check(proxies, cert, key)) == []
    # The 90-day one whose renewal has failed for a week: reported.
    cert, key = backdated(certs, d, "acme-late", lifetime_days=90, remaining_days=21.5)
    lines = expiry_lines(check(proxies, cert, key))
    assert len(lines) == 1 and "expires in 21 days" in lines[0], lines


def test_an_expired_certificate_is_an_error_but_still_loads(proxies, certs):
    # OpenSSL loads an expired certificate (MariaDB serves it too); clients that verify refuse it.
    cert, key = backdated(certs, proxies.new_dir(), "expired", lifetime_days=30, remaining_days=-1)
    lines = expiry_lines(check(proxies, cert, key))
    assert len(lines) == 1 and re.search(r" error the TLS certificate has expired .*expires=", lines[0]), lines


def series(address: str) -> dict[str, tuple[dict[str, str], float]]:
    """role/serial -> (labels, value) of the expiry gauge."""
    out = {}
    for labels_text, value in EXPIRY_SERIES.findall(metrics.fetch_metrics(address)):
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels_text))
        out[f"{labels['role']}/{int(labels['serial'], 16):x}"] = (labels, float(value))
    return out


def not_after(path: Path | str) -> float:
    return ssl.cert_time_to_seconds(certificates.cert_info(path).not_after)


def serial(path: Path | str) -> str:
    return f"{int(certificates.cert_info(path).serial, 16):x}"


def test_the_expiry_gauge_lists_server_and_ca_certificates_and_follows_reloads(start_proxy, certs, tmp_path):
    d = tmp_path / "tls"
    first, first_key = certificates.make_server_cert(Path(certs.ca).parent, d, "first", "expiry-first", days=40)
    cert, key = d / "server-cert.pem", d / "server-key.pem"
    certificates.install_cert(first, first_key, cert, key)
    address = f"127.0.0.1:{helpers.free_port()}"
    p = start_proxy({"ssl_cert": cert, "ssl_key": key, "metrics_address": address})
    p.wait_for_log("serving metrics", timeout=10)

    got = series(address)
    assert set(got) == {f"server/{serial(first)}", f"ca/{serial(certs.ca)}"}, got
    labels, value = got[f"server/{serial(first)}"]
    assert labels["subject"] == "/CN=expiry-first" and value == not_after(first), got
    assert got[f"ca/{serial(certs.ca)}"][1] == not_after(certs.ca), got

    second, second_key = certificates.make_server_cert(Path(certs.ca).parent, d, "second", "expiry-second", days=90)
    certificates.install_cert(second, second_key, cert, key)
    mark = len(p.log_lines())
    p.signal(signal.SIGHUP)
    p.wait_for_log("reload succeeded", start=mark, timeout=20)
    got = series(address)
    assert set(got) == {f"server/{serial(second)}", f"ca/{serial(certs.ca)}"}, got
    assert got[f"server/{serial(second)}"][1] == not_after(second)
    help_line = re.search(r"^# HELP mariadb_tls_proxy_certificate_expiry_timestamp_seconds .+$", metrics.fetch_metrics(address), re.M)
    assert help_line, "the expiry gauge has no # HELP line"
