"""config/certificate-deploy-hook against a real running proxy and certificates made with openssl.

The hook stages the new certificate and key next to the live files, runs the proxy's ``--check``
on the staged pair (as the service user when run as root: here ``nobody``), and only then renames
them into place and runs ``systemctl try-reload-or-restart mariadb-tls-proxy.service``.

There is no systemd here: a stub ``systemctl`` first on PATH (named by
MARIADB_TLS_PROXY_SYSTEMCTL, so the hook calls it although /run/systemd/system is missing) records
its arguments and sends SIGHUP to the test's proxy. That is what the real call ends in: the unit's
ExecReload= runs ``--check`` again and then ``kill -HUP $MAINPID`` (test_units.py runs those lines).
The files live in a directory of their own, traversable by ``nobody``, with a copy of the binary.
"""

from __future__ import annotations

import datetime
import grp
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

import certificates
import helpers
import processes
from helpers import REPO_ROOT

HOOK = REPO_ROOT / "config" / "certificate-deploy-hook"
AS_ROOT = os.geteuid() == 0
SERVICE_USER = "nobody"
STUB_SYSTEMCTL = """#!/bin/sh
# Stands in for systemctl: records the call, then does what the unit's ExecReload= ends in.
printf '%s\\n' "$*" >>"$STUB_SYSTEMCTL_LOG"
exec kill -HUP "$TEST_PROXY_PID"
"""


@dataclass
class HookRig:
    dir: Path
    tls: Path                   # destination directory
    live_cert: Path
    live_key: Path
    config: Path
    proxy: processes.LoggedProcess
    first: certificates.CertInfo          # the certificate the proxy started with
    ca_dir: Path
    env: dict[str, str]
    systemctl_log: Path

    def new_cert(self, name: str, cn: str) -> tuple[Path, Path]:
        return certificates.make_server_cert(self.ca_dir, self.dir / "renewals", name, cn)

    def run(self, *args: str | Path, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(HOOK), *map(str, args)], capture_output=True, text=True, timeout=120,
                              env={**self.env, **env}, cwd=self.dir)

    def systemctl_calls(self) -> list[str]:
        return self.systemctl_log.read_text().splitlines() if self.systemctl_log.exists() else []

    def live_state(self) -> dict[str, tuple[bytes, int, int, int]]:
        """Every file in the destination directory: (content, mode, uid, gid)."""
        out = {}
        for f in sorted(self.tls.iterdir()):
            st = f.stat()
            out[f.name] = (f.read_bytes(), st.st_mode & 0o7777, st.st_uid, st.st_gid)
        return out

    def reload_and_serve(self, mark: int) -> certificates.CertInfo:
        self.proxy.wait_for_log("reload succeeded", start=mark, timeout=20)
        return certificates.served_cert(self.proxy.port)


