"""The Debian package (`make deb`, scripts/build-deb.sh) built once from the binary under test, for
the package suites (test_package_*.py); loaded by conftest.py.

It must install on a machine with no Swift toolchain: the binary links the Swift runtime statically,
has no RUNPATH, and needs only system libraries, which Depends: names (computed by dpkg-shlibdeps).
The extracted binary is run with the toolchain directory hidden by an empty tmpfs in a private
mount namespace. The maintainer scripts run for real through `dpkg --root` on a scratch root
(DPKG_ROOT, scripts outside a chroot), so the host's users and /etc stay untouched.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

import helpers
from helpers import SCRIPTS

PACKAGE = "mariadb-tls-proxy"
CONFDIR = "/etc/mariadb-tls-proxy"
CONFFILES = {f"{CONFDIR}/mariadb-tls-proxy.cnf", f"{CONFDIR}/accounts.sql"}
# What a self-contained binary may load: glibc, the C++ runtime the static Swift runtime uses,
# OpenSSL 3 and libsystemd. Never the toolchain's libswift*, Foundation, libdispatch or BlocksRuntime.
SYSTEM_LIBRARIES = re.compile(
    r"^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux[-\w.]*\.so\.\d"
    r"|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libssl\.so\.3|libcrypto\.so\.3|libsystemd\.so\.0)$")
TOOLCHAIN_LIBRARIES = re.compile(r"libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime")


@dataclass(frozen=True)
class Package:
    deb: Path
    root: Path          # dpkg-deb -x
    control: Path       # dpkg-deb -e
    version: str

    @property
    def binary(self) -> Path:
        return self.root / "usr/sbin" / PACKAGE

    def field(self, name: str) -> str:
        r = helpers.run(["dpkg-deb", "--field", str(self.deb), name])
        assert r.returncode == 0, r.output
        return r.stdout.strip()


def binary_version(binary: Path) -> str:
    r = helpers.run([str(binary), "--version"])
    assert r.returncode == 0, r.output
    m = re.fullmatch(rf"{PACKAGE} (\S+) \(OpenSSL .*\)\n", r.stdout)
    assert m, r.stdout
    return m.group(1)


@pytest.fixture(scope="session")
def package(proxy_bin, tmp_path_factory) -> Package:
    for tool in ("dpkg-deb", "dpkg-shlibdeps", "readelf"):
        if helpers.which(tool) is None:
            pytest.fail(f"{tool} missing; run `make deps` (installs dpkg-dev)", pytrace=False)
    base = tmp_path_factory.mktemp("deb")
    env = dict(os.environ, PROXY_BIN=str(proxy_bin), DEB_OUTPUT_DIR=str(base / "out"))
    r = subprocess.run(["bash", str(SCRIPTS / "build-deb.sh")], capture_output=True, text=True, env=env,
                       timeout=600, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        pytest.fail(f"scripts/build-deb.sh failed (rc={r.returncode}):\n{r.stderr[-4000:]}", pytrace=False)
    deb = Path(r.stdout.strip().splitlines()[-1])
    assert deb.parent == base / "out" and deb.is_file(), r.stdout
    root, control = base / "root", base / "control"
    for args in (["-x", str(deb), str(root)], ["-e", str(deb), str(control)]):
        x = helpers.run(["dpkg-deb", *args])
        assert x.returncode == 0, x.output
    return Package(deb, root, control, binary_version(proxy_bin))


def needed_libraries(binary: Path) -> list[str]:
    out = helpers.run(["readelf", "-d", str(binary)]).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
