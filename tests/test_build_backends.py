"""More real builds: poetry-core and pdm-backend, a C extension compiled by the machine's
compiler, archives with links as real backends make them, parity with pip on the same
sources, and the multi-stage story (`--user .`, then ~/.local copied) as a second user."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.envs import (
    clean_env,
    installed,
    make_venv,
    manifest,
    need_debian,
    need_pyenv,
    run_roost,
)
from tests.support.fetched import fetched_wheel
from tests.support.projects import (
    PDM,
    POETRY,
    backend_index,
    c_extension_project,
    git,
    git_of,
    linked_sdist,
    make_sdist,
    pyproject_project,
)
from tests.support.server import IndexServer

#: What the backends need, from the wheels nox fetched once (poetry-core and
#: pdm-backend vendor their own dependencies).
BACKENDS = ("setuptools", "poetry-core", "pdm-backend")
#: Bounds on the subprocesses the tests run themselves (roost's runs have their own).
TIMEOUT = 300


@pytest.fixture(scope="module")
def build_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """The backends, and a plain wheel for a project to depend on."""
    with IndexServer(backend_index(tmp_path_factory.mktemp("backends-index"), BACKENDS)) as server:
        yield server


def install(
    python: Path, server: IndexServer, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_roost("install", "--python", str(python), "-i", server.url, *args, env=env)


def run(python: Path, code: str) -> str:
    out = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=True, timeout=TIMEOUT
    )
    return out.stdout.strip()


def purelib(python: Path) -> Path:
    return Path(run(python, "import sysconfig; print(sysconfig.get_path('purelib'))"))


def dist_info(python: Path, dist: str) -> Path:
    return next(purelib(python).glob(f"{dist}-*.dist-info"))


# -- poetry-core and pdm-backend ---------------------------------------------------------


@pytest.mark.parametrize("backend", [POETRY, PDM], ids=["poetry-core", "pdm-backend"])
def test_poetry_and_pdm_projects(tmp_path: Path, build_index: IndexServer, backend: str) -> None:
    """Installed with a dependency and a console script; then editable, and live."""
    project = pyproject_project(
        tmp_path / "proj", "modern", "0.4", build_system=backend, dependencies=("extra-dep",)
    )
    python = make_venv(tmp_path / "venv")
    result = install(python, build_index, str(project))
    assert result.returncode == 0, result.stderr
    assert installed(python) == {"extra-dep": "1.0", "modern": "0.4"}
    tool = [str(python.parent / "modern-tool")]
    out = subprocess.run(tool, capture_output=True, text=True, check=True, timeout=TIMEOUT)
    assert out.stdout.strip() == "hello from modern 0.4"
    direct = json.loads((dist_info(python, "modern") / "direct_url.json").read_text())
    assert direct == {"url": project.as_uri(), "dir_info": {}}

    python = make_venv(tmp_path / "editable")
    result = install(python, build_index, "-e", str(project))
    assert result.returncode == 0, result.stderr
    direct = json.loads((dist_info(python, "modern") / "direct_url.json").read_text())
    assert direct == {"url": project.as_uri(), "dir_info": {"editable": True}}
    source = project / "src" / "modern" / "__init__.py"
    source.write_text(source.read_text().replace("hello from", "edited:"))
    assert run(python, "import modern; print(modern.GREETING)") == "edited: modern 0.4"


# -- a C extension -------------------------------------------------------------------------


#: What a target interpreter says of its compiler, headers and most specific tag.
_TOOLCHAIN = """
import json, sys, sysconfig
version = "cp%d%d" % sys.version_info[:2]
platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
print(json.dumps({
    "cc": (sysconfig.get_config_var("CC") or "cc").split()[0],
    "include": sysconfig.get_path("include"),
    "tag": f"{version}-{version}-{platform}",
    "suffix": sysconfig.get_config_var("EXT_SUFFIX"),
}))
"""


def need_toolchain(python: Path) -> dict[str, str]:
    """The compiler facts of *python*, or skip the test naming what is missing."""
    facts: dict[str, str] = json.loads(run(python, _TOOLCHAIN))
    if shutil.which(facts["cc"]) is None:
        pytest.skip(f"no C compiler: {facts['cc']!r} (the CC of {python}) is not on PATH")
    if not (Path(facts["include"]) / "Python.h").is_file():
        pytest.skip(f"no Python headers for {python} at {facts['include']}")
    return facts


@pytest.mark.parametrize("version", ["roost's", "3.12"])
def test_a_c_extension_is_compiled_for_the_target(
    tmp_path: Path, build_index: IndexServer, version: str
) -> None:
    """Compiled by the machine's compiler, for the target: the test interpreter, and a
    Python roost does not run in (its tag must come from the target, not from roost)."""
    base = Path(sys.executable) if version == "roost's" else need_pyenv(version)
    python = make_venv(tmp_path / "venv", base)
    facts = need_toolchain(python)
    project = c_extension_project(tmp_path / "cext", "cext", "1.0")
    result = install(python, build_index, str(project))
    assert result.returncode == 0, result.stderr
    assert run(python, "from cext import _speedups; print(_speedups.add(40, 2))") == "42"
    wheel = (dist_info(python, "cext") / "WHEEL").read_text().splitlines()
    assert f"Tag: {facts['tag']}" in wheel
    assert "Root-Is-Purelib: false" in wheel
    compiled = [p.name for p in purelib(python).glob("cext/_speedups.*")]
    assert f"_speedups{facts['suffix']}" in compiled


def test_a_compiler_error_is_shown_and_nothing_changes(
    tmp_path: Path, build_index: IndexServer
) -> None:
    python = make_venv(tmp_path / "venv")
    need_toolchain(python)
    project = c_extension_project(tmp_path / "broken", "broken", "1.0")
    source = project / "src" / "broken" / "_speedups.c"
    source.write_text(source.read_text().replace("a + b);", "a + b) not C;"))
    before = manifest(tmp_path / "venv")
    result = install(python, build_index, str(project))
    assert result.returncode == 1
    assert (
        "the build_wheel hook of the backend 'setuptools.build_meta' exited with status 1"
        in result.stderr
    )
    # The compiler's own words, among the last lines of the output.
    assert "_speedups.c:9" in result.stderr and "error:" in result.stderr
    assert "Traceback" not in result.stderr
    assert manifest(tmp_path / "venv") == before


# -- archives as real tools make them ------------------------------------------------------


def test_an_sdist_made_by_pdm_backend_with_a_symlink(
    tmp_path: Path, build_index: IndexServer
) -> None:
    """pdm-backend (like hatchling and flit-core) keeps a symlink a symlink in its sdist;
    pip installs such sdists, and so must roost."""
    tools = make_venv(tmp_path / "tools")
    assert install(tools, build_index, "pdm-backend").returncode == 0
    project = pyproject_project(tmp_path / "proj", "symlinked", "1.0", build_system=PDM)
    package = project / "src" / "symlinked"
    (package / "real.py").write_text("WHERE = 'through the link'\n")
    (package / "alias.py").symlink_to("real.py")
    out = run(tools, f"import os, pdm.backend; os.chdir({str(project)!r}); "
              "print(pdm.backend.build_sdist('dist'))")  # fmt: skip
    sdist = project / "dist" / out.splitlines()[-1]
    with tarfile.open(sdist) as tf:
        assert tf.getmember("symlinked-1.0/src/symlinked/alias.py").issym()
    python = make_venv(tmp_path / "venv")
    result = install(python, build_index, str(sdist))
    assert result.returncode == 0, result.stderr
    assert run(python, "from symlinked import alias; print(alias.WHERE)") == "through the link"


def test_symlinks_and_hard_links_inside_an_archive(
    tmp_path: Path, build_index: IndexServer
) -> None:
    links = {"symlinks": {"alias.py": "linked.py"}, "hardlinks": {"copy_of.py": "linked.py"}}
    sdist = linked_sdist(tmp_path / "dist", **links)
    python = make_venv(tmp_path / "venv")
    result = install(python, build_index, str(sdist))
    assert result.returncode == 0, result.stderr
    code = "import alias, copy_of; print(alias.VALUE, copy_of.VALUE)"
    assert run(python, code) == "linked linked"


#: Archives whose links lead out: symlinks, hard links, the member refused and why.
ESCAPES = {
    "absolute": ({"alias.py": "/etc/hostname"}, {}, "alias.py", "links to '/etc/hostname'"),
    "climbing": ({"alias.py": "../../x.py"}, {}, "alias.py", "links to '../../x.py'"),
    # Each link alone stays inside; through the ones before, they climb out.
    "chain-to": ({"up": "..", "up/up2": ".."}, {}, "up/up2", "links to '..'"),
    "chain-through": (
        {"up": "..", "up/up2": "..", "up/up2/alias.py": "linked.py"}, {},
        "up/up2/alias.py", "links to 'linked.py'",
    ),
    "hard-to-symlink": (
        {"alias.py": "linked.py"}, {"copy_of.py": "alias.py"},
        "copy_of.py", "is a hard link to 'linked-1.0/alias.py', which is not a regular file",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", ESCAPES)
def test_links_that_lead_out_of_an_archive_are_refused(
    tmp_path: Path, build_index: IndexServer, case: str
) -> None:
    symlinks, hardlinks, member, why = ESCAPES[case]
    sdist = linked_sdist(tmp_path / "dist", symlinks=symlinks, hardlinks=hardlinks)
    python = make_venv(tmp_path / "venv")
    before = manifest(tmp_path / "venv")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**clean_env(tmp_path / "home"), "TMPDIR": str(scratch)}
    result = install(python, build_index, str(sdist), env=env)
    assert result.returncode == 1
    assert f"the archive member 'linked-1.0/{member}' {why}" in result.stderr
    assert "Traceback" not in result.stderr
    assert manifest(tmp_path / "venv") == before
    assert list(scratch.iterdir()) == []  # the unpacked tree is gone, nothing beside it


def test_an_archive_of_a_folder_made_with_tar_dot(
    tmp_path: Path, build_index: IndexServer
) -> None:
    """``tar -C app -czf app.tar.gz .``: members under ``./``, with ``.`` itself first."""
    project = pyproject_project(tmp_path / "app", "dotted", "1.0")
    archive = tmp_path / "dotted-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(project, arcname=".")
    with tarfile.open(archive) as tf:
        assert tf.getnames()[0] == "."
    python = make_venv(tmp_path / "venv")
    result = install(python, build_index, str(archive))
    assert result.returncode == 0, result.stderr
    assert installed(python) == {"dotted": "1.0"}


# -- parity with pip -----------------------------------------------------------------------

#: Files each installer writes about itself, or writes in its own order.
OWN_FILES = {"INSTALLER", "RECORD", "direct_url.json"}
#: Console scripts come from each installer's own template (pip's changes between
#: releases; installer's is another): compared by their shebang and the entry point
#: they import, which is what decides what they run, and their RECORD hash and size
#: left out.


def script_essentials(data: bytes) -> bytes:
    lines = data.splitlines()
    return b"\n".join(lines[:1] + [line for line in lines[1:] if line.startswith(b"from ")])


def installed_files(venv: Path) -> dict[str, bytes]:
    """Every file the installs put in *venv*'s site-packages and bin, by relative path;
    direct_url.json as canonical JSON, RECORD left to :func:`record_rows`."""
    files: dict[str, bytes] = {}
    for top in (purelib(venv / "bin" / "python"), venv / "bin"):
        for path in sorted(top.rglob("*")):
            relative = path.relative_to(venv).as_posix()
            if "__pycache__" in path.parts or path.is_dir() or path.name.startswith("python"):
                continue
            if path.name.startswith("activate") or path.name in {"INSTALLER", "RECORD"}:
                continue
            data = path.read_bytes()
            if relative.startswith("bin/"):
                data = script_essentials(data)
            elif path.name == "direct_url.json":
                data = json.dumps(json.loads(data), sort_keys=True).encode()
            files[relative] = data
    return files


def record_rows(venv: Path) -> list[str]:
    """The RECORD rows of every distribution, sorted, without bytecode and own files."""
    rows = []
    for record in purelib(venv / "bin" / "python").glob("*.dist-info/RECORD"):
        for line in record.read_text().splitlines():
            path = line.rsplit(",", 2)[0]
            if "__pycache__" in path or Path(path).name in OWN_FILES:
                continue
            if path.startswith("../../../bin/"):
                line = f"{path},<script>,<size>"
            rows.append(line)
    return sorted(rows)


def pip(python: Path, *args: str, env: dict[str, str]) -> str:
    """The test interpreter's pip acting on *python* (pip's ``--python``); its stdout."""
    command = [sys.executable, "-m", "pip", "--python", str(python), *args]
    result = subprocess.run(
        command, env=env, cwd=env["HOME"], capture_output=True, text=True, timeout=TIMEOUT,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"pip {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def backend_folder(tmp_path: Path) -> Path:
    """A find-links folder with the one wheel both installers build with: setuptools."""
    folder = tmp_path / "find-links"
    folder.mkdir()
    wheel = fetched_wheel("setuptools", "3.11")
    shutil.copyfile(wheel, folder / wheel.name)
    return folder


@pytest.mark.parametrize("kind", ["directory", "archive", "git", "find-links sdist"])
def test_same_install_as_pip_from_the_same_source(tmp_path: Path, kind: str) -> None:
    """pip and roost install a setuptools project from the same source into a venv at
    the same path, one after the other: the same files, direct_url.json and freeze."""
    if importlib.util.find_spec("pip") is None:
        pytest.skip(f"no pip in the test interpreter {sys.executable}")
    project = pyproject_project(tmp_path / "src" / "app", "parity-app", "1.3")
    links = backend_folder(tmp_path)
    # The source, and what PEP 610 and pip's freeze say of it.
    url: dict[str, object] = {"url": project.as_uri()}
    direct: dict[str, object] | None
    if kind == "directory":
        source, frozen = str(project), f"parity-app @ {project.as_uri()}"
        direct = {**url, "dir_info": {}}
    elif kind == "archive":
        sdist = make_sdist(project, tmp_path / "dist", "parity-app", "1.3")
        digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
        source, frozen = str(sdist), f"parity-app @ {sdist.as_uri()}#sha256={digest}"
        archive = {"hash": f"sha256={digest}", "hashes": {"sha256": digest}}
        direct = {"url": sdist.as_uri(), "archive_info": archive}
    elif kind == "git":
        commit = git(git_of(project, "v1.3"), "rev-parse", "v1.3")
        # pip 23 refuses `name @ git+file:///...`; the bare URL works for both.
        source = f"git+{project.as_uri()}@v1.3"
        frozen = f"parity-app @ git+{project.as_uri()}@{commit}"
        vcs = {"vcs": "git", "commit_id": commit, "requested_revision": "v1.3"}
        direct = {**url, "vcs_info": vcs}
    else:
        make_sdist(project, links, "parity-app", "1.3")
        source, frozen, direct = "parity-app", "parity-app==1.3", None  # an index's
    sources = ("--no-index", "--find-links", str(links))
    (tmp_path / "home").mkdir()
    env = clean_env(tmp_path / "home")

    venv = tmp_path / "venv"
    python = make_venv(venv)
    pip(python, "install", "--no-compile", "--no-cache-dir", *sources, source, env=env)
    by_pip = installed_files(venv)
    pip_rows = record_rows(venv)
    pip_freeze = pip(python, "freeze", env=env)
    venv.rename(tmp_path / "pip-venv")

    python = make_venv(venv)
    run_roost("install", "--python", str(python), *sources, source, env=env, check=True)
    by_roost = installed_files(venv)
    info = dist_info(python, "parity_app").relative_to(venv).as_posix()
    roost_freeze = run_roost("freeze", "--python", str(python), env=env, check=True).stdout

    assert sorted(by_roost) == sorted(by_pip)
    differ = sorted(name for name in by_pip if by_pip[name] != by_roost[name])
    assert {name: by_roost[name] for name in differ} == {name: by_pip[name] for name in differ}
    assert record_rows(venv) == pip_rows
    assert roost_freeze == pip_freeze == frozen + "\n"
    recorded = by_roost.get(f"{info}/direct_url.json")
    assert (None if recorded is None else json.loads(recorded)) == direct


# -- the multi-stage story, as a second user -----------------------------------------------

#: The user of the build stage, and of the final image.
APP_UID = 1000


def as_app_user(
    command: list[str], *, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """*command* as uid and gid 1000 with no supplementary groups (``--clear-groups``
    needs no passwd entry, ``--init-groups`` would)."""
    setpriv = ["setpriv", f"--reuid={APP_UID}", f"--regid={APP_UID}", "--clear-groups", "--"]
    return subprocess.run(
        [*setpriv, *command], env=env, cwd=cwd, capture_output=True, text=True,
        timeout=TIMEOUT, check=False,
    )  # fmt: skip


def roost_for_app_user(python: Path) -> list[str]:
    """roost's CLI run by *python* with the test interpreter's site-packages added
    (dependencies, and roost itself or its editable finder), which uid 1000 can read
    where it cannot read the interpreter running the tests (under /root)."""
    site = sysconfig.get_path("purelib")
    main = "from roost.cli.main import main; sys.exit(main())"
    return [str(python), "-c", f"import site, sys; site.addsitedir({site!r}); {main}"]


@pytest.fixture
def app_world() -> Iterator[Path]:
    """A folder uid 1000 owns, in /tmp: pytest's tmp_path is under a root-only folder."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("becoming uid 1000 needs root")
    if shutil.which("setpriv") is None:
        pytest.skip("no setpriv (util-linux) to become uid 1000")
    world = Path(tempfile.mkdtemp(prefix="roost-app-user-"))
    try:
        os.chown(world, APP_UID, APP_UID)
        yield world
    finally:
        shutil.rmtree(world, ignore_errors=True)


