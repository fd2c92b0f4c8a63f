"""Installing what is not a wheel: project directories, editables, archives and git URLs,
built by real backends (setuptools, hatchling, flit-core, an in-tree one) served from a
loopback index, into real venvs and a real non-venv Python."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.envs import installed, make_venv, manifest, need_pyenv, run_roost
from tests.support.projects import (
    FLIT,
    HATCHLING,
    backend_index,
    evil_sdist,
    git,
    git_repository,
    in_tree_project,
    make_sdist,
    pyproject_project,
    setup_py_project,
)
from tests.support.server import IndexServer

#: What the backends need, from the wheels nox fetched once.
BACKENDS = ("setuptools", "flit-core", "hatchling", "packaging", "pathspec", "pluggy")
BACKENDS += ("trove-classifiers", "tomlkit")


@pytest.fixture(scope="module")
def build_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """The backends and their dependencies, and a plain wheel for extras to pull in."""
    with IndexServer(backend_index(tmp_path_factory.mktemp("build-index"), BACKENDS)) as server:
        yield server


def install(
    python: Path, server: IndexServer, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_roost("install", "--python", str(python), "-i", server.url, *args, env=env)


def site_packages(venv_python: Path) -> Path:
    return next((venv_python.parent.parent / "lib").glob("python3*/site-packages"))


def direct_url(venv_python: Path, dist: str) -> dict[str, object]:
    path = next(site_packages(venv_python).glob(f"{dist}-*.dist-info")) / "direct_url.json"
    found: dict[str, object] = json.loads(path.read_text())
    return found


def run(python: Path, code: str) -> str:
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_a_setuptools_project_directory(tmp_path: Path, build_index: IndexServer) -> None:
    project = pyproject_project(tmp_path / "app", "app", "1.2")
    python = make_venv(tmp_path / "venv")
    result = install(python, build_index, str(project))
    assert result.returncode == 0, result.stderr
    assert "Successfully installed app-1.2" in result.stdout
    assert installed(python) == {"app": "1.2"}
    # Only the project: the backend stayed in its build environment.
    assert not list(site_packages(python).glob("setuptools*"))
    tool = subprocess.run(
        [str(python.parent / "app-tool")], capture_output=True, text=True, check=True
    )
    assert tool.stdout.strip() == "hello from app 1.2"
    assert direct_url(python, "app") == {"url": project.as_uri(), "dir_info": {}}
    frozen = run_roost("freeze", "--python", str(python))
    assert frozen.stdout.strip() == f"app @ {project.as_uri()}"


@pytest.mark.parametrize("backend", [HATCHLING, FLIT], ids=["hatchling", "flit-core"])
def test_other_backends(tmp_path: Path, build_index: IndexServer, backend: str) -> None:
    project = pyproject_project(
        tmp_path / "lib", "otherlib", "0.3", build_system=backend, layout="flat"
    )
    if backend == FLIT:
        init = project / "otherlib" / "__init__.py"
        init.write_text('"""otherlib: flit wants a docstring."""\n' + init.read_text())
    python = make_venv(tmp_path / "venv")
    result = install(python, build_index, str(project))
    assert result.returncode == 0, result.stderr
    assert run(python, "import otherlib; print(otherlib.GREETING)") == "hello from otherlib 0.3"


def test_a_setup_py_only_project(tmp_path: Path, build_index: IndexServer) -> None:
    project = setup_py_project(tmp_path / "legacy", "legacy", "0.9")
    python = make_venv(tmp_path / "venv")
    result = install(python, build_index, str(project))
    assert result.returncode == 0, result.stderr
    assert installed(python) == {"legacy": "0.9"}
    assert run(python, "import legacy; print(legacy.GREETING)") == "hello from legacy 0.9"


def test_editable_with_extras_is_live(tmp_path: Path, build_index: IndexServer) -> None:
    project = pyproject_project(tmp_path / "live", "live", "2.0", extras={"dev": ["extra-dep"]})
    python = make_venv(tmp_path / "venv")
    result = install(python, build_index, "-e", f"{project}[dev]")
    assert result.returncode == 0, result.stderr
    assert installed(python) == {"extra-dep": "1.0", "live": "2.0"}
    assert direct_url(python, "live") == {
        "url": project.as_uri(),
        "dir_info": {"editable": True},
    }
    assert run(python, "import live; print(live.GREETING)") == "hello from live 2.0"
    source = project / "src" / "live" / "__init__.py"
    source.write_text(source.read_text().replace("hello from", "edited in place:"))
    assert run(python, "import live; print(live.GREETING)") == "edited in place: live 2.0"


def test_user_install_of_a_project_into_a_system_python(
    tmp_path: Path, build_index: IndexServer, env: dict[str, str]
) -> None:
    base = need_pyenv("3.11")
    project = pyproject_project(tmp_path / "tool", "usertool", "1.0")
    result = install(base, build_index, "--user", str(project), env=env)
    assert result.returncode == 0, result.stderr
    user_site = Path(env["HOME"]) / ".local" / "lib" / "python3.11" / "site-packages"
    assert (user_site / "usertool" / "__init__.py").is_file()
    tool = Path(env["HOME"]) / ".local" / "bin" / "usertool-tool"
    out = subprocess.run([str(tool)], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "hello from usertool 1.0"


def test_an_sdist_archive_by_path_records_its_hash(
    tmp_path: Path, build_index: IndexServer
) -> None:
    project = in_tree_project(tmp_path / "src", "archived", "3.1")
    sdist = make_sdist(project, tmp_path / "dist", "archived", "3.1")
    python = make_venv(tmp_path / "venv")
    result = install(python, build_index, str(sdist))
    assert result.returncode == 0, result.stderr
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    assert direct_url(python, "archived") == {
        "url": sdist.as_uri(),
        "archive_info": {"hash": f"sha256={digest}", "hashes": {"sha256": digest}},
    }


def test_an_archive_that_climbs_out_is_refused(tmp_path: Path, build_index: IndexServer) -> None:
    sdist = evil_sdist(tmp_path / "dist")
    python = make_venv(tmp_path / "venv")
    before = manifest(tmp_path / "venv")
    result = install(python, build_index, str(sdist))
    assert result.returncode == 1
    assert "points outside the archive" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.rglob("escaped.py"))
    assert manifest(tmp_path / "venv") == before


def test_config_settings_reach_the_backend(tmp_path: Path, build_index: IndexServer) -> None:
    project = in_tree_project(tmp_path / "cfg", "cfgproj", "1.0")
    python = make_venv(tmp_path / "venv")
    result = install(
        python, build_index, "-C", "mode=fast", "-C", "x=1", "-C", "x=2", str(project)
    )
    assert result.returncode == 0, result.stderr
    settings = json.loads(run(python, "import cfgproj, json; print(json.dumps(cfgproj.SETTINGS))"))
    assert settings == {"mode": "fast", "x": ["1", "2"]}


def test_a_failing_build_says_which_hook_and_leaves_the_venv(
    tmp_path: Path, build_index: IndexServer
) -> None:
    project = in_tree_project(tmp_path / "bad", "badproj", "1.0")
    python = make_venv(tmp_path / "venv")
    before = manifest(tmp_path / "venv")
    result = install(python, build_index, "-C", "fail=1", str(project))
    assert result.returncode == 1
    assert "the build_wheel hook of the backend 'backend' exited with status 3" in result.stderr
    assert "backend: about to fail as asked" in result.stderr
    assert "Traceback" not in result.stderr
    assert manifest(tmp_path / "venv") == before


def test_not_a_python_project(tmp_path: Path, build_index: IndexServer) -> None:
    (tmp_path / "empty").mkdir()
    python = make_venv(tmp_path / "venv")
    result = install(python, build_index, f"{tmp_path / 'empty'}/")
    assert result.returncode == 1
    assert "neither 'pyproject.toml' nor 'setup.py'" in result.stderr


def test_editable_needs_a_pep_660_backend(tmp_path: Path, build_index: IndexServer) -> None:
    project = in_tree_project(tmp_path / "noedit", "noedit", "1.0")
    python = make_venv(tmp_path / "venv")
    result = install(python, build_index, "-e", str(project))
    assert result.returncode == 1
    assert "no 'build_editable' hook (PEP 660)" in result.stderr


def test_no_build_isolation_checks_what_the_build_needs(
    tmp_path: Path, build_index: IndexServer
) -> None:
    project = pyproject_project(tmp_path / "iso", "isoproj", "1.0")
    python = make_venv(tmp_path / "venv")
    result = install(
        python, build_index, "--no-build-isolation", "--check-build-dependencies", str(project)
    )
    assert result.returncode == 1
    assert "missing build dependencies (build-system.requires): setuptools>=64" in result.stderr
    # With setuptools in the target, the same build runs there, without isolation.
    assert install(python, build_index, "setuptools").returncode == 0
    result = install(
        python, build_index, "--no-build-isolation", "--check-build-dependencies", str(project)
    )
    assert result.returncode == 0, result.stderr
    assert installed(python)["isoproj"] == "1.0"


def test_git_urls_at_a_tag_a_branch_and_a_subdirectory(
    tmp_path: Path, build_index: IndexServer
) -> None:
    repo = git_repository(tmp_path / "repo")
    tagged = git(repo, "rev-parse", "v1.0")
    head = git(repo, "rev-parse", "HEAD")
    python = make_venv(tmp_path / "venv")
    result = install(python, build_index, f"gitproj @ git+{repo.as_uri()}@v1.0")
    assert result.returncode == 0, result.stderr
    assert installed(python) == {"gitproj": "1.0"}
    assert direct_url(python, "gitproj") == {
        "url": repo.as_uri(),
        "vcs_info": {"vcs": "git", "commit_id": tagged, "requested_revision": "v1.0"},
    }
    result = install(python, build_index, f"git+{repo.as_uri()}@main")
    assert result.returncode == 0, result.stderr
    assert installed(python) == {"gitproj": "2.0"}
    assert direct_url(python, "gitproj")["vcs_info"] == {
        "vcs": "git",
        "commit_id": head,
        "requested_revision": "main",
    }
    result = install(python, build_index, f"git+{repo.as_uri()}#subdirectory=sub")
    assert result.returncode == 0, result.stderr
    assert installed(python)["subproj"] == "0.5"
    assert direct_url(python, "subproj") == {
        "url": repo.as_uri(),
        "vcs_info": {"vcs": "git", "commit_id": head},
        "subdirectory": "sub",
    }
    frozen = run_roost("freeze", "--python", str(python)).stdout.splitlines()
    assert f"subproj @ git+{repo.as_uri()}@{head}#subdirectory=sub" in frozen


def test_built_wheels_of_archives_and_pinned_commits_are_cached(
    tmp_path: Path, build_index: IndexServer, env: dict[str, str]
) -> None:
    """An archive (by sha256) and a git commit build once per target and config
    settings; a project directory builds every time."""
    log = tmp_path / "built.log"
    # The backend logs its builds outside its folders: the sandbox is told to allow it.
    env = {**env, "INTREE_BUILD_LOG": str(log), "ROOST_BUILD_SANDBOX_WRITABLE": str(tmp_path)}
    project = in_tree_project(tmp_path / "src", "cached", "1.0")
    sdist = make_sdist(project, tmp_path / "dist", "cached", "1.0")
    repo = git_repository(tmp_path / "repo")
    commit = git(repo, "rev-parse", "v1.0")

    def builds(*args: str) -> list[str]:
        python = make_venv(tmp_path / f"venv-{len(list(tmp_path.glob('venv-*')))}")
        log.write_text("")
        result = install(python, build_index, *args, env=env)
        assert result.returncode == 0, result.stderr
        return log.read_text().split()

    assert builds(str(sdist)) == ["cached"]
    assert builds(str(sdist)) == []  # from the built-wheel cache
    assert builds("-C", "x=1", str(sdist)) == ["cached"]  # other settings, other wheel
    assert builds(f"gitproj @ git+{repo.as_uri()}@{commit}") == ["gitproj"]
    assert builds(f"gitproj @ git+{repo.as_uri()}@{commit}") == []
    assert builds(f"git+{repo.as_uri()}@v1.0") == ["gitproj"]  # a tag may move: built again
    assert builds(str(project)) == ["cached"]
    assert builds(str(project)) == ["cached"]


def test_roost_wheel_builds_sources_and_saves_dependencies(
    tmp_path: Path, build_index: IndexServer
) -> None:
    project = pyproject_project(tmp_path / "app", "wheelapp", "1.1", dependencies=("extra-dep",))
    sdist = make_sdist(
        in_tree_project(tmp_path / "src", "fromsdist", "0.2"), tmp_path, "fromsdist", "0.2"
    )
    python = make_venv(tmp_path / "venv")
    before = manifest(tmp_path / "venv")
    out = tmp_path / "wheelhouse"
    result = run_roost(
        "wheel", "--python", str(python), "-i", build_index.url, "-w", str(out),
        str(project), str(sdist),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "extra_dep-1.0-py3-none-any.whl",
        "fromsdist-0.2-py3-none-any.whl",
        "wheelapp-1.1-py3-none-any.whl",
    ]
    assert manifest(tmp_path / "venv") == before  # nothing installed anywhere


def test_editable_line_in_a_requirements_file(tmp_path: Path, build_index: IndexServer) -> None:
    project = pyproject_project(
        tmp_path / "fromfile", "fromfile", "0.4", extras={"dev": ["extra-dep"]}
    )
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"-e {project}[dev]\n")
    python = make_venv(tmp_path / "venv")
    result = install(python, build_index, "-r", str(requirements))
    assert result.returncode == 0, result.stderr
    assert installed(python) == {"extra-dep": "1.0", "fromfile": "0.4"}
    assert direct_url(python, "fromfile")["dir_info"] == {"editable": True}


#: A backend that builds only once its peer's build has started too: two builds that
#: ran one after the other would wait for each other in vain.
BARRIER_BACKEND = """
import os, time
from pathlib import Path
from backend_impl import build_wheel as _build, get_requires_for_build_wheel

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    barrier = Path(os.environ["BUILD_BARRIER"])
    (barrier / NAME).touch()
    deadline = time.monotonic() + 20
    while len(list(barrier.iterdir())) < 2:
        if time.monotonic() > deadline:
            raise SystemExit("the other build never started")
        time.sleep(0.05)
    return _build(wheel_directory, config_settings, metadata_directory)
