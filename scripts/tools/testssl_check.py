#!/usr/bin/env python3
"""Checks a ``testssl.sh --jsonfile`` result (flat JSON: a list of {"id", "severity", "finding", ...})
against the proxy's TLS hygiene: no protocol below TLS 1.2, TLS 1.2 offered, no weak cipher, no
client-initiated renegotiation, RFC 5746 supported, no TLS compression, nothing of severity MEDIUM
or above. Prints what it looked at; exits 0 when clean, 1 with the problems listed.

Used by scripts/scan.sh and the integration test Tests/Integration/test_tls_scan.py.

    testssl_check.py RESULT.json [--any-fs-cipher] [--ignore ID]...
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

BELOW_TLS12 = ("SSLv2", "SSLv3", "TLS1", "TLS1_1")
WEAK_CIPHER_PARTS = ("NULL", "EXP", "RC4", "DES", "MD5", "ADH", "AECDH", "anon", "IDEA", "SEED", "RC2", "PSK", "SRP")
AEAD_PARTS = ("GCM", "CHACHA20", "CCM")
# (finding id, what its text must show, the problem otherwise)
EXPECTED_FINDINGS = [
    *((fid, lambda text: text.startswith("not offered"), "{id}: {text!r} (expected 'not offered')")
      for fid in BELOW_TLS12),
    ("TLS1_2", lambda text: text.startswith("offered"), "{id}: {text!r} (expected 'offered')"),
    ("secure_client_renego", lambda text: "not vulnerable" in text, "client-initiated renegotiation: {text!r}"),
    ("secure_renego", lambda text: text.startswith("supported"), "secure renegotiation (RFC 5746): {text!r}"),
    ("CRIME_TLS", lambda text: "not vulnerable" in text, "TLS compression (CRIME): {text!r}"),
]


def ciphers_in_findings(findings: list[dict]) -> list[tuple[str, str]]:
    """(protocol id, OpenSSL cipher name) for every `cipher-<proto>_<hexcode>` finding."""
    out = []
    for f in findings:
        fid = f.get("id", "")
        if not fid.startswith("cipher-") or fid.startswith("cipher_order"):
            continue
        proto = fid[len("cipher-"):].rsplit("_", 1)[0]   # ssl3, tls1, tls1_1, tls1_2, tls1_3
        parts = f.get("finding", "").split()
        # "TLS 1.2   xc030   ECDHE-RSA-AES256-GCM-SHA384   ECDH 253 ..."; the name follows the hexcode.
        name = next((parts[i + 1] for i, p in enumerate(parts[:-1]) if re.fullmatch(r"x[0-9a-fA-F]+", p)), "?")
        out.append((proto, name))
    return out


def weak_cipher_reason(name: str, *, aead_fs_only: bool) -> str | None:
    """Why a TLS <= 1.2 cipher is unacceptable, or None."""
    upper = name.upper()
    for part in WEAK_CIPHER_PARTS:
        if part.upper() in upper.split("-") or (part in ("DES", "RC4", "NULL", "EXP") and part in upper):
            return f"weak cipher {name} ({part})"
    aead = any(p in upper for p in AEAD_PARTS)
    fs = upper.startswith(("ECDHE-", "DHE-", "EDH-"))
    if not aead and not fs:
        return f"CBC cipher without forward secrecy: {name}"
    if aead_fs_only and not (aead and fs):
        return f"not an AEAD cipher with forward secrecy (the default allows only those): {name}"
    return None


def check_testssl_findings(findings: list[dict], *, aead_fs_only: bool = True, ciphers_scanned: bool = True) -> list[str]:
    """Everything in a testssl.sh result that contradicts the proxy's TLS hygiene (empty = fine):
    no protocol below TLS 1.2, TLS 1.2 offered, no weak cipher (NULL/EXPORT/RC4/3DES/DES/MD5/anon,
    CBC without forward secrecy; with aead_fs_only, nothing but AEAD + ECDHE/DHE in TLS 1.2), no
    client-initiated renegotiation, RFC 5746 supported, no TLS compression (CRIME), no finding of
    severity MEDIUM or above, no fatal scan problem."""
    problems: list[str] = []
    by_id: dict[str, dict] = {}
    for f in findings:
        by_id.setdefault(f.get("id", ""), f)

    def finding(fid: str) -> str | None:
        f = by_id.get(fid)
        if f is None:
            problems.append(f"testssl.sh reported nothing for {fid!r}")
            return None
        return f.get("finding", "")

    for fid, expected, problem in EXPECTED_FINDINGS:
        text = finding(fid)
        if text is not None and not expected(text):
            problems.append(problem.format(id=fid, text=text))

    if ciphers_scanned:
        ciphers = ciphers_in_findings(findings)
        if not any(proto == "tls1_2" for proto, _ in ciphers):
            problems.append("no TLS 1.2 cipher listed (was -E part of the scan?)")
        for proto, name in ciphers:
            if proto in ("ssl2", "ssl3", "tls1", "tls1_1"):
                problems.append(f"cipher offered below TLS 1.2: {proto} {name}")
            elif proto == "tls1_2":
                reason = weak_cipher_reason(name, aead_fs_only=aead_fs_only)
                if reason:
                    problems.append(reason)

    for f in findings:
        severity = f.get("severity", "")
        if f.get("id") == "scanProblem" or severity == "FATAL":
            problems.append(f"scan problem: {f.get('id')}: {f.get('finding')!r}")
        elif severity in ("MEDIUM", "HIGH", "CRITICAL"):
            problems.append(f"{severity}: {f.get('id')}: {f.get('finding')!r}")
    return problems


def check_file(args) -> int:
    findings = json.loads(Path(args.file).read_text())
    ignored = set(args.ignore or ())
    kept = [f for f in findings if f.get("id") not in ignored]
    problems = check_testssl_findings(kept, aead_fs_only=not args.any_fs_cipher)
    for f in findings:
        if f.get("id") in BELOW_TLS12 + ("TLS1_2", "TLS1_3", "secure_renego", "secure_client_renego", "CRIME_TLS"):
            print(f"  {f['id']:<22} {f.get('severity', ''):<8} {f.get('finding', '')}")
    ciphers = ciphers_in_findings(findings)
    print(f"  {'ciphers':<22} {len(ciphers)} offered: " + ", ".join(f"{p}:{n}" for p, n in ciphers))
    for f in findings:
        if f.get("id") in ignored:
            print(f"  (ignored) {f['id']}: {f.get('severity', '')} {f.get('finding', '')}")
    if problems:
        print("PROBLEMS:")
        for p in problems:
            print(f"  - {p}")
        return 1
    print("OK: no protocol below TLS 1.2, no weak cipher, no client-initiated renegotiation, no TLS compression")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="testssl_check.py", description="check a testssl.sh --jsonfile result")
    parser.add_argument("file")
    parser.add_argument("--any-fs-cipher", action="store_true",
                        help="accept CBC ciphers with forward secrecy (for a configured ssl_cipher)")
    parser.add_argument("--ignore", action="append", metavar="ID",
                        help="ignore this finding id (e.g. cert_revocation for test certificates)")
    return check_file(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
