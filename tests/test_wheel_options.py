"""``roost wheel``'s ``--only-binary``, ``--prefer-binary`` and hash-checking mode, each
against pip 26.3's ``pip wheel`` on the same loopback index; and the pre-release
choices and upload cut-off reaching the installs that fill build environments."""

from __future__ import annotations

import datetime
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import reference_pip
from tests.support.envs import clean_env, run_roost
from tests.support.index import PackageIndex
from tests.support.projects import in_tree_project
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec, build_sdist

UTC = datetime.timezone.utc


def both(
    tmp_path: Path, server: IndexServer, *args: str
) -> tuple[
    subprocess.CompletedProcess[str], list[str], subprocess.CompletedProcess[str], list[str]
]:
    """``wheel ARGS`` by pip 26.3 and by roost, each into a folder of its own: each
    result and the files it saved."""
    run = Path(tempfile.mkdtemp(prefix="run-", dir=tmp_path))
    pip_dir, roost_dir = run / "pip-out", run / "roost-out"
    env = clean_env(tmp_path / "home")
    pip = subprocess.run(
        [*reference_pip.command(), "wheel", "-i", server.url, "-w", str(pip_dir), *args],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False,
    )  # fmt: skip
    roost = run_roost(
        "wheel", "--python", sys.executable, "-i", server.url, "-w", str(roost_dir), *args,
        cwd=tmp_path,
    )  # fmt: skip
    saved = [
        sorted(p.name for p in d.glob("*")) if d.exists() else [] for d in (pip_dir, roost_dir)
    ]
    return pip, saved[0], roost, saved[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    root = tmp_path_factory.mktemp("wheel-options")
    index = PackageIndex(root)
    index.add(WheelSpec("pb", "1.0"))
    index.add_file(build_sdist("pb", "2.0", root / "sdists"))
    index.add_file(build_sdist("srcdist", "1.0", root / "sdists"))
    index.add(WheelSpec("dep", "1.0"))
    index.add(WheelSpec("top", "1.0", requires=["dep"]))
    index.write()
    with IndexServer(index) as running:
        yield running


def test_only_binary_refuses_an_sdist_as_pip(tmp_path: Path, server: IndexServer) -> None:
    pip, pip_saved, roost, roost_saved = both(
        tmp_path, server, "--only-binary", ":all:", "srcdist"
    )
    assert pip.returncode == roost.returncode == 1
    line = "ERROR: No matching distribution found for srcdist"
    assert line in pip.stderr and line in roost.stderr
    assert pip_saved == roost_saved == []
    # A project named, the others not: only that one is held to wheels.
    pip, pip_saved, roost, roost_saved = both(tmp_path, server, "--only-binary", "srcdist", "top")
    assert pip.returncode == roost.returncode == 0, roost.stderr
    assert pip_saved == roost_saved == ["dep-1.0-py3-none-any.whl", "top-1.0-py3-none-any.whl"]


def test_prefer_binary_takes_the_older_wheel_as_pip(tmp_path: Path, server: IndexServer) -> None:
    pip, pip_saved, roost, roost_saved = both(tmp_path, server, "--prefer-binary", "pb")
    assert pip.returncode == roost.returncode == 0, roost.stderr
    assert pip_saved == roost_saved == ["pb-1.0-py3-none-any.whl"]


def test_hash_checking_mode_as_pip(tmp_path: Path, server: IndexServer) -> None:
    import hashlib

    def sha256(name: str) -> str:
        return hashlib.sha256((server.index.files_dir / name).read_bytes()).hexdigest()

    top, dep = sha256("top-1.0-py3-none-any.whl"), sha256("dep-1.0-py3-none-any.whl")
    unpinned = both(tmp_path, server, "--require-hashes", "top")
    assert unpinned[0].returncode == unpinned[2].returncode == 1
    assert unpinned[1] == unpinned[3] == []
    partial = tmp_path / "partial.txt"
    partial.write_text(f"top==1.0 --hash=sha256:{top}\n")
    pip, pip_saved, roost, roost_saved = both(tmp_path, server, "-r", str(partial))
    assert pip.returncode == roost.returncode == 1
    # Both refuse for the dependency; roost shows the hash its file has, to paste in.
    assert "dep" in pip.stderr and f"dep==1.0 --hash=sha256:{dep}" in roost.stderr
    assert pip_saved == roost_saved == []
    # --no-require-hashes: a --hash alone does not turn the mode on.
    pip, pip_saved, roost, roost_saved = both(
        tmp_path, server, "--no-require-hashes", "-r", str(partial)
    )
    assert pip.returncode == roost.returncode == 0, roost.stderr
    assert pip_saved == roost_saved == ["dep-1.0-py3-none-any.whl", "top-1.0-py3-none-any.whl"]
    full = tmp_path / "full.txt"
    full.write_text(f"top==1.0 --hash=sha256:{top}\ndep==1.0 --hash=sha256:{dep}\n")
    pip, pip_saved, roost, roost_saved = both(
        tmp_path, server, "--require-hashes", "-r", str(full)
    )
    assert pip.returncode == roost.returncode == 0, roost.stderr
    assert pip_saved == roost_saved == ["dep-1.0-py3-none-any.whl", "top-1.0-py3-none-any.whl"]
    wrong = tmp_path / "wrong.txt"
    wrong.write_text(f"top==1.0 --hash=sha256:{top}\ndep==1.0 --hash=sha256:{'0' * 64}\n")
    pip, _, roost, roost_saved = both(tmp_path, server, "-r", str(wrong))
    assert pip.returncode == roost.returncode == 1
    assert "dep-1.0-py3-none-any.whl" not in roost_saved


# -- build environments ---------------------------------------------------------------


def helper_project(root: Path) -> Path:
    """An in-tree backend that needs ``helper`` and writes the version it was given
    into the wheel it builds."""
    project = in_tree_project(root, "usehelper", "1.0")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("requires = []", 'requires = ["helper"]'))
    backend = project / "backend.py"
    source = backend.read_text()
    old = '("SETTINGS = " + json.dumps(config_settings or {}) + "\\n")'
    assert old in source
    new = (
        '("HELPER = " + repr(__import__("importlib.metadata").metadata.version("helper")) + "\\n")'
    )
    backend.write_text(source.replace(old, new))
    return project