@pytest.fixture(scope="module")
def binary_copy(proxy_bin) -> Iterator[Path]:
    # The build tree need not be traversable by the service user the check runs as.
    d = Path(tempfile.mkdtemp(prefix="mtp-hookbin-"))
    d.chmod(0o755)
    shutil.copy(proxy_bin, d / "mariadb-tls-proxy")
    yield d / "mariadb-tls-proxy"
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def rig(proxies, certs, binary_copy) -> Iterator[HookRig]:
    d = Path(tempfile.mkdtemp(prefix="mtp-hook-"))
    d.chmod(0o755)
    try:
        tls = d / "tls"
        tls.mkdir(mode=0o750)
        service_group = grp.getgrgid(pwd.getpwnam(SERVICE_USER).pw_gid).gr_name if AS_ROOT else None
        if AS_ROOT:
            shutil.chown(tls, "root", service_group)   # as `make install` leaves it
        ca = d / "ca.pem"
        shutil.copyfile(certs.ca, ca)
        ca.chmod(0o644)
        cert, key = certificates.make_server_cert(Path(certs.dir), d / "initial", "initial", "deploy-hook-initial")
        live_cert, live_key = tls / "server-cert.pem", tls / "server-key.pem"
        shutil.copyfile(cert, live_cert)
        shutil.copyfile(key, live_key)
        live_cert.chmod(0o644)
        live_key.chmod(0o600)
        if AS_ROOT:
            shutil.chown(live_key, SERVICE_USER, service_group)
        config = proxies.config({"ssl_cert": live_cert, "ssl_key": live_key, "ssl_ca": ca}, d=d)
        config.chmod(0o644)
        p = proxies.launch(config)

        stub_dir = d / "bin"
        stub_dir.mkdir()
        (stub_dir / "systemctl").write_text(STUB_SYSTEMCTL)
        (stub_dir / "systemctl").chmod(0o755)
        env = helpers.clean_env()
        env = {k: v for k, v in env.items() if not k.startswith(("MARIADB_TLS_PROXY_", "RENEWED_"))}
        env.update({
            "PATH": f"{stub_dir}:{env.get('PATH', '/usr/bin:/bin')}",
            "MARIADB_TLS_PROXY_BIN": str(binary_copy),
            "MARIADB_TLS_PROXY_CONFIG": str(config),
            "MARIADB_TLS_PROXY_TLS_DIR": str(tls),
            "MARIADB_TLS_PROXY_USER": SERVICE_USER,
            "MARIADB_TLS_PROXY_SYSTEMCTL": "systemctl",
            "STUB_SYSTEMCTL_LOG": str(d / "systemctl.calls"),
            "TEST_PROXY_PID": str(p.pid),
        })
        yield HookRig(dir=d, tls=tls, live_cert=live_cert, live_key=live_key, config=config, proxy=p,
                      first=certificates.served_cert(p.port), ca_dir=Path(certs.dir), env=env,
                      systemctl_log=d / "systemctl.calls")
        p.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def expired_cert(ca_dir: Path, out: Path) -> tuple[Path, Path]:
    """A server certificate from the test CA that expired an hour ago (`openssl ca` takes dates)."""
    out.mkdir(parents=True, exist_ok=True)
    key, csr, cert = certificates.new_key(out / "expired-key.pem"), out / "expired.csr", out / "expired-cert.pem"
    (out / "index.txt").write_text("")
    (out / "serial").write_text("2000\n")
    (out / "ca.cnf").write_text(f"[ca]\ndefault_ca = ca1\n[ca1]\ndatabase = {out}/index.txt\nnew_certs_dir = {out}\n"
                                f"serial = {out}/serial\ndefault_md = sha256\npolicy = anything\n"
                                "unique_subject = no\n[anything]\ncommonName = supplied\n")
    r = helpers.run(["openssl", "req", "-new", "-key", str(key), "-subj", "/CN=deploy-hook-expired", "-out", str(csr)])
    assert r.returncode == 0, r.stderr
    now = datetime.datetime.now(datetime.timezone.utc)
    fmt = "%Y%m%d%H%M%SZ"
    r = helpers.run(["openssl", "ca", "-batch", "-config", str(out / "ca.cnf"), "-cert", str(ca_dir / "ca.pem"),
                     "-keyfile", str(ca_dir / "ca-key.pem"), "-in", str(csr), "-out", str(cert), "-notext",
                     "-startdate", (now - datetime.timedelta(days=2)).strftime(fmt),
                     "-enddate", (now - datetime.timedelta(hours=1)).strftime(fmt)])
    assert r.returncode == 0, r.stderr
    return cert, key


def assert_installed(rig: HookRig, cert_bytes: bytes, key_bytes: bytes) -> None:
    state = rig.live_state()
    assert sorted(state) == ["server-cert.pem", "server-key.pem"], f"files left behind: {sorted(state)}"
    assert state["server-cert.pem"][0] == cert_bytes
    assert state["server-key.pem"][0] == key_bytes
    assert state["server-cert.pem"][1] == 0o644 and state["server-key.pem"][1] == 0o600, state
    if AS_ROOT:
        service = pwd.getpwnam(SERVICE_USER)
        assert state["server-key.pem"][2:] == (service.pw_uid, service.pw_gid), state["server-key.pem"][1:]
        assert state["server-cert.pem"][2:] == (0, service.pw_gid), state["server-cert.pem"][1:]


# ---------------------------------------------------------------------------
# Good renewals
# ---------------------------------------------------------------------------
def test_renewal_from_arguments_is_installed_and_served(rig):
    cert, key = rig.new_cert("renewed", "deploy-hook-renewed")
    mark = len(rig.proxy.log_lines())
    r = rig.run(cert, key)
    assert r.returncode == 0, r.stdout + r.stderr
    assert_installed(rig, cert.read_bytes(), key.read_bytes())
    assert rig.systemctl_calls() == ["try-reload-or-restart mariadb-tls-proxy.service"]
    served = rig.reload_and_serve(mark)
    assert served.serial == certificates.cert_info(cert).serial != rig.first.serial


