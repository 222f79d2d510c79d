"""What the Debian package holds (scripts/build-deb.sh): its control fields, Depends: computed from
the linked libraries, conffiles, paths and modes, installed paths rewritten in the shipped files,
a stripped binary and its man page.

The package: package_fixtures.py.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
from pathlib import Path

import pytest

import helpers
from package_fixtures import CONFDIR, CONFFILES, PACKAGE, binary_version, needed_libraries


# ---------------------------------------------------------------------------
# Control data
# ---------------------------------------------------------------------------
def test_control_fields(package):
    arch = helpers.run(["dpkg", "--print-architecture"]).stdout.strip()
    assert package.field("Package") == PACKAGE
    assert package.field("Version") == package.version
    assert package.deb.name == f"{PACKAGE}_{package.version}_{arch}.deb"
    assert package.field("Architecture") == arch
    assert package.field("Section") in ("database", "net")
    assert package.field("Priority") == "optional"
    assert package.field("Maintainer")
    assert package.field("Description").startswith("TLS-terminating proxy")
    assert int(package.field("Installed-Size")) > 1000
    assert package.field("Recommends") == "openssl", "the certificate deploy hook needs openssl"
    info = helpers.run(["dpkg-deb", "--info", str(package.deb)]).stdout
    for member in ("control", "conffiles", "md5sums", "postinst", "prerm", "postrm"):
        assert re.search(rf"\s{member}\s", info), f"{member} missing from the control archive:\n{info}"


def owning_package(soname: str) -> str:
    """The Debian package that ships `soname` on this machine (via ld.so.cache and dpkg -S)."""
    cache = helpers.run(["ldconfig", "-p"]).stdout
    paths = re.findall(rf"^\s+{re.escape(soname)} \(libc6[^)]*\) => (\S+)$", cache, re.M)
    assert paths, f"{soname} not in the linker cache"
    # With merged /usr, dpkg knows a library under either /lib or /usr/lib.
    for path in (paths[0], os.path.realpath(paths[0])):
        for candidate in (path, re.sub(r"^/usr/", "/", path), "/usr" + path):
            r = helpers.run(["dpkg", "-S", candidate])
            if r.returncode == 0:
                return r.stdout.split(":", 1)[0].strip()
    raise AssertionError(f"no package owns {soname} ({paths[0]})")


def test_depends_names_exactly_the_packages_of_the_linked_libraries(package):
    """Depends: is dpkg-shlibdeps' answer: one entry per package whose libraries the binary links."""
    depends = package.field("Depends")
    names = {re.sub(r"\s*\(.*\)", "", entry.strip()) for entry in depends.split(",")}
    expected = {owning_package(soname) for soname in needed_libraries(package.binary)}
    assert names == expected, f"Depends: {depends}; the NEEDED libraries come from {sorted(expected)}"
    assert {"libssl3", "libsystemd0", "libc6"} <= names
    assert not re.search(r"swift|foundation|dispatch", depends, re.I)


def test_conffiles(package):
    conffiles = set((package.control / "conffiles").read_text().split())
    assert conffiles == CONFFILES


# ---------------------------------------------------------------------------
# Contents
# ---------------------------------------------------------------------------
def archive_entries(deb: Path) -> dict[str, tuple[str, str]]:
    """path (without ./, directories with /) -> (mode string, owner/group), from dpkg-deb --contents."""
    out = helpers.run(["dpkg-deb", "--contents", str(deb)]).stdout
    entries = {}
    for line in out.splitlines():
        mode, owner, _size, _date, _time, path = line.split(None, 5)
        entries[path.removeprefix("./")] = (mode, owner)
    return entries


