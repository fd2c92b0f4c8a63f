"""Which index a project comes from: extra indexes first in the order given, the main one
(``--index-url``, else pip's default) last, and only the first index that has a project.

pip's default index is read from a real pip-shaped package: a tiny ``pip`` whose
``pip._internal.models.index.PyPI.simple_url`` names a loopback index, put on roost's
own path (PYTHONPATH) or in the target venv. roost's own pip is hidden the way Python
itself allows (``sys.modules["pip"] = None`` before roost starts). Nothing here leaves
loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.envs import clean_env, installed, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec

#: roost's CLI with its own environment's pip hidden: ``import pip`` fails there and
#: ``importlib.util.find_spec("pip")`` answers None, as in an environment without pip.
WITHOUT_OWN_PIP = (
    "import sys; sys.modules['pip'] = None; from roost.cli.main import main; sys.exit(main())"
)
FAKE_VERSION = "0.1+fake"


def write_fake_pip(root: Path, url: str, *, version: str = FAKE_VERSION) -> Path:
    """A package named pip under *root* whose default index is *url*; each import of it
    adds a line to ``root/imports``. Returns the ``pip`` folder."""
    models = root / "pip" / "_internal" / "models"
    models.mkdir(parents=True, exist_ok=True)
    imports = root / "imports"
    (root / "pip" / "__init__.py").write_text(
        f"__version__ = {version!r}\n"
        f"with open({str(imports)!r}, 'a') as _log:\n"
        "    _log.write('imported\\n')\n"
    )
    (root / "pip" / "_internal" / "__init__.py").write_text("")
    (models / "__init__.py").write_text("")
    (models / "index.py").write_text(
        f"class _Index:\n    simple_url = {url!r}\n\n\nPyPI = _Index()\n"
    )
    return (root / "pip").resolve()


def imports_of(root: Path) -> int:
    """How many times the fake pip under *root* was imported."""
    marker = root / "imports"
    return len(marker.read_text().splitlines()) if marker.exists() else 0


def site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def without_own_pip(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """roost's CLI in the test interpreter, with that interpreter's pip hidden."""
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_OWN_PIP, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


@pytest.fixture
def home_env(tmp_path: Path) -> dict[str, str]:
    """A clean environment with a HOME (and so a cache) kept across the test's runs."""
    home = tmp_path / "home"
    home.mkdir()
    return clean_env(home)


@pytest.fixture
def default(tmp_path: Path) -> Iterator[IndexServer]:
    """The general index: a newer "torchish" than the extra one, and "helperish"."""
    index = PackageIndex(tmp_path / "default-index")
    index.add(WheelSpec("torchish", "3.0", requires=["helperish"]))
    index.add(WheelSpec("helperish", "1.0"))
    index.add(WheelSpec("shared", "1.0"))
    index.write()
    with IndexServer(index) as server:
        yield server


@pytest.fixture
def extra(tmp_path: Path) -> Iterator[IndexServer]:
    """The index added for one project, as PyTorch's is: an older local "torchish"."""
    index = PackageIndex(tmp_path / "extra-index")
    index.add(WheelSpec("torchish", "2.0+cpu", requires=["helperish"]))
    index.add(WheelSpec("shared", "2.0"))
    index.write()
    with IndexServer(index) as server:
        yield server


@pytest.fixture
def second_extra(tmp_path: Path) -> Iterator[IndexServer]:
    index = PackageIndex(tmp_path / "second-extra-index")
    index.add(WheelSpec("shared", "3.0"))
    index.add(WheelSpec("helperish", "0.5"))
    index.write()
    with IndexServer(index) as server:
        yield server


# -- the order indexes are asked in ------------------------------------------------------


def test_pytorch_recipe_takes_the_project_from_the_extra_index(
    venv: Path, default: IndexServer, extra: IndexServer
) -> None:
    result = run_roost(
        "install", "--python", str(venv), "-i", default.url,
        "--extra-index-url", extra.url, "torchish",
        check=True,
    )  # fmt: skip
    # The extra index has torchish: it is the only one asked, though the default has 3.0.
    assert installed(venv) == {"torchish": "2.0+cpu", "helperish": "1.0"}
    assert default.requests_for("/simple/torchish/") == []
    # helperish is on the default only: the extra index is asked first, then the default.
    assert extra.requests_for("/simple/helperish/") != []
    assert default.requests_for("/simple/helperish/") != []
    assert "Successfully installed" in result.stdout


def test_extra_indexes_are_asked_in_the_order_given(
    venv: Path, default: IndexServer, extra: IndexServer, second_extra: IndexServer
) -> None:
    run_roost(
        "install", "--python", str(venv), "-i", default.url,
        "--extra-index-url", extra.url, "--extra-index-url", second_extra.url,
        "shared", "helperish",
        check=True,
    )  # fmt: skip
    # shared: the first extra has it (2.0), so neither the second (3.0) nor the default is
    # asked; helperish: the first extra lacks it, the second has 0.5, the default 1.0.
    assert installed(venv) == {"shared": "2.0", "helperish": "0.5"}
    assert second_extra.requests_for("/simple/shared/") == []
    assert default.requests_for("/simple/shared/") == []
    assert default.requests_for("/simple/helperish/") == []


def test_unsafe_best_match_still_merges_every_index(
    venv: Path, default: IndexServer, extra: IndexServer
) -> None:
    run_roost(
        "install", "--python", str(venv), "-i", default.url, "--extra-index-url", extra.url,
        "--index-strategy", "unsafe-best-match", "torchish",
        check=True,
    )  # fmt: skip
    assert installed(venv) == {"torchish": "3.0", "helperish": "1.0"}


