"""Shared fixtures: wheels, the standard corpus index and its server, venvs, a temp HOME.

roost.testing's public fixtures (make_wheel, roost_index, roost_venv, run_roost) come
from the plugin itself, loaded below by name. An installed roost also registers it
through the ``pytest11`` entry point under that same name, so pytest loads it once
either way, and the suite needs no reinstall to see a change to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from roost.manager import Manager
from roost.net.client import Client
from roost.util.settings import build_settings
from tests.support.envs import clean_env, isolated_manager, make_venv
from tests.support.index import PackageIndex, standard_corpus
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec, build_wheel

pytest_plugins = ["roost.testing"]

NETWORK_SKIP_REASON = "needs the network; run with `pytest --run-network` (or `nox -s network`)"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-network",
        action="store_true",
        default=False,
        help="run tests marked `network` (they reach a non-loopback package index)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "network: needs a non-loopback package index; run with --run-network"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-network"):
        return
    skip = pytest.mark.skip(reason=NETWORK_SKIP_REASON)
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep in-process clients and interpreter lookups out of the real ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("ROOST_CACHE_DIR", raising=False)


@pytest.fixture
def wheel_factory(tmp_path: Path) -> Callable[[WheelSpec], Path]:
    """Build a wheel from a spec into this test's tmp_path; returns its path."""

    def build(spec: WheelSpec) -> Path:
        return build_wheel(spec, tmp_path / "wheels")

    return build


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> PackageIndex:
    """The standard corpus (see tests/support/index.py), built once; do not modify it."""
    return standard_corpus(PackageIndex(tmp_path_factory.mktemp("corpus")))


@pytest.fixture(scope="session")
def index_server(corpus_index: PackageIndex) -> Iterator[IndexServer]:
    """An HTTP server over the corpus, shared by the session; set no faults on it."""
    with IndexServer(corpus_index) as server:
        yield server


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A fresh venv (without pip) of the test-running interpreter; its python's path."""
    return make_venv(tmp_path / "venv")


@pytest.fixture
def tmp_home(tmp_path: Path) -> dict[str, str]:
    """A clean environment (see envs.clean_env) whose HOME is an empty tmp folder.

    Pass it as ``env=`` to run_roost or subprocess; ``Path(tmp_home["HOME"])`` is the home.
    """
    home = tmp_path / "home"
    home.mkdir()
    return clean_env(home)


@pytest.fixture
def env(tmp_home: dict[str, str]) -> dict[str, str]:
    """``tmp_home`` under the short name the interpreter and scheme tests use."""
    return tmp_home


@pytest.fixture
def manager() -> Manager:
    """:func:`tests.support.envs.isolated_manager` (modules needing pip's configuration
    define their own)."""
    return isolated_manager()


@pytest.fixture
def client(manager: Manager, tmp_path: Path) -> Iterator[Client]:
    """An HTTP client without retries and without any configuration file."""
    settings = build_settings(
        "install", {"retries": "0"}, manager, env={"ROOST_CONFIG_FILE": str(tmp_path / "none")}
    )
    with Client(manager, settings) as http:
        yield http