def test_contents_paths_and_modes(package):
    entries = archive_entries(package.deb)
    expected = {
        f"usr/sbin/{PACKAGE}": "-rwxr-xr-x",
        f"etc/{PACKAGE}/mariadb-tls-proxy.cnf": "-rw-r--r--",
        # Password hashes from SHOW CREATE USER: never world-readable; postinst gives it to the group.
        f"etc/{PACKAGE}/accounts.sql": "-rw-r-----",
        f"etc/{PACKAGE}/tls/": "drwxr-x---",
        f"usr/lib/systemd/system/{PACKAGE}.service": "-rw-r--r--",
        f"usr/lib/systemd/system/{PACKAGE}.socket": "-rw-r--r--",
        f"usr/lib/sysusers.d/{PACKAGE}.conf": "-rw-r--r--",
        f"usr/share/man/man8/{PACKAGE}.8.gz": "-rw-r--r--",
        f"usr/share/doc/{PACKAGE}/copyright": "-rw-r--r--",
        f"usr/share/doc/{PACKAGE}/operations.md": "-rw-r--r--",
        f"usr/share/doc/{PACKAGE}/README.md": "-rw-r--r--",
        f"usr/lib/{PACKAGE}/certificate-deploy-hook": "-rwxr-xr-x",
    }
    for path, mode in expected.items():
        assert path in entries, f"{path} missing from the package"
        assert entries[path] == (mode, "root/root"), f"{path}: {entries[path]}"
    for path, (mode, owner) in entries.items():
        assert owner == "root/root", f"{path} owned by {owner}"
        assert path == "" or path.split("/")[0] in ("etc", "usr"), f"unexpected path {path}"
        assert not path.startswith("usr/local"), path
        if mode.startswith("d") and path != f"etc/{PACKAGE}/tls/":
            assert mode == "drwxr-xr-x", f"{path}: {mode}"
        assert "w" not in mode[5:], f"{path} writable by group or others: {mode}"


def test_installed_paths_are_rewritten(package):
    service = (package.root / f"usr/lib/systemd/system/{PACKAGE}.service").read_text()
    assert re.search(rf"^ExecStart=/usr/sbin/{PACKAGE} --defaults-file={CONFDIR}/mariadb-tls-proxy.cnf$",
                     service, re.M), service
    for unit in (f"{PACKAGE}.service", f"{PACKAGE}.socket"):
        text = (package.root / "usr/lib/systemd/system" / unit).read_text()
        assert f"Documentation=file:/usr/share/doc/{PACKAGE}/operations.md" in text
        assert "/usr/local" not in text, unit
    for path in [package.root / "usr/lib/sysusers.d" / f"{PACKAGE}.conf",
                 *(package.root / "etc" / PACKAGE).glob("*"),
                 *(package.root / "usr/lib" / PACKAGE).glob("*")]:
        if path.is_file():
            assert "/usr/local" not in path.read_text(), path
    hook = (package.root / "usr/lib" / PACKAGE / "certificate-deploy-hook").read_text()
    assert f"/usr/sbin/{PACKAGE}" in hook, "the deploy hook must run the packaged binary"
    sysusers = (package.root / "usr/lib/sysusers.d" / f"{PACKAGE}.conf").read_text()
    assert re.search(rf"^u\s+{PACKAGE}\s", sysusers, re.M)


def test_binary_is_stripped(package):
    sections = helpers.run(["readelf", "-S", "-W", str(package.binary)]).stdout
    assert ".symtab" not in sections and ".debug_info" not in sections
    assert binary_version(package.binary) == package.version


def test_man_page_is_the_binarys_and_renders_without_warnings(package, proxy_bin):
    page = gzip.decompress((package.root / f"usr/share/man/man8/{PACKAGE}.8.gz").read_bytes()).decode()
    assert page == helpers.run([str(proxy_bin), "--help-man"]).stdout
    assert '.TH "MARIADB\\-TLS\\-PROXY" "8"' in page
    for option in ("ssl\\-cert", "require\\-secure\\-transport", "defaults\\-file"):
        assert f"\\fB\\-\\-{option}" in page
    if helpers.which("groff") is None:
        pytest.fail("groff missing; run `make deps` (installs groff-base)", pytrace=False)
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z"], input=page, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    rendered = subprocess.run(["groff", "-man", "-Tutf8", "-P-c"], input=page, capture_output=True,
                              text=True, timeout=60)
    text = re.sub(r".\x08", "", rendered.stdout)
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "SIGNALS", "FILES", "SEE ALSO"):
        assert re.search(rf"^{heading}$", text, re.M), heading
