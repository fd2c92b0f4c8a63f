"""Builds write only beneath their own folders: real backends in real venvs, held by the
kernel's Landlock, and the launcher itself on the oldest Python a build may run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from roost.plugins import _build_sandbox
from roost.plugins._build_sandbox import landlock_abi
from tests.support.envs import (
    ROOST_COMMAND,
    clean_env,
    installed,
    make_venv,
    manifest,
    need_pyenv,
    run_roost,
)
from tests.support.projects import (
    IN_TREE_BACKEND,
    backend_index,
    c_extension_project,
    in_tree_project,
    pyproject_project,
)
from tests.support.server import IndexServer

LAUNCHER = Path(_build_sandbox.__file__)
TIMEOUT = 300
NOTE = "The build sandbox refused a write outside the build's folders"


def _abi() -> int:
    try:
        return landlock_abi()
    except _build_sandbox.Unavailable:
        return 0


#: Every test here is about what the kernel enforces; the machine the suite is meant for
#: has Landlock (ABI 7), so this only guards a run elsewhere.
pytestmark = pytest.mark.skipif(not _abi(), reason="Linux Landlock is not available here")

#: build_wheel tries each path of targets.json (all outside the build's folders), then its
#: own temporary folder and its source folder; it fails with the first refusal, or
#: builds the in-tree wheel when nothing was refused.
PRYING = """
_plain_build_wheel = build_wheel

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    import tempfile
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "targets.json")) as handle:
        targets = json.load(handle)
    refused = []
    for path in targets:
        try:
            with open(path, "w") as handle:
                handle.write("written by the build\\n")
            print("wrote", path)
        except OSError as exc:
            print("refused:", exc)
            refused.append(exc)
    with open(os.path.join(tempfile.gettempdir(), "scratch.txt"), "w") as handle:
        handle.write("a compiler's temporary file\\n")
    print("wrote the temporary folder", tempfile.gettempdir())
    with open(os.path.join(here, "written-in-source.txt"), "w") as handle:
        handle.write("build output\\n")
    if refused:
        raise refused[0]
    return _plain_build_wheel(wheel_directory, config_settings, metadata_directory)
"""

#: build_wheel appends to a module of its build environment, which roost hard-linked
#: from its content store.
TAMPERING = """
_plain_build_wheel = build_wheel

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    import extra_dep
    with open(extra_dep.__file__, "a") as handle:
        handle.write("# changed by a build\\n")
    return _plain_build_wheel(wheel_directory, config_settings, metadata_directory)
