"""Server certificates for the reload and deployment tests (no pytest imports here): made on the
fly from the suite's test CA with ``openssl``, installed atomically, revoked in a CRL, and read
back from PEM files and from ``openssl s_client -starttls mysql``."""

from __future__ import annotations

import hashlib
import os
import re
import ssl
from dataclasses import dataclass
from pathlib import Path

import helpers
from option_files import write_atomically


OPENSSL = helpers.which("openssl") or "openssl"


def openssl(*args: str, input: str | None = None, cwd: Path | None = None) -> str:
    r = helpers.run([OPENSSL, *args], input=input, cwd=cwd, timeout=60)
    assert r.returncode == 0, f"openssl {' '.join(args)} failed (rc={r.returncode}):\n{r.stderr}"
    return r.stdout


@dataclass(frozen=True)
class CertInfo:
    subject: str   # RFC 2253 one-line subject, e.g. "CN=reload-1"
    serial: str    # upper-case hex, as `openssl x509 -serial` prints it
    not_after: str


def new_key(path: Path) -> Path:
    """A fresh P-256 private key (fast to generate), mode 0600."""
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path))
    os.chmod(path, 0o600)
    return path


def make_server_cert(ca_dir: Path, out_dir: Path, name: str, cn: str, *, days: int = 825) -> tuple[Path, Path]:
    """A server certificate from the suite's test CA (``ca_dir``/ca.pem + ca-key.pem) with
    SAN DNS:localhost, IP:127.0.0.1, IP:::1 and a random serial; returns (cert, key)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    key = new_key(out_dir / f"{name}-key.pem")
    csr = out_dir / f"{name}.csr"
    ext = out_dir / f"{name}.ext"
    cert = out_dir / f"{name}-cert.pem"
    ext.write_text("basicConstraints=critical,CA:FALSE\n"
                   "keyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\n"
                   "subjectKeyIdentifier=hash\n"
                   "authorityKeyIdentifier=keyid,issuer\n"
                   "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")
    openssl("req", "-new", "-sha256", "-key", str(key), "-subj", f"/CN={cn}", "-out", str(csr))
    openssl("x509", "-req", "-sha256", "-days", str(days), "-in", str(csr), "-CA", str(ca_dir / "ca.pem"),
             "-CAkey", str(ca_dir / "ca-key.pem"), "-set_serial", "0x" + os.urandom(16).hex(),
             "-extfile", str(ext), "-out", str(cert))
    csr.unlink()
    ext.unlink()
    os.chmod(cert, 0o644)
    return cert, key


def cert_info_from_pem(pem: str) -> CertInfo:
    out = openssl("x509", "-noout", "-subject", "-serial", "-enddate", "-nameopt", "RFC2253", input=pem)
    fields = {}
    for line in out.splitlines():
        k, sep, v = line.partition("=")
        if sep:
            fields[k.strip()] = v.strip()
    return CertInfo(subject=fields["subject"], serial=fields["serial"].upper(), not_after=fields["notAfter"])


def cert_info_from_der(der: bytes) -> CertInfo:
    return cert_info_from_pem(ssl.DER_cert_to_PEM_cert(der))


def fingerprint(path: Path | str) -> str:
    """SHA-256 of a PEM certificate's DER form (compare with ``der_fingerprint`` of a peer cert)."""
    return der_fingerprint(ssl.PEM_cert_to_DER_cert(Path(path).read_text()))


def der_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def cert_info(path: Path | str) -> CertInfo:
    return cert_info_from_pem(Path(path).read_text())


PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def served_cert(port: int, *, timeout: float = 30.0) -> CertInfo:
    """The certificate ``openssl s_client -starttls mysql -connect 127.0.0.1:PORT`` is shown."""
    r = helpers.s_client(port, timeout=timeout)
    m = PEM_RE.search(r.stdout)
    assert m, f"s_client got no certificate from port {port} (rc={r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    return cert_info_from_pem(m.group(0))


def install_cert(cert: Path, key: Path, dest_cert: Path, dest_key: Path) -> None:
    """Put a certificate and key at the configured paths (each file replaced atomically)."""
    write_atomically(dest_cert, cert.read_bytes(), 0o644)
    write_atomically(dest_key, key.read_bytes(), 0o600)


class Crl:
    """Revocation lists signed by the suite's test CA, kept in ``dir`` (an ``openssl ca`` database)."""

    def __init__(self, ca_dir: Path, dir: Path):
        self.dir = dir
        dir.mkdir(parents=True, exist_ok=True)
        (dir / "index.txt").write_text("")
        (dir / "crlnumber").write_text("01\n")
        self.config = dir / "ca.cnf"
        self.config.write_text(
            "[ca]\ndefault_ca = test_ca\n"
            "[test_ca]\n"
            f"database = {dir / 'index.txt'}\n"
            f"crlnumber = {dir / 'crlnumber'}\n"
            f"certificate = {ca_dir / 'ca.pem'}\n"
            f"private_key = {ca_dir / 'ca-key.pem'}\n"
            "default_md = sha256\ndefault_crl_days = 30\n")

    def revoke(self, cert: Path | str) -> None:
        openssl("ca", "-config", str(self.config), "-revoke", str(cert))

    def write(self, dest: Path) -> Path:
        """Generate the CRL now and put it at ``dest`` atomically."""
        tmp = self.dir / "crl.tmp.pem"
        openssl("ca", "-config", str(self.config), "-gencrl", "-out", str(tmp))
        write_atomically(dest, tmp.read_bytes(), 0o644)
        return dest
