"""Build constraints (``--build-constraint``, ``PIP_BUILD_CONSTRAINT``, pip's config key)
and hash-checking mode for sources: archives and index sdists checked before they are
built, directories and git URLs refused, build dependencies pinned and hashed by build
constraints. Real sdists and in-tree backends, a loopback index, real venvs."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.envs import installed, make_venv, manifest, run_roost
from tests.support.index import PackageIndex
from tests.support.projects import git_repository, in_tree_project, make_sdist
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec

#: Appended to the in-tree backend: each build writes the version of ``buildhelper``
#: its environment holds (or ``none``) to ``$HELPER_LOG``.
RECORD_HELPER = """

_build_wheel = build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    import importlib.metadata
    try:
        found = importlib.metadata.version("buildhelper")
    except importlib.metadata.PackageNotFoundError:
        found = "none"
    log = os.environ.get("HELPER_LOG")
    if log:
        with open(log, "a") as handle:
            handle.write(found + "\\n")
    return _build_wheel(wheel_directory, config_settings, metadata_directory)
"""


def helped_project(root: Path, name: str = "helped", version: str = "1.0") -> Path:
    """An in-tree project whose ``build-system.requires`` names ``buildhelper``."""
    project = in_tree_project(root, name, version)
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["buildhelper"]\nbuild-backend = "backend"\n'
        'backend-path = ["."]\n'
    )
    backend = project / "backend.py"
    backend.write_text(backend.read_text() + RECORD_HELPER)
    return project


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> PackageIndex:
    root = tmp_path_factory.mktemp("build-hashes")
    index = PackageIndex(root / "index")
    index.add(WheelSpec("buildhelper", "1.0"))
    index.add(WheelSpec("buildhelper", "2.0"))
    index.add(WheelSpec("needs-sdist", "1.0", requires=["onlysdist"]))
    sdist = make_sdist(
        in_tree_project(root / "onlysdist", "onlysdist", "1.0"), root, "onlysdist", "1.0"
    )
    index.add_file(sdist)
    # Served as a plain file too, for `name @ http://...` requirements.
    index.add_file(
        make_sdist(in_tree_project(root / "archived", "archived", "3.1"), root, "archived", "3.1")
    )
    index.write()
    return index


@pytest.fixture(scope="module")
def server(index: PackageIndex) -> Iterator[IndexServer]:
    with IndexServer(index) as running:
        yield running


def sha(index: PackageIndex, filename: str) -> str:
    return next(e.sha256 for e in index.entries if e.filename == filename)


class Run:
    """One install into a fresh venv, with the build logs it left."""

    def __init__(self, result: subprocess.CompletedProcess[str], python: Path, logs: Path):
        self.result = result
        self.python = python
        self.built = (logs / "built.log").read_text().split()
        self.helpers = (logs / "helper.log").read_text().split()

    @property
    def ok(self) -> bool:
        return self.result.returncode == 0


def install(
    tmp_path: Path,
    server: IndexServer,
    env: dict[str, str],
    *args: str,
    extra_env: dict[str, str] | None = None,
    refused: bool = False,
) -> Run:
    """``roost install`` into a new venv; with *refused*, it must fail and change nothing."""
    count = len(list(tmp_path.glob("venv*")))
    logs = tmp_path / f"logs{count}"
    logs.mkdir()
    (logs / "built.log").write_text("")
    (logs / "helper.log").write_text("")
    python = make_venv(tmp_path / f"venv{count}")
    before = manifest(tmp_path / f"venv{count}")
    run_env = {
        **env,
        "INTREE_BUILD_LOG": str(logs / "built.log"),
        "ROOST_BUILD_SANDBOX_WRITABLE": str(logs),
        "HELPER_LOG": str(logs / "helper.log"),
        **(extra_env or {}),
    }
    result = run_roost("install", "--python", str(python), "-i", server.url, *args, env=run_env)
    if refused:
        assert result.returncode != 0, result.stdout
        assert "Traceback" not in result.stderr
        assert manifest(tmp_path / f"venv{count}") == before
    else:
        assert result.returncode == 0, result.stderr
    return Run(result, python, logs)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# -- build constraints ------------------------------------------------------------------


def test_build_constraints_reach_build_environments_and_constraints_do_not(
    tmp_path: Path, server: IndexServer, env: dict[str, str]
) -> None:
    project = helped_project(tmp_path / "helped")
    old = write(tmp_path / "old.txt", "buildhelper==1.0\n")
    new = write(tmp_path / "new.txt", "buildhelper==2.0\n")
    assert install(tmp_path, server, env, str(project)).helpers == ["2.0"]
    # -c constrains the install, not the build's environment (pip 26.2's rule) ...
    assert install(tmp_path, server, env, "-c", str(old), str(project)).helpers == ["2.0"]
    # ... --build-constraint does; with both, each keeps to its own side.
    run = install(tmp_path, server, env, "--build-constraint", str(old), str(project))
    assert run.helpers == ["1.0"]
    assert installed(run.python) == {"helped": "1.0"}
    run = install(
        tmp_path, server, env, "-c", str(new), "--build-constraint", str(old), str(project)
    )
    assert run.helpers == ["1.0"]


def test_pip_build_constraint_and_config_keys_reach_build_environments(
    tmp_path: Path, server: IndexServer, env: dict[str, str]
) -> None:
    project = helped_project(tmp_path / "helped")
    old = write(tmp_path / "old.txt", "buildhelper==1.0\n")
    # PIP_CONSTRAINT no longer reaches build environments (pip 26.2).
    run = install(tmp_path, server, env, str(project), extra_env={"PIP_CONSTRAINT": str(old)})
    assert run.helpers == ["2.0"]
    run = install(
        tmp_path, server, env, str(project), extra_env={"PIP_BUILD_CONSTRAINT": str(old)}
    )
    assert run.helpers == ["1.0"]
    pip_conf = write(tmp_path / "pip.conf", f"[install]\nbuild-constraint = {old}\n")
    run = install(
        tmp_path, server, env, str(project), extra_env={"PIP_CONFIG_FILE": str(pip_conf)}
    )
    assert run.helpers == ["1.0"]
    roost_conf = write(tmp_path / "config.toml", f'build-constraint = ["{old}"]\n')
    run = install(
        tmp_path, server, env, str(project), extra_env={"ROOST_CONFIG_FILE": str(roost_conf)}
    )
    assert run.helpers == ["1.0"]


def test_a_build_constraint_with_no_build_isolation_is_an_error(
    tmp_path: Path, server: IndexServer, env: dict[str, str]
) -> None:
    project = helped_project(tmp_path / "helped")
    old = write(tmp_path / "old.txt", "buildhelper==1.0\n")
    run = install(
        tmp_path, server, env, "--no-build-isolation", "--build-constraint", str(old),
        str(project), refused=True,
    )  # fmt: skip
    err = run.result.stderr
    assert "--build-constraint (from command line)" in err
    assert "cannot be used together" in err
    run = install(
        tmp_path, server, env, "--no-build-isolation", str(project),
        extra_env={"PIP_BUILD_CONSTRAINT": str(old)}, refused=True,
    )  # fmt: skip
    assert "--build-constraint (from pip environment (PIP_*))" in run.result.stderr
    assert run.built == []


def test_a_hashed_build_constraint_is_checked_outside_hash_checking_mode(
    tmp_path: Path, server: IndexServer, env: dict[str, str], index: PackageIndex
) -> None:
    project = helped_project(tmp_path / "helped")
    good = sha(index, "buildhelper-1.0-py3-none-any.whl")
    bad = write(tmp_path / "bad.txt", f"buildhelper==1.0 --hash=sha256:{'0' * 64}\n")
    run = install(
        tmp_path, server, env, "--build-constraint", str(bad), str(project), refused=True
    )
    assert "buildhelper-1.0-py3-none-any.whl" in run.result.stderr
    assert f"expected sha256:{'0' * 64}" in run.result.stderr
    assert f"got sha256:{good}" in run.result.stderr
    assert run.built == []


# -- hash-checking mode for sources -----------------------------------------------------


@pytest.mark.parametrize("where", ["path", "url"])
def test_an_archive_is_hash_checked_before_it_is_built(
    tmp_path: Path, server: IndexServer, env: dict[str, str], index: PackageIndex, where: str
) -> None:
    filename = "archived-3.1.tar.gz"
    digest = sha(index, filename)
    url = (
        (index.dists_dir / filename).as_uri()
        if where == "path"
        else f"{server.root_url}/files/{filename}"
    )
    good = write(tmp_path / "good.txt", f"archived @ {url} --hash=sha256:{digest}\n")
    run = install(tmp_path, server, env, "-r", str(good))
    assert installed(run.python) == {"archived": "3.1"}
    assert run.built == ["archived"]
    site = next((run.python.parent.parent / "lib").glob("python3*/site-packages"))
    direct = json.loads(
        next(site.glob("archived-*.dist-info")).joinpath("direct_url.json").read_text()
    )
    assert direct["archive_info"]["hashes"] == {"sha256": digest}
    bad = write(tmp_path / "bad.txt", f"archived @ {url} --hash=sha256:{'0' * 64}\n")
    run = install(tmp_path, server, env, "-r", str(bad), refused=True)
    assert f"{filename} does not match any --hash" in run.result.stderr
    assert f"got sha256:{digest}" in run.result.stderr
    assert run.built == []  # refused before it was unpacked or built


def test_index_sdists_are_hash_checked_like_wheels(
    tmp_path: Path, server: IndexServer, env: dict[str, str], index: PackageIndex
) -> None:
    digest = sha(index, "onlysdist-1.0.tar.gz")
    good = write(tmp_path / "good.txt", f"onlysdist==1.0 --hash=sha256:{digest}\n")
    run = install(tmp_path, server, env, "-r", str(good))
    assert installed(run.python) == {"onlysdist": "1.0"}
    assert run.built == ["onlysdist"]
    bad = write(tmp_path / "bad.txt", f"onlysdist==1.0 --hash=sha256:{'0' * 64}\n")
    run = install(tmp_path, server, env, "-r", str(bad), refused=True)
    assert "onlysdist-1.0.tar.gz does not match any --hash" in run.result.stderr
    assert run.built == []


def test_an_sdist_dependency_without_a_hash_is_not_built(
    tmp_path: Path, server: IndexServer, env: dict[str, str], index: PackageIndex
) -> None:
    wheel = sha(index, "needs_sdist-1.0-py3-none-any.whl")
    req = write(tmp_path / "req.txt", f"needs-sdist==1.0 --hash=sha256:{wheel}\n")
    run = install(tmp_path, server, env, "-r", str(req), refused=True)
    err = run.result.stderr
    assert "onlysdist-1.0.tar.gz has no --hash" in err
    assert f"onlysdist==1.0 --hash=sha256:{sha(index, 'onlysdist-1.0.tar.gz')}" in err
    assert run.built == []  # its backend never ran


def test_directories_and_git_urls_cannot_be_hash_checked(
    tmp_path: Path, server: IndexServer, env: dict[str, str]
) -> None:
    project = in_tree_project(tmp_path / "local", "local", "1.0")
    repo = git_repository(tmp_path / "repo")
    archive = make_sdist(
        in_tree_project(tmp_path / "bare", "bare", "1.0"), tmp_path, "bare", "1.0"
    )
    run = install(
        tmp_path, server, env, "--require-hashes", str(project), f"git+{repo.as_uri()}@v1.0",
        "-e", str(project), str(archive), refused=True,
    )  # fmt: skip
    err = run.result.stderr
    assert "hash-checking mode cannot verify these requirements" in err
    assert f"{project} (command line) is a project directory" in err
    assert f"git+{repo.as_uri()}@v1.0 (command line) is a version control URL" in err
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert "an archive without a --hash" in err
    assert f"--hash=sha256:{digest}" in err
    assert run.built == []


def test_build_dependencies_in_hash_checking_mode_need_hashed_build_constraints(
    tmp_path: Path, server: IndexServer, env: dict[str, str], index: PackageIndex
) -> None:
    project = helped_project(tmp_path / "helped")
    archive = make_sdist(project, tmp_path / "dist", "helped", "1.0")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    req = write(tmp_path / "req.txt", f"helped @ {archive.as_uri()} --hash=sha256:{digest}\n")
    old = sha(index, "buildhelper-1.0-py3-none-any.whl")
    new = sha(index, "buildhelper-2.0-py3-none-any.whl")

    run = install(tmp_path, server, env, "-r", str(req), refused=True)
    err = run.result.stderr
    assert "building" in err and "build-system.requires (buildhelper)" in err
    assert "must be pinned with == and hashed by a build constraint" in err
    assert f"buildhelper==2.0 --hash=sha256:{new}" in err
    assert "no build constraint names buildhelper" in err
    assert "--build-constraint FILE" in err

    loose = write(tmp_path / "loose.txt", f"buildhelper>=1 --hash=sha256:{old}\n")
    run = install(
        tmp_path, server, env, "-r", str(req), "--build-constraint", str(loose), refused=True
    )
    assert "its build constraint is not pinned with ==: buildhelper>=1" in run.result.stderr

    wrong = write(tmp_path / "wrong.txt", f"buildhelper==1.0 --hash=sha256:{new}\n")
    run = install(
        tmp_path, server, env, "-r", str(req), "--build-constraint", str(wrong), refused=True
    )
    assert f"expected sha256:{new}" in run.result.stderr
    assert f"got sha256:{old}" in run.result.stderr

    pinned = write(tmp_path / "pinned.txt", f"buildhelper==1.0 --hash=sha256:{old}\n")
    run = install(tmp_path, server, env, "-r", str(req), "--build-constraint", str(pinned))
    assert run.helpers == ["1.0"]
    assert installed(run.python) == {"helped": "1.0"}