"""


@pytest.fixture(scope="module")
def build_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """setuptools, and ``extra-dep`` (a plain wheel) for a backend to require."""
    with IndexServer(
        backend_index(tmp_path_factory.mktemp("sandbox-index"), ("setuptools",))
    ) as s:
        yield s


@pytest.fixture
def outside_tmp() -> Iterator[Path]:
    """A folder directly in the system's temporary folder, outside any build's."""
    folder = Path(tempfile.mkdtemp(prefix="roost-sandbox-outside-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def prying_project(root: Path, targets: list[Path]) -> Path:
    in_tree_project(root, "prying", "1.0")
    source = IN_TREE_BACKEND.format(name="prying", version="1.0") + PRYING
    (root / "backend.py").write_text(source)
    (root / "targets.json").write_text(json.dumps([str(t) for t in targets]))
    return root


def site_packages(python: Path) -> Path:
    return next((python.parent.parent / "lib").glob("python3*/site-packages"))


def environment(home: Path, **extra: str) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {**clean_env(home), **extra}


def roost_install(
    python: Path, *args: str, env: dict[str, str], verbose: bool = False
) -> subprocess.CompletedProcess[str]:
    flags = ["-v"] if verbose else []
    return run_roost(*flags, "install", "--python", str(python), *args, env=env)


def test_writes_outside_the_build_are_refused_and_nothing_changes(
    tmp_path: Path, outside_tmp: Path
) -> None:
    python = make_venv(tmp_path / "venv")
    home = tmp_path / "home"
    targets = [
        home / "written-in-home.txt",
        outside_tmp / "written-in-tmp.txt",
        site_packages(python) / "written-in-the-target.pth",
    ]
    project = prying_project(tmp_path / "project", targets)
    # roost's own cache elsewhere, so only the backend could change the home folder.
    env = environment(home, ROOST_CACHE_DIR=str(tmp_path / "cache"))
    before = manifest(tmp_path / "venv")
    home_before = manifest(home)

    result = roost_install(python, str(project), env=env)

    assert result.returncode == 1, result.stderr
    assert "the build_wheel hook of the backend 'backend' exited with status 1" in result.stderr
    for target in targets:
        assert not target.exists()
        assert f"refused: [Errno 13] Permission denied: '{target}'" in result.stderr
    # The note names every path the sandbox kept the backend from, and the way out.
    note = next(line for line in result.stderr.splitlines() if line.startswith(NOTE))
    assert all(str(target) in note for target in targets)
    assert "ROOST_BUILD_SANDBOX=off" in note
    # What the backend may write: its own temporary folder (private, not /tmp) and the
    # project it builds.
    [line] = [line for line in result.stderr.splitlines() if "wrote the temporary folder" in line]
    private = Path(line.split("wrote the temporary folder ", 1)[1])
    assert private != Path(tempfile.gettempdir())
    assert not private.exists()  # removed after the hook
    assert (project / "written-in-source.txt").read_text() == "build output\n"
    assert manifest(tmp_path / "venv") == before
    assert manifest(home) == home_before
    assert list(outside_tmp.iterdir()) == []


def test_with_the_sandbox_off_the_same_writes_succeed(tmp_path: Path, outside_tmp: Path) -> None:
    """The other half of the test above: the backend really writes when it may."""
    python = make_venv(tmp_path / "venv")
    home = tmp_path / "home"
    targets = [home / "written-in-home.txt", outside_tmp / "written-in-tmp.txt"]
    project = prying_project(tmp_path / "project", targets)

    result = roost_install(python, str(project), env=environment(home, ROOST_BUILD_SANDBOX="off"))

    assert result.returncode == 0, result.stderr
    for target in targets:
        assert target.read_text() == "written by the build\n"
    assert installed(python)["prying"] == "1.0"


def store_files(home: Path, relative: str) -> list[Path]:
    return list((home / ".cache" / "roost" / "unpacked").glob(f"*/tree/{relative}"))


@pytest.mark.parametrize("sandbox", ["auto", "off"])
def test_a_build_cannot_change_its_environment_and_so_the_store(
    tmp_path: Path, build_index: IndexServer, sandbox: str
) -> None:
    """The build environment's files are hard links into roost's content store: a write
    through one changes the store and every environment linked to it. Sandboxed, the
    write is refused; without the sandbox it reaches the store, which is why the build
    environment is not among the writable folders."""
    project = in_tree_project(tmp_path / "project", "tamper", "1.0")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["extra-dep"]\nbuild-backend = "backend"\n'
        'backend-path = ["."]\n'
    )
    source = IN_TREE_BACKEND.format(name="tamper", version="1.0") + TAMPERING
    (project / "backend.py").write_text(source)
    python = make_venv(tmp_path / "venv")
    home = tmp_path / "home"
    # The builds' scratch folder on the cache's file system, so the links are real ones.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = environment(home, ROOST_BUILD_SANDBOX=sandbox, TMPDIR=str(scratch))

    result = roost_install(python, "-i", build_index.url, str(project), env=env)

    [stored] = store_files(home, "extra_dep/__init__.py")
    if sandbox == "off":
        assert result.returncode == 0, result.stderr
        assert "# changed by a build" in stored.read_text()
    else:
        assert result.returncode == 1
        assert "PermissionError: [Errno 13] Permission denied" in result.stderr
        assert NOTE in result.stderr
        assert "# changed by a build" not in stored.read_text()


def test_a_setuptools_c_extension_builds_sandboxed(
    tmp_path: Path, build_index: IndexServer
) -> None:
    """The compiler writes its temporary files into the backend's TMPDIR, setuptools its
    build/ and egg-info into the project."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        pytest.skip(f"no C compiler: {cc!r} is not on PATH")
    python = make_venv(tmp_path / "venv")
    project = c_extension_project(tmp_path / "cext", "cext", "1.0")
    env = environment(tmp_path / "home", ROOST_BUILD_SANDBOX="require")

    result = roost_install(python, "-i", build_index.url, str(project), env=env, verbose=True)

    assert result.returncode == 0, result.stderr
    assert "build sandbox (Landlock ABI" in result.stderr + result.stdout
    check = "from cext import _speedups; print(_speedups.add(40, 2))"
    out = subprocess.run(
        [str(python), "-c", check], capture_output=True, text=True, timeout=TIMEOUT, check=True
    )
    assert out.stdout.strip() == "42"
    assert (project / "build").is_dir()