def test_verbose_lists_the_sources_in_the_order_asked(
    venv: Path, default: IndexServer, extra: IndexServer, tmp_path: Path
) -> None:
    links = tmp_path / "links"
    links.mkdir()
    result = run_roost(
        "-v", "install", "--python", str(venv), "--dry-run", "-i", default.url,
        "--extra-index-url", extra.url, "-f", str(links), "helperish",
        check=True,
    )  # fmt: skip
    sources = [line for line in result.stderr.splitlines() if line.startswith("source: ")]
    assert sources == [
        f"source: index {extra.url} (from command line)",
        f"source: index {default.url} (from command line)",
        f"source: find-links {links.as_uri()} (from command line)",
    ]


# -- pip's default index, when none is configured ------------------------------------------


def test_only_pip_extra_index_url_keeps_pips_default_last(
    venv: Path, default: IndexServer, extra: IndexServer, home_env: dict[str, str], tmp_path: Path
) -> None:
    fake = write_fake_pip(tmp_path / "own", default.url)
    env = {**home_env, "PYTHONPATH": str(tmp_path / "own"), "PIP_EXTRA_INDEX_URL": extra.url}
    result = run_roost("-v", "install", "--python", str(venv), "torchish", env=env)
    assert result.returncode == 0, output(result)
    assert installed(venv) == {"torchish": "2.0+cpu", "helperish": "1.0"}
    assert default.requests_for("/simple/torchish/") == []
    origin = f"the default of pip {FAKE_VERSION} at {fake}"
    assert f"source: index {default.url} (from {origin})" in result.stderr
    assert "(roost's own environment)" in result.stderr
    sources = [line for line in result.stderr.splitlines() if line.startswith("source: ")]
    assert sources[-1].startswith(f"source: index {default.url} ")


def test_pips_default_is_read_once_per_pip_and_again_after_an_upgrade(
    venv: Path, default: IndexServer, extra: IndexServer, home_env: dict[str, str], tmp_path: Path
) -> None:
    own = tmp_path / "own"
    write_fake_pip(own, default.url)
    env = {**home_env, "PYTHONPATH": str(own)}
    dry = ("install", "--python", str(venv), "--dry-run", "helperish")
    for _ in range(2):
        result = run_roost(*dry, env=env)
        assert result.returncode == 0, output(result)
        assert "helperish-1.0" in result.stdout
    assert imports_of(own) == 1  # the second run took the cached answer
    # A configured index, or --no-index, never looks for pip at all.
    assert run_roost(*dry, "-i", extra.url, env=env).returncode != 0  # extra lacks it
    links = tmp_path / "links"
    links.mkdir()
    assert run_roost(*dry, "--no-index", "-f", str(links), env=env).returncode != 0
    assert imports_of(own) == 1
    # An upgraded pip (new files) is read again, and its default is the one used.
    fake = write_fake_pip(own, extra.url, version="0.2+fake")
    index_file = fake / "_internal" / "models" / "index.py"
    later = index_file.stat().st_mtime_ns + 5_000_000_000
    os.utime(index_file, ns=(later, later))
    default.clear_requests()
    result = run_roost("-v", "install", "--python", str(venv), "torchish", env=env)
    assert imports_of(own) == 2
    assert f"(from the default of pip 0.2+fake at {fake})" in result.stderr
    # That default is the only index now: torchish 2.0+cpu is there, its helperish is not.
    assert result.returncode == 1
    assert default.requests_for("*") == []
    assert installed(venv) == {}


def test_pips_default_from_the_targets_pip(
    venv: Path, default: IndexServer, home_env: dict[str, str]
) -> None:
    fake = write_fake_pip(site_packages(venv), default.url)
    result = without_own_pip("-v", "install", "--python", str(venv), "helperish", env=home_env)
    assert result.returncode == 0, output(result)
    assert installed(venv) == {"helperish": "1.0"}
    assert f"source: index {default.url} (from the default of pip {FAKE_VERSION} at {fake})" in (
        result.stderr
    )
    assert f"(the target {venv})" in result.stderr
    assert default.requests_for("/simple/helperish/") != []
    cache = Path(home_env["XDG_CACHE_HOME"]) / "roost" / "pip-default-index.json"
    entries = json.loads(cache.read_text())["entries"]
    assert [entry["url"] for entry in entries.values()] == [default.url]


def test_no_pip_anywhere_is_a_clear_error(
    venv: Path, default: IndexServer, home_env: dict[str, str]
) -> None:
    result = without_own_pip("install", "--python", str(venv), "helperish", env=home_env)
    assert result.returncode == 1, output(result)
    message = " ".join(result.stderr.split())
    assert "no package index is configured, and no pip was found" in message
    assert f"roost's own environment ({sys.executable}) has no pip" in message
    assert f"the target {venv} has no pip on its sys.path" in message
    for hint in ("--index-url URL", "ROOST_INDEX_URL", "PIP_INDEX_URL", "config.toml"):
        assert hint in message
    assert "Traceback" not in result.stderr
    assert installed(venv) == {}
    assert default.requests_for("*") == []


def test_no_pip_with_an_extra_index_warns_and_asks_it(
    venv: Path, extra: IndexServer, home_env: dict[str, str]
) -> None:
    env = {**home_env, "PIP_EXTRA_INDEX_URL": extra.url}
    result = without_own_pip("install", "--python", str(venv), "shared", env=env)
    assert result.returncode == 0, output(result)
    assert installed(venv) == {"shared": "2.0"}
    warning = " ".join(result.stderr.split())
    assert "no pip was found to take pip's default index from" in warning
    assert "only the configured sources are asked" in warning
