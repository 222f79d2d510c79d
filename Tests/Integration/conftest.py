"""Fixtures for the mariadb-tls-proxy integration suite.

Session scope: one temp dir, one set of certificates (scripts/make-certs.sh), one
private plaintext MariaDB backend (scripts/start-backend.sh). Function scope: proxies,
started from an option file per test and always stopped (SIGTERM, exit 0 expected).
The access-policy fixtures live in policy_fixtures.py.

Environment:
  PROXY_BIN   the binary under test (default: <repo>/.build/release/mariadb-tls-proxy)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

import helpers
from backends import Backend
from helpers import SCRIPTS
from processes import LoggedProcess
from proxy_factory import Certs, ProxyFactory, call_failed

# Fixtures shared by the test files of one topic: the access policy (a reference mariadbd with TLS,
# a plaintext twin, proxies between), the hostile clients' backend, the reload rig, the backend's
# view of the client, the Debian package.
pytest_plugins = ["policy_fixtures", "hostile_fixtures", "reload_rig", "backend_identity_fixtures", "package_fixtures"]

REQUIRED_TOOLS = ("mariadb", "mariadbd", "mariadb-install-db", "mariadb-admin", "openssl")


# ---------------------------------------------------------------------------
# Keep each test's report on the item so fixtures can print logs on failure.
# ---------------------------------------------------------------------------
@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


# ---------------------------------------------------------------------------
# Session fixtures
# ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def prerequisites() -> None:
    missing = [t for t in REQUIRED_TOOLS if helpers.which(t) is None]
    if missing:
        pytest.fail(f"missing tools: {', '.join(missing)}; run `scripts/install-deps.sh` (or `make deps`)",
                    pytrace=False)


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory) -> Path:
    # Short base path: unix socket paths must stay under ~100 bytes.
    return tmp_path_factory.mktemp("it")


@pytest.fixture(scope="session")
def certs(prerequisites, session_dir) -> Certs:
    d = session_dir / "certs"
    r = helpers.run(["bash", str(SCRIPTS / "make-certs.sh"), str(d)], timeout=120)
    if r.returncode != 0:
        pytest.fail(f"scripts/make-certs.sh failed (rc={r.returncode}):\n{r.stderr}", pytrace=False)
    return Certs(d)


@pytest.fixture(scope="session")
def backend(prerequisites, session_dir) -> Iterator[Backend]:
    d = session_dir / "backend"
    try:
        b = Backend.start(d)
    except AssertionError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield b
    finally:
        if complaint := b.stop():
            print(complaint)


@pytest.fixture(scope="session")
def proxy_bin() -> Path:
    p = Path(os.environ.get("PROXY_BIN") or helpers.DEFAULT_PROXY_BIN)
    if not p.is_file() or not os.access(p, os.X_OK):
        pytest.fail(f"proxy binary not found or not executable: {p}\n"
                    f"build it with `make build` (swift build -c release) or point PROXY_BIN at it",
                    pytrace=False)
    return p.resolve()


@pytest.fixture
def proxies(request, proxy_bin, certs, backend, tmp_path_factory) -> Iterator[ProxyFactory]:
    base = tmp_path_factory.mktemp("px")
    factory = ProxyFactory(proxy_bin, base, certs, backend)
    yield factory
    errors = factory.stop_all(print_logs=call_failed(request))
    if errors:
        pytest.fail("proxy teardown: " + "\n".join(errors), pytrace=False)


@pytest.fixture
def proxy(proxies) -> LoggedProcess:
    """A proxy with the default configuration."""
    return proxies.start()


@pytest.fixture
def start_proxy(proxies) -> Callable[..., LoggedProcess]:
    """start_proxy(overrides: dict | None = None, **kw) -> LoggedProcess."""
    return proxies.start
