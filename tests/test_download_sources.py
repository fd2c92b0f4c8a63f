"""`roost download` of what is not a wheel: index sdists (no fitting wheel, or
--no-binary), archives by URL, git URLs (saved as pip saves them: a zip of the
checkout), and project directories (built to learn their dependencies, saved nowhere),
with pip's own `download` on the same sources as the reference."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.envs import installed, make_venv, run_roost
from tests.support.index import PackageIndex
from tests.support.projects import git_of, in_tree_project, make_sdist
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec


def pkg_info(project: Path, name: str, version: str, *extra: str) -> None:
    lines = ["Metadata-Version: 2.2", f"Name: {name}", f"Version: {version}", *extra]
    (project / "PKG-INFO").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def source_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """onlysdist (an sdist whose PKG-INFO requires extra-dep), both (a 1.0 wheel and a
    2.0 sdist), and archive-1.0.tar.gz served as a plain file for a direct URL."""
    root = tmp_path_factory.mktemp("download-sources")
    index = PackageIndex(root / "index")
    index.add(WheelSpec("extra-dep", "1.0"))
    static = in_tree_project(root / "onlysdist", "onlysdist", "1.0")
    pkg_info(static, "onlysdist", "1.0", "Requires-Dist: extra-dep")
    index.add_file(make_sdist(static, root / "dist", "onlysdist", "1.0"))
    index.add(WheelSpec("both", "1.0"))
    index.add_file(
        make_sdist(in_tree_project(root / "both", "both", "2.0"), root / "dist", "both", "2.0")
    )
    index.add_file(
        make_sdist(
            in_tree_project(root / "archive", "archive", "1.0"), root / "dist", "archive", "1.0"
        )
    )
    index.write()
    with IndexServer(index) as server:
        yield server


def download(
    server: IndexServer, dest: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return run_roost("download", "-d", str(dest), "-i", server.url, *args, env=env)


def pip_download(
    server: IndexServer, dest: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "-d", str(dest), "-i", server.url, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=env["HOME"],
        timeout=300,
    )


def saved(dest: Path) -> list[str]:
    return sorted(path.name for path in dest.iterdir())


def test_an_sdist_only_project_is_saved_as_its_sdist_as_pip_saves_it(
    tmp_path: Path, source_index: IndexServer, env: dict[str, str]
) -> None:
    result = download(source_index, tmp_path / "roost", env, "onlysdist")
    assert result.returncode == 0, result.stderr
    assert saved(tmp_path / "roost") == ["extra_dep-1.0-py3-none-any.whl", "onlysdist-1.0.tar.gz"]
    # pip saves the same sdist; it builds it for its metadata where roost trusts the
    # PKG-INFO (PEP 643), so compare on one whose built metadata says the same.
    result = download(source_index, tmp_path / "roost-both", env, "both")
    reference = pip_download(source_index, tmp_path / "pip", env, "both")
    assert reference.returncode == 0, reference.stderr
    assert saved(tmp_path / "roost-both") == saved(tmp_path / "pip") == ["both-2.0.tar.gz"]
    # The sdist is the index's file, byte for byte, not something rebuilt.
    served = next(source_index.index.files_dir.glob("onlysdist-1.0.tar.gz"))
    assert (tmp_path / "roost" / "onlysdist-1.0.tar.gz").read_bytes() == served.read_bytes()


def test_binary_options_choose_between_wheel_and_sdist(
    tmp_path: Path, source_index: IndexServer, env: dict[str, str]
) -> None:
    result = download(source_index, tmp_path / "newest", env, "both")
    assert result.returncode == 0, result.stderr
    assert saved(tmp_path / "newest") == ["both-2.0.tar.gz"]
    result = download(source_index, tmp_path / "prefer", env, "--prefer-binary", "both")
    assert result.returncode == 0, result.stderr
    assert saved(tmp_path / "prefer") == ["both-1.0-py3-none-any.whl"]
    result = download(source_index, tmp_path / "only", env, "--only-binary", ":all:", "both")
    assert result.returncode == 0, result.stderr
    assert saved(tmp_path / "only") == ["both-1.0-py3-none-any.whl"]
    result = download(source_index, tmp_path / "none", env, "--only-binary", ":all:", "onlysdist")
    assert result.returncode == 1
    assert "source distributions: onlysdist-1.0.tar.gz" in result.stderr


def test_an_archive_url_is_saved_as_the_file(
    tmp_path: Path, source_index: IndexServer, env: dict[str, str]
) -> None:
    url = f"{source_index.root_url}/files/archive-1.0.tar.gz"
    result = download(source_index, tmp_path / "roost", env, f"archive @ {url}")
    assert result.returncode == 0, result.stderr
    assert saved(tmp_path / "roost") == ["archive-1.0.tar.gz"]
    assert "Successfully downloaded archive" in result.stdout
    reference = pip_download(source_index, tmp_path / "pip", env, f"archive @ {url}")
    assert reference.returncode == 0, reference.stderr
    assert saved(tmp_path / "pip") == saved(tmp_path / "roost")


def test_a_git_url_is_saved_as_a_zip_of_the_checkout_that_installs(
    tmp_path: Path, source_index: IndexServer, env: dict[str, str]
) -> None:
    repo = git_of(in_tree_project(tmp_path / "repo", "gitdl", "1.0"), "v1.0")
    url = f"git+{repo.as_uri()}@v1.0"
    result = download(source_index, tmp_path / "roost", env, url)
    assert result.returncode == 0, result.stderr
    assert saved(tmp_path / "roost") == ["gitdl-1.0.zip"]
    reference = pip_download(source_index, tmp_path / "pip", env, url)
    assert reference.returncode == 0, reference.stderr
    assert saved(tmp_path / "pip") == ["gitdl-1.0.zip"]
    with zipfile.ZipFile(tmp_path / "roost" / "gitdl-1.0.zip") as ours:
        names = set(ours.namelist())
    with zipfile.ZipFile(tmp_path / "pip" / "gitdl-1.0.zip") as theirs:
        # The same project files under the same top folder (pip's zip holds the
        # checkout's .git too, as roost's does; object files differ by clone).
        project = {n for n in theirs.namelist() if "/.git/" not in n}
    assert {"gitdl/pyproject.toml", "gitdl/backend.py", "gitdl/.git/HEAD"} <= names
    assert project == {n for n in names if "/.git/" not in n}
    python = make_venv(tmp_path / "venv")
    result = run_roost(
        "install", "--python", str(python), "-i", source_index.url,
        str(tmp_path / "roost" / "gitdl-1.0.zip"), env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert installed(python) == {"gitdl": "1.0"}


def test_a_project_directory_is_built_for_its_dependencies_and_not_saved(
    tmp_path: Path, source_index: IndexServer, env: dict[str, str]
) -> None:
    project = in_tree_project(tmp_path / "app", "app", "1.0")
    # The in-tree backend's wheel requires nothing; its PKG-INFO-less tree is built.
    result = download(source_index, tmp_path / "roost", env, str(project), "onlysdist")
    assert result.returncode == 0, result.stderr
    assert saved(tmp_path / "roost") == ["extra_dep-1.0-py3-none-any.whl", "onlysdist-1.0.tar.gz"]
    lines = result.stdout.splitlines()
    (done,) = [line for line in lines if line.startswith("Successfully downloaded")]
    assert sorted(done.split()[2:]) == ["extra-dep", "onlysdist"]


def test_sources_are_refused_for_another_platform(
    tmp_path: Path, source_index: IndexServer, env: dict[str, str]
) -> None:
    project = in_tree_project(tmp_path / "app", "app", "1.0")
    result = download(
        source_index, tmp_path / "dest", env,
        "--platform", "win_amd64", "--only-binary", ":all:", str(project),
    )  # fmt: skip
    assert result.returncode == 1
    assert "must be built to learn its dependencies" in result.stderr
    assert not (tmp_path / "dest").exists() or saved(tmp_path / "dest") == []