"""


def test_sources_build_side_by_side(
    tmp_path: Path, build_index: IndexServer, env: dict[str, str]
) -> None:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    projects = []
    for name in ("left", "right"):
        project = in_tree_project(tmp_path / name, name, "1.0")
        (project / "backend_impl.py").write_text((project / "backend.py").read_text())
        (project / "backend.py").write_text(f'NAME = "{name}"\n' + BARRIER_BACKEND)
        projects.append(str(project))
    python = make_venv(tmp_path / "venv")
    result = install(
        python, build_index, "--max-builds", "2", *projects,
        env={**env, "BUILD_BARRIER": str(barrier),
             "ROOST_BUILD_SANDBOX_WRITABLE": str(barrier.parent)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert installed(python) == {"left": "1.0", "right": "1.0"}


def test_wheels_built_from_directories_stay_out_of_the_store(
    tmp_path: Path, build_index: IndexServer, env: dict[str, str]
) -> None:
    """Each install of a directory builds new bytes; stored, each would stay for good.
    An archive's wheel is stored (it is asked for again, by the same sha256)."""
    cache = tmp_path / "cache"
    env = {**env, "ROOST_CACHE_DIR": str(cache)}
    project = in_tree_project(tmp_path / "src", "instore", "1.0")
    sdist = make_sdist(project, tmp_path / "dist", "instore", "1.0")

    def entries() -> set[str]:
        store = cache / "unpacked"
        return (
            {p.name for p in store.iterdir() if not p.name.startswith(".")}
            if (store.is_dir())
            else set()
        )

    for args in ((str(project),), (str(project),)):
        python = make_venv(tmp_path / f"venv-{len(list(tmp_path.glob('venv-*')))}")
        result = install(python, build_index, *args, env=env)
        assert result.returncode == 0, result.stderr
        assert installed(python) == {"instore": "1.0"}
        assert run(python, "import instore; print(instore.SETTINGS)") == "{}"
    assert entries() == set()
    python = make_venv(tmp_path / "venv-archive")
    result = install(python, build_index, str(sdist), env=env)
    assert result.returncode == 0, result.stderr
    assert len(entries()) == 1