def make_lineage(rig: HookRig, domain: str) -> tuple[Path, bytes, bytes]:
    """/etc/letsencrypt/live/DOMAIN as certbot leaves it: cert, chain, fullchain, privkey."""
    cert, key = rig.new_cert("lineage", "deploy-hook-lineage")
    live = rig.dir / "letsencrypt" / "live" / domain
    live.mkdir(parents=True)
    chain = Path(rig.ca_dir / "ca.pem").read_bytes()
    (live / "cert.pem").write_bytes(cert.read_bytes())
    (live / "chain.pem").write_bytes(chain)
    (live / "fullchain.pem").write_bytes(cert.read_bytes() + chain)
    (live / "privkey.pem").write_bytes(key.read_bytes())
    (live / "privkey.pem").chmod(0o600)
    return live, (live / "fullchain.pem").read_bytes(), key.read_bytes()


def test_certbot_renewed_lineage_is_installed_and_served(rig):
    live, fullchain, key = make_lineage(rig, "db.example.com")
    mark = len(rig.proxy.log_lines())
    r = rig.run(RENEWED_LINEAGE=str(live), RENEWED_DOMAINS="db.example.com www.example.com",
                MARIADB_TLS_PROXY_DOMAIN="db.example.com")
    assert r.returncode == 0, r.stdout + r.stderr
    assert_installed(rig, fullchain, key)     # fullchain.pem, so clients get the intermediates
    assert rig.systemctl_calls() == ["try-reload-or-restart mariadb-tls-proxy.service"]
    served = rig.reload_and_serve(mark)
    assert served.serial == certificates.cert_info(live / "cert.pem").serial


def test_certbot_lineage_for_another_domain_is_left_alone(rig):
    live, _, _ = make_lineage(rig, "other.example.com")
    before = rig.live_state()
    r = rig.run(RENEWED_LINEAGE=str(live), RENEWED_DOMAINS="other.example.com",
                MARIADB_TLS_PROXY_DOMAIN="db.example.com")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "nothing to do" in r.stdout
    assert rig.live_state() == before and rig.systemctl_calls() == []


def test_without_a_domain_only_a_renewal_of_the_installed_certificate_is_installed(rig):
    # A hook in certbot's renewal-hooks/deploy runs for every lineage on the host. The installed
    # certificate names DNS:localhost: a lineage for other names is not this proxy's.
    live, fullchain, key = make_lineage(rig, "www.example.com")
    before = rig.live_state()
    r = rig.run(RENEWED_LINEAGE=str(live), RENEWED_DOMAINS="www.example.com")
    assert r.returncode == 0 and "not a renewal of the installed certificate" in r.stdout, r.stdout + r.stderr
    assert rig.live_state() == before and rig.systemctl_calls() == []
    # The lineage whose names cover the installed certificate's is its renewal.
    mark = len(rig.proxy.log_lines())
    r = rig.run(RENEWED_LINEAGE=str(live), RENEWED_DOMAINS="localhost www.example.com")
    assert r.returncode == 0, r.stdout + r.stderr
    assert_installed(rig, fullchain, key)
    rig.reload_and_serve(mark)


def test_without_a_domain_or_an_installed_certificate_the_lineage_is_refused(rig):
    live, _, _ = make_lineage(rig, "db.example.com")
    rig.live_cert.unlink()
    before = rig.live_state()
    r = rig.run(RENEWED_LINEAGE=str(live), RENEWED_DOMAINS="db.example.com")
    assert r.returncode != 0 and "set MARIADB_TLS_PROXY_DOMAIN" in r.stderr, r.stderr
    assert rig.live_state() == before and rig.systemctl_calls() == []


@pytest.mark.skipif(not AS_ROOT, reason="the destination's owner is checked when the hook runs as root")
@pytest.mark.parametrize("owner,mode", [("service", 0o750), ("root", 0o770), ("root", 0o757)])
def test_a_destination_others_may_write_to_is_refused(rig, owner, mode):
    # Whoever may write there could swap a staging name for a symlink and make root write,
    # chown or chmod any file.
    if owner == "service":
        shutil.chown(rig.tls, SERVICE_USER)
    rig.tls.chmod(mode)
    cert, key = rig.new_cert("renewed", "deploy-hook-writable")
    before = rig.live_state()
    r = rig.run(cert, key)
    assert r.returncode != 0 and "must be owned by root and writable by root only" in r.stderr, r.stderr
    assert rig.live_state() == before and rig.systemctl_calls() == []


