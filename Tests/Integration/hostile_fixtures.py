"""Fixtures of the hostile-client suites (test_hostile_clients_*.py), loaded by conftest.py.

Their proxies use a backend of their own, with max_connections raised: the proxy opens one backend
connection per client, so a thousand silent clients mean a thousand backend connections (the
shared backend keeps MariaDB's default of 151); its connect_timeout is raised too.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from backends import Backend


@pytest.fixture(scope="session")
def hostile_backend(prerequisites, tmp_path_factory) -> Iterator[Backend]:
    d = tmp_path_factory.mktemp("hb") / "be"
    # connect_timeout: clients held in their login for longer than mariadbd's default (10 s) keep
    # their backend connection, so what ends them is the proxy's own limit under test.
    b = Backend.start(d, extra_opts=["--max-connections=3000", "--max-connect-errors=1000000", "--connect-timeout=120"])
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture
def hostile_proxy(start_proxy, hostile_backend):
    """start(overrides) -> a proxy in front of the hostile suites' backend."""
    def start(overrides: dict[str, object] | None = None, **kw):
        return start_proxy({"backend_port": hostile_backend.port, **(overrides or {})}, **kw)
    return start