def built_with(tmp_path: Path, server: IndexServer, project: Path, *args: str) -> str:
    """The helper version the build environment held when ``roost wheel`` built *project*."""
    out = tmp_path / "out"
    run_roost(
        "wheel", "--python", sys.executable, "-i", server.url, "-w", str(out), "--no-deps",
        *args, str(project), cwd=tmp_path, check=True,
    )  # fmt: skip
    [wheel] = out.glob("usehelper-1.0-*.whl")
    text = zipfile.ZipFile(wheel).read("usehelper.py").decode()
    wheel.unlink()
    return text.split("'")[1]


def test_release_choices_and_cutoff_reach_build_environments(tmp_path: Path) -> None:
    index = PackageIndex(tmp_path / "index")
    index.add(WheelSpec("helper", "1.0"), upload_time=datetime.datetime(2024, 1, 1, tzinfo=UTC))
    index.add(WheelSpec("helper", "2.0"), upload_time=datetime.datetime(2025, 6, 1, tzinfo=UTC))
    index.add(WheelSpec("helper", "3.0rc1"), upload_time=datetime.datetime(2024, 6, 1, tzinfo=UTC))
    index.write()
    project = helper_project(tmp_path / "proj")
    with IndexServer(index) as server:
        assert built_with(tmp_path, server, project) == "2.0"
        # As pip passes --pre (as --all-releases :all:), --all-releases/--only-final and
        # --uploaded-prior-to to the pip that fills its build environments.
        assert built_with(tmp_path, server, project, "--pre") == "3.0rc1"
        assert built_with(tmp_path, server, project, "--all-releases", "helper") == "3.0rc1"
        cutoff = ("--uploaded-prior-to", "2025-01-01T00:00:00+00:00")
        assert built_with(tmp_path, server, project, *cutoff) == "1.0"
        assert built_with(tmp_path, server, project, "--pre", *cutoff) == "3.0rc1"
        assert built_with(tmp_path, server, project, "--exclude-newer", "2024-03-01") == "1.0"