def test_a_failed_second_rename_puts_the_old_key_back(rig):
    # The key is renamed first; if the certificate cannot follow, the live pair must still match.
    # A directory in the certificate's place makes that rename fail.
    old_key = rig.live_key.read_bytes()
    rig.live_cert.unlink()
    rig.live_cert.mkdir()
    (rig.live_cert / "keep").write_text("x")
    cert, key = rig.new_cert("renewed", "deploy-hook-second-rename")
    r = rig.run(cert, key)
    assert r.returncode != 0 and "the previous key is back" in r.stderr, r.stderr
    assert rig.live_key.read_bytes() == old_key
    assert sorted(f.name for f in rig.tls.iterdir()) == ["server-cert.pem", "server-key.pem"], "files left behind"
    assert rig.systemctl_calls() == []


@pytest.mark.skipif(os.path.isdir("/run/systemd/system"), reason="systemd is running here")
def test_without_systemd_the_files_are_installed_and_sighup_is_asked_for(rig):
    cert, key = rig.new_cert("nosystemd", "deploy-hook-nosystemd")
    env = dict(rig.env)
    del env["MARIADB_TLS_PROXY_SYSTEMCTL"]
    r = subprocess.run([str(HOOK), str(cert), str(key)], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "send SIGHUP" in r.stderr, r.stderr
    assert_installed(rig, cert.read_bytes(), key.read_bytes())
    assert rig.systemctl_calls() == []


# ---------------------------------------------------------------------------
# Bad renewals: nothing changes
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("breakage,reason", [
    ("mismatched-key", "does not match"),
    ("garbage-cert", "ssl_cert"),
    ("garbage-key", "ssl_key"),
    ("expired-cert", "expired"),
])
def test_bad_renewal_changes_nothing(rig, breakage, reason):
    cert, key = rig.new_cert("renewed", "deploy-hook-bad")
    if breakage == "mismatched-key":
        _, key = rig.new_cert("other", "deploy-hook-other")
    elif breakage == "garbage-cert":
        cert = rig.dir / "garbage-cert.pem"
        cert.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    elif breakage == "garbage-key":
        key = rig.dir / "garbage-key.pem"
        key.write_text("not a key\n")
    else:
        cert, key = expired_cert(rig.ca_dir, rig.dir / "expired")
    before = rig.live_state()
    mark = len(rig.proxy.log_lines())
    r = rig.run(cert, key)
    assert r.returncode != 0, f"the hook accepted a {breakage}:\n{r.stdout}{r.stderr}"
    assert reason in r.stderr and "unchanged" in r.stderr, r.stderr
    assert rig.live_state() == before, "live files changed, or staging files left behind"
    assert rig.systemctl_calls() == [], "the service was reloaded after a failed check"
    assert rig.proxy.running()
    assert certificates.served_cert(rig.proxy.port).serial == rig.first.serial
    assert not any("reload" in l for l in rig.proxy.log_lines()[mark:])


def test_usage_error_without_files_or_lineage(rig):
    before = rig.live_state()
    r = rig.run()
    assert r.returncode != 0 and "usage:" in r.stderr, r.stderr
    r = rig.run(rig.dir / "missing-cert.pem", rig.dir / "missing-key.pem")
    assert r.returncode != 0 and "cannot read the new certificate chain" in r.stderr, r.stderr
    assert rig.live_state() == before and rig.systemctl_calls() == []


@pytest.mark.skipif(not AS_ROOT, reason="the check runs as the service user only when the hook runs as root")
def test_check_runs_as_the_service_user(rig):
    # Root could read the staged files in a directory only root may enter; the service cannot,
    # so neither could its reload: the hook must refuse.
    rig.tls.chmod(0o700)
    cert, key = rig.new_cert("renewed", "deploy-hook-root-only")
    before = rig.live_state()
    r = rig.run(cert, key)
    assert r.returncode != 0, r.stdout + r.stderr
    assert "Permission denied" in r.stderr and "unchanged" in r.stderr, r.stderr
    assert rig.live_state() == before and rig.systemctl_calls() == []