def test_a_pure_setuptools_project_builds_sandboxed(
    tmp_path: Path, build_index: IndexServer
) -> None:
    python = make_venv(tmp_path / "venv")
    project = pyproject_project(tmp_path / "plain", "plain", "2.0")
    env = environment(tmp_path / "home")

    result = roost_install(python, "-i", build_index.url, str(project), env=env)

    assert result.returncode == 0, result.stderr
    assert installed(python)["plain"] == "2.0"


def test_a_failure_the_sandbox_did_not_cause_gets_no_note(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv")
    project = in_tree_project(tmp_path / "bad", "badproj", "1.0")

    result = roost_install(python, "-C", "fail=1", str(project), env=environment(tmp_path / "h"))

    assert result.returncode == 1
    assert "backend: about to fail as asked" in result.stderr
    assert NOTE not in result.stderr


def test_an_unknown_mode_is_a_clear_error(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv")
    project = in_tree_project(tmp_path / "project", "modeproj", "1.0")
    before = manifest(tmp_path / "venv")
    env = environment(tmp_path / "home", ROOST_BUILD_SANDBOX="sometimes")

    result = roost_install(python, str(project), env=env)

    assert result.returncode == 1
    assert "ROOST_BUILD_SANDBOX" in result.stderr and "'sometimes'" in result.stderr
    assert "auto, require, off" in result.stderr
    assert "Traceback" not in result.stderr
    assert manifest(tmp_path / "venv") == before


# -- a kernel that says no -----------------------------------------------------------------

#: Runs argv[1:] with landlock_create_ruleset answering ENOSYS, as under a container
#: runtime whose seccomp profile predates Landlock: a real filter, installed in the
#: kernel, not a patched roost.
WITHOUT_LANDLOCK = """
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
program = b"".join([
    struct.pack("HBBI", 0x20, 0, 0, 0),                 # A = seccomp_data.nr
    struct.pack("HBBI", 0x15, 0, 1, 444),               # if A == 444 ...
    struct.pack("HBBI", 0x06, 0, 0, 0x00050000 | 38),   # ... return ENOSYS
    struct.pack("HBBI", 0x06, 0, 0, 0x7FFF0000),        # else allow
])
code = ctypes.create_string_buffer(program)
fprog = struct.pack("HxxxxxxP", len(program) // 8, ctypes.addressof(code))
fbuf = ctypes.create_string_buffer(fprog)
ul = ctypes.c_ulong
assert libc.prctl(38, ul(1), ul(0), ul(0), ul(0)) == 0, ctypes.get_errno()
assert libc.prctl(22, ul(2), fbuf, ul(0), ul(0)) == 0, ctypes.get_errno()
os.execv(sys.argv[1], sys.argv[1:])
"""


def without_landlock(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", WITHOUT_LANDLOCK, *ROOST_COMMAND, *args]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def test_without_landlock_builds_run_unsandboxed_and_verbose_says_so_once(
    tmp_path: Path, outside_tmp: Path
) -> None:
    python = make_venv(tmp_path / "venv")
    target = outside_tmp / "written-in-tmp.txt"
    first = prying_project(tmp_path / "first", [target])
    second = in_tree_project(tmp_path / "second", "second", "1.0")
    env = environment(tmp_path / "home")

    result = without_landlock(
        "-v", "install", "--python", str(python), str(first), str(second), env=env
    )

    assert result.returncode == 0, result.stderr
    assert target.read_text() == "written by the build\n"
    said = (result.stdout + result.stderr).count("build sandbox unavailable: ")
    assert said == 1, result.stderr
    assert "no Landlock (landlock_create_ruleset: ENOSYS)" in result.stderr + result.stdout
    assert installed(python).keys() >= {"prying", "second"}


def test_without_landlock_require_refuses_to_build(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv")
    project = in_tree_project(tmp_path / "project", "needy", "1.0")
    before = manifest(tmp_path / "venv")
    env = environment(tmp_path / "home", ROOST_BUILD_SANDBOX="require")

    result = without_landlock("install", "--python", str(python), str(project), env=env)

    assert result.returncode == 1
    assert "needs the build sandbox (ROOST_BUILD_SANDBOX=require)" in result.stderr
    assert "ENOSYS" in result.stderr
    assert "Traceback" not in result.stderr
    assert manifest(tmp_path / "venv") == before


# -- the launcher on its own -----------------------------------------------------------------

#: What the confined command tries, each in the folder given, printing one word per try.
TRIES = """
import os, sys
allowed, outside = sys.argv[1], sys.argv[2]
def attempt(name, action):
    try:
        action()
        print(name, "ok")
    except OSError as exc:
        print(name, "refused", exc.errno)
def write(path):
    with open(path, "w") as handle:
        handle.write("x")
attempt("write-allowed", lambda: write(os.path.join(allowed, "new.txt")))
attempt("mkdir-allowed", lambda: os.mkdir(os.path.join(allowed, "sub")))
attempt("rename-allowed", lambda: os.rename(
    os.path.join(allowed, "new.txt"), os.path.join(allowed, "sub", "moved.txt")))
attempt("devnull", lambda: write(os.devnull))
attempt("write-outside", lambda: write(os.path.join(outside, "new.txt")))
attempt("append-outside", lambda: open(os.path.join(outside, "kept.txt"), "a").close())
attempt("truncate-outside", lambda: os.truncate(os.path.join(outside, "kept.txt"), 0))
attempt("remove-outside", lambda: os.remove(os.path.join(outside, "kept.txt")))
attempt("mkdir-outside", lambda: os.mkdir(os.path.join(outside, "sub")))
attempt("symlink-outside", lambda: os.symlink("/etc", os.path.join(outside, "link")))
attempt("move-out", lambda: os.rename(
    os.path.join(allowed, "sub", "moved.txt"), os.path.join(outside, "moved.txt")))
attempt("read-outside", lambda: open(os.path.join(outside, "kept.txt")).read())
"""


def test_the_launcher_confines_writes_on_python_3_8(tmp_path: Path) -> None:
    python = need_pyenv("3.8")
    allowed = tmp_path / "allowed"
    outside = tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (outside / "kept.txt").write_text("kept")
    spec = json.dumps({"writable": [str(allowed), os.devnull, "/no/such/folder"]})
    command = [str(python), "-c", TRIES, str(allowed), str(outside)]

    out = subprocess.run(
        [str(python), "-I", "-S", str(LAUNCHER), spec, *command],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )

    results = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    for name in ("write-allowed", "mkdir-allowed", "rename-allowed", "devnull", "read-outside"):
        assert results[name] == "ok", out.stdout
    for name in ("write-outside", "append-outside", "remove-outside", "mkdir-outside"):
        assert results[name] == "refused 13", out.stdout
    assert results["symlink-outside"] == "refused 13", out.stdout
    # truncate(2) is a right of its own from ABI 3, moving between folders from ABI 2
    # (refused with EXDEV, so tools fall back to copying).
    assert results["truncate-outside"] == "refused 13", out.stdout
    assert results["move-out"] in ("refused 13", "refused 18"), out.stdout
    assert (outside / "kept.txt").read_text() == "kept"
    assert sorted(p.name for p in outside.iterdir()) == ["kept.txt"]
    assert (allowed / "sub" / "moved.txt").read_text() == "x"


def test_the_launcher_runs_unconfined_without_landlock_unless_required(tmp_path: Path) -> None:
    python = need_pyenv("3.8")
    spec = {"writable": [str(tmp_path / "allowed")], "require": True}
    touched = tmp_path / "outside.txt"
    command = [str(python), "-c", f"open({str(touched)!r}, 'w').write('x')"]
    wrapper = [sys.executable, "-c", WITHOUT_LANDLOCK, str(python), "-I", "-S", str(LAUNCHER)]
    runs = {}
    for require in (True, False):
        spec["require"] = require
        runs[require] = subprocess.run(
            [*wrapper, json.dumps(spec), *command],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        if require:
            assert not touched.exists()
    assert runs[True].returncode == _build_sandbox.REQUIRED_EXIT
    assert "the build sandbox is required but unavailable" in runs[True].stderr
    assert runs[False].returncode == 0, runs[False].stderr
    assert "build sandbox unavailable: this kernel has no Landlock" in runs[False].stderr
    assert touched.read_text() == "x"


def test_folders_the_setting_lists_become_writable(tmp_path: Path, outside_tmp: Path) -> None:
    """``build-sandbox-writable`` (a tool's cache, say) opens those folders and no other;
    set in roost's config file, or as ROOST_BUILD_SANDBOX_WRITABLE."""
    home = tmp_path / "home"
    allowed = home / "tool-cache"
    allowed.mkdir(parents=True)
    config = tmp_path / "roost.toml"
    config.write_text(f"build-sandbox-writable = {json.dumps(str(allowed))}\n")
    for extra in (
        {"ROOST_CONFIG_FILE": str(config)},
        {"ROOST_BUILD_SANDBOX_WRITABLE": str(allowed)},
    ):
        python = make_venv(tmp_path / f"venv-{len(extra)}-{sorted(extra)[0]}")
        project = prying_project(
            tmp_path / f"project-{sorted(extra)[0]}", [allowed / f"{sorted(extra)[0]}.txt"]
        )
        result = roost_install(python, str(project), env=environment(home, **extra))
        assert result.returncode == 0, result.stderr
        assert (allowed / f"{sorted(extra)[0]}.txt").read_text() == "written by the build\n"
    # The listed folder opens nothing beside it.
    python = make_venv(tmp_path / "venv-outside")
    project = prying_project(tmp_path / "project-outside", [outside_tmp / "x.txt"])
    env = environment(home, ROOST_BUILD_SANDBOX_WRITABLE=str(allowed))
    result = roost_install(python, str(project), env=env)
    assert result.returncode == 1
    assert not (outside_tmp / "x.txt").exists()
    assert "ROOST_BUILD_SANDBOX_WRITABLE" in result.stderr


def test_a_listed_folder_that_does_not_exist_is_a_clear_error(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv")
    project = prying_project(tmp_path / "project", [])
    missing = tmp_path / "no-such-folder"
    env = environment(tmp_path / "home", ROOST_BUILD_SANDBOX_WRITABLE=str(missing))
    result = roost_install(python, str(project), env=env)
    assert result.returncode == 1
    assert f"lists '{missing}', which is not a folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert "prying" not in installed(python)