def test_user_install_as_a_second_user_then_copied_as_a_docker_stage(
    app_world: Path, build_index: IndexServer
) -> None:
    """`roost install --user .` by uid 1000 into Debian's python3, then ~/.local copied
    elsewhere (COPY --from=build) and the app run from the copy.

    Debian's /usr/bin/python3 is the non-venv Python uid 1000 can run (the pyenv ones
    live under /root, mode 0700); it is externally managed, so --break-system-packages,
    as pip needs there too.
    """
    python = need_debian()
    version = run(python, "import sys; print('%d.%d' % sys.version_info[:2])")
    if version != f"{sys.version_info[0]}.{sys.version_info[1]}":
        pytest.skip(
            f"{python} is Python {version}: it cannot import the compiled dependencies of "
            f"the Python {sys.version_info[0]}.{sys.version_info[1]} running roost here"
        )
    home = app_world / "home" / "app"
    project = pyproject_project(home / "src", "stage-app", "2.1", dependencies=("extra-dep",))
    (app_world / "tmp").mkdir()
    for path in [app_world, *app_world.rglob("*")]:
        os.chown(path, APP_UID, APP_UID)
    # The root's TMPDIR, if any, may be closed to the user.
    env = {**clean_env(home), "TMPDIR": str(app_world / "tmp")}
    roost = roost_for_app_user(python)
    probe = as_app_user([*roost, "--version"], env=env)
    if probe.returncode != 0:
        pytest.skip(
            f"uid {APP_UID} cannot run roost from {sysconfig.get_path('purelib')}: "
            f"{probe.stderr.strip().splitlines()[-1:]}"
        )

    command = [*roost, "install", "--python", str(python), "-i", build_index.url]
    result = as_app_user([*command, "--user", "."], env=env, cwd=project)
    # Refused before anything is built: the guard runs first.
    assert result.returncode == 1
    assert "is externally managed" in result.stderr
    assert "--break-system-packages" in result.stderr
    assert not (project / "build").exists()
    result = as_app_user(
        [*command, "--user", "--break-system-packages", "."], env=env, cwd=project
    )
    assert result.returncode == 0, result.stderr
    local = home / ".local"
    site = local / "lib" / f"python{version}" / "site-packages"
    assert (site / "stage_app" / "__init__.py").is_file()
    assert (site / "extra_dep" / "__init__.py").is_file()
    # Everything the run wrote (the user site, roost's cache, the build's files in the
    # project) belongs to the user: nothing a later stage cannot read or replace.
    assert [p for p in app_world.rglob("*") if p.lstat().st_uid != APP_UID] == []
    assert list((app_world / "tmp").iterdir()) == []  # the build's scratch is gone

    # COPY --from=build /home/app/.local /image/home/app/.local: as root, elsewhere, and
    # the original gone, so only the copy can answer.
    image = app_world / "image" / "home" / "app" / ".local"
    shutil.copytree(local, image, symlinks=True)
    shutil.rmtree(local)
    tool = image / "bin" / "stage-app-tool"
    assert tool.read_text().splitlines()[0] in {f"#!{python}", f"#!{python.resolve()}"}
    final = {**clean_env(app_world / "image" / "home" / "app"), "PYTHONUSERBASE": str(image)}
    out = as_app_user([str(tool)], env=final)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "hello from stage-app 2.1"
    out = as_app_user([str(python), "-c", "import extra_dep, stage_app; print('ok')"], env=final)
    assert out.stdout.strip() == "ok", out.stderr
