"""testssl.sh --starttls mysql against a proxy with the default TLS settings (make scan runs a
longer scan of the same kind: scripts/scan.sh).

The scan test needs testssl.sh (Debian package `testssl.sh`, command `testssl`), which `make test`
and `make scan` install; run by hand without it, the test is skipped, saying so. The checker
(scripts/tools/testssl_check.py, run here as scripts/scan.sh runs it) is tested without it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import helpers
from helpers import SCRIPTS

CHECKER = SCRIPTS / "tools" / "testssl_check.py"

# Protocols, each cipher per protocol, renegotiation, compression: what the checks need, no more
# (a full default run takes minutes; this one about 30 s).
TESTSSL_CHECKS = ("-p", "-E", "-R", "-C")
TESTSSL_TIMEOUT = 150


def finding(fid: str, text: str, severity: str = "INFO") -> dict:
    return {"id": fid, "severity": severity, "finding": text, "ip": "127.0.0.1/127.0.0.1", "port": "3306"}


def good_findings() -> list[dict]:
    return [
        finding("service", "mysql"),
        finding("SSLv2", "not offered", "OK"), finding("SSLv3", "not offered", "OK"),
        finding("TLS1", "not offered"), finding("TLS1_1", "not offered"),
        finding("TLS1_2", "offered", "OK"), finding("TLS1_3", "offered with final", "OK"),
        finding("secure_renego", "supported", "OK"), finding("secure_client_renego", "not vulnerable", "OK"),
        finding("CRIME_TLS", "not vulnerable (not using HTTP anyway)", "OK"),
        finding("cipher-tls1_2_xc030", "TLS 1.2   xc030   ECDHE-RSA-AES256-GCM-SHA384       ECDH 253   AESGCM      256      TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        finding("cipher-tls1_3_x1302", "TLS 1.3   x1302   TLS_AES_256_GCM_SHA384            ECDH 253   AESGCM      256      TLS_AES_256_GCM_SHA384"),
    ]


def check(findings: list[dict], directory: Path, *args: str) -> helpers.Run:
    """scripts/tools/testssl_check.py on these findings; rc 0 when it finds nothing wrong."""
    path = directory / f"findings-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(findings))
    return helpers.run([sys.executable, str(CHECKER), str(path), *args], timeout=30)


def replace(findings: list[dict], fid: str, text: str, severity: str = "INFO") -> list[dict]:
    return [f for f in findings if f["id"] != fid] + [finding(fid, text, severity)]


def test_checker_accepts_a_clean_result_and_flags_each_weakness(tmp_path):
    clean = check(good_findings(), tmp_path)
    assert clean.returncode == 0 and "PROBLEMS" not in clean.stdout, clean.output
    bad = {
        "TLS 1.0 offered": replace(good_findings(), "TLS1", "offered (deprecated)", "LOW"),
        "TLS 1.1 cipher": good_findings() + [finding("cipher-tls1_1_xc014", "TLS 1.1   xc014   ECDHE-RSA-AES256-SHA   ECDH 253   AES   256   TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA")],
        "CBC without FS": good_findings() + [finding("cipher-tls1_2_x35", "TLS 1.2   x35     AES256-SHA   RSA   AES   256   TLS_RSA_WITH_AES_256_CBC_SHA")],
        "3DES": good_findings() + [finding("cipher-tls1_2_xc012", "TLS 1.2   xc012   ECDHE-RSA-DES-CBC3-SHA   ECDH 253   3DES   168   TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA")],
        "NULL": good_findings() + [finding("cipher-tls1_2_x3b", "TLS 1.2   x3b     NULL-SHA256   RSA   None   0   TLS_RSA_WITH_NULL_SHA256")],
        "RC4": good_findings() + [finding("cipher-tls1_2_x5", "TLS 1.2   x5      RC4-SHA   RSA   RC4   128   TLS_RSA_WITH_RC4_128_SHA")],
        "client renegotiation": replace(good_findings(), "secure_client_renego", "VULNERABLE, DoS threat", "MEDIUM"),
        "no RFC 5746": replace(good_findings(), "secure_renego", "Not supported / VULNERABLE (NOT ok)", "HIGH"),
        "compression": replace(good_findings(), "CRIME_TLS", "VULNERABLE (NOT ok)", "HIGH"),
        "missing protocol check": [f for f in good_findings() if f["id"] != "TLS1"],
        "scan problem": good_findings() + [finding("scanProblem", "Can't connect", "FATAL")],
    }
    for name, findings in bad.items():
        r = check(findings, tmp_path)
        assert r.returncode == 1 and "PROBLEMS:" in r.stdout, f"checker missed: {name}\n{r.output}"
    # The default only allows AEAD + forward secrecy; a CBC cipher with ECDHE passes the relaxed check.
    cbc_fs = good_findings() + [finding("cipher-tls1_2_xc028", "TLS 1.2   xc028   ECDHE-RSA-AES256-SHA384   ECDH 253   AES   256   TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384")]
    assert check(cbc_fs, tmp_path).returncode == 1
    relaxed = check(cbc_fs, tmp_path, "--any-fs-cipher")
    assert relaxed.returncode == 0, relaxed.output


@pytest.fixture(scope="module")
def testssl():
    exe = shutil.which("testssl.sh") or shutil.which("testssl")  # upstream's name, Debian's
    if exe is None:
        pytest.skip("testssl.sh is not installed (Debian package 'testssl.sh'; `make deps` installs it)")
    return exe


def test_testssl_starttls_mysql_finds_no_weakness(testssl, start_proxy, tmp_path):
    p = start_proxy()
    out = tmp_path / "testssl.json"
    argv = [testssl, "--quiet", "--color", "0", "--warnings", "off", "-n", "none",
            "--openssl-timeout", "10", "--connect-timeout", "10",
            "--starttls", "mysql", *TESTSSL_CHECKS, "--jsonfile", str(out), f"127.0.0.1:{p.port}"]
    t0 = time.monotonic()
    try:
        r = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=TESTSSL_TIMEOUT,
                           cwd=tmp_path, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"testssl.sh did not finish within {TESTSSL_TIMEOUT}s:\n{e.stdout}", pytrace=False)
    elapsed = time.monotonic() - t0
    assert out.is_file(), f"no JSON output (rc={r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-2000:]}"
    findings = json.loads(out.read_text())
    checked = helpers.run([sys.executable, str(CHECKER), str(out)], timeout=30)
    assert checked.returncode == 0, checked.output + f"\n\ntestssl.sh output:\n{r.stdout[-6000:]}"
    print(f"testssl.sh ({elapsed:.0f}s):\n{checked.stdout}")
    # The scan went through the proxy's STARTTLS path, and the proxy survived it.
    assert any(f["id"] == "service" and f["finding"] == "mysql" for f in findings), findings[:5]
    assert p.running()
    assert "refused: TLS handshake failed" in p.log_text()
