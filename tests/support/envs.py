"""Real interpreters and environments for tests: venvs, pyenv Pythons, snapshots, roost runs.

``clean_env``, ``make_venv`` and ``installed`` live in :mod:`roost.testing.environments`
(plugin authors use them through roost.testing's fixtures) and are re-exported here.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from roost.testing.environments import clean_env, installed, make_venv

if TYPE_CHECKING:
    from roost.manager import Manager

__all__ = [
    "DEBIAN",
    "PYENV_ROOT",
    "ROOST_COMMAND",
    "clean_env",
    "dry_run_install",
    "installed",
    "isolated_manager",
    "make_venv",
    "manifest",
    "need_debian",
    "need_pyenv",
    "plugin_env",
    "pyenv_python",
    "run_pip",
    "run_roost",
]

PYENV_ROOT: Path = Path.home() / ".pyenv" / "versions"

#: The command that runs roost's CLI in the interpreter running the tests.
ROOST_COMMAND = [
    sys.executable,
    "-c",
    "import sys; from roost.cli.main import main; sys.exit(main())",
]


def pyenv_python(version: str) -> Path | None:
    """The newest ``~/.pyenv/versions/<version>.*/bin/python`` (or exactly *version*)."""
    found: list[tuple[Version, Path]] = []
    if not PYENV_ROOT.is_dir():
        return None
    for folder in PYENV_ROOT.iterdir():
        if folder.name != version and not folder.name.startswith(version + "."):
            continue
        python = folder / "bin" / "python"
        try:
            found.append((Version(folder.name), python))
        except InvalidVersion:
            continue
    found = [item for item in found if item[1].exists()]
    return max(found)[1] if found else None


#: Debian's externally managed system Python.
DEBIAN = Path("/usr/bin/python3")


def need_pyenv(version: str) -> Path:
    """:func:`pyenv_python`, or skip the test saying which interpreter is missing."""
    import pytest

    python = pyenv_python(version)
    if python is None:
        pytest.skip(f"no interpreter at {PYENV_ROOT}/{version}.*/bin/python")
    return python


def need_debian() -> Path:
    """Debian's python3, or skip the test saying it is missing."""
    import pytest

    if not DEBIAN.exists():
        pytest.skip(f"no interpreter at {DEBIAN}")
    return DEBIAN


def manifest(root: Path) -> dict[str, tuple[int, str]]:
    """Every file under *root* (relative posix path) -> (size, sha256 hex).

    Symlinks map to ``(-1, "-> <target>")`` and are not followed; directories map to
    ``(0, "<dir>")`` under a key ending in ``/``, so an empty directory left behind
    also counts as a change.
    """
    result: dict[str, tuple[int, str]] = {}
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        for name in dirs + files:
            path = base / name
            key = path.relative_to(root).as_posix()
            if path.is_symlink():
                result[key] = (-1, "-> " + os.readlink(path))
            elif path.is_dir():
                result[key + "/"] = (0, "<dir>")
            else:
                data = path.read_bytes()
                result[key] = (len(data), hashlib.sha256(data).hexdigest())
    return dict(sorted(result.items()))


def dry_run_install(
    url: str,
    tmp_path: Path,
    *args: str,
    env: dict[str, str],
    check: bool = True,
    verbose: bool = False,
) -> subprocess.CompletedProcess[str]:
    """``roost install --dry-run`` of *args* from the index at *url*, for the test
    interpreter into a --target folder under *tmp_path* (nothing installed there)."""
    return run_roost(
        *(["-v"] if verbose else []),
        "install",
        "--dry-run",
        "--python",
        sys.executable,
        "--target",
        str(tmp_path / "target"),
        "-i",
        url,
        *args,
        env=env,
        check=check,
    )


def isolated_manager() -> Manager:
    """roost's plugin manager with every built-in but pip_config (so the machine's pip
    configuration stays out) and no third-party plugins; warnings dropped."""
    from roost.manager import BUILTIN_PLUGINS, Manager

    builtins = tuple(name for name in BUILTIN_PLUGINS if name != "pip_config")
    return Manager.build(warn=lambda _: None, builtins=builtins, autoload=False)


def run_pip(
    python: Path, *args: str, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    """The host's pip acting on *python*'s environment (pip's ``--python``), run from
    the environment's HOME so no file of the working directory is picked up."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=env.get("HOME"),
    )
    if check and result.returncode != 0:
        raise AssertionError(f"pip {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def plugin_env(
    tmp_path: Path, module: str, source: str, *, home: str = "home", **extra: str
) -> dict[str, str]:
    """:func:`clean_env` (HOME in *tmp_path*/*home*) with a test plugin, *module*, written
    from *source* into *tmp_path*/plugins and put on PYTHONPATH for ``-p module``."""
    folder = tmp_path / home
    folder.mkdir(exist_ok=True)
    plugins = tmp_path / "plugins"
    plugins.mkdir(exist_ok=True)
    (plugins / f"{module}.py").write_text(source)
    env = clean_env(folder)
    env["PYTHONPATH"] = str(plugins)
    env.update(extra)
    return env


def run_roost(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    input: str | None = None,
    check: bool | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run roost's CLI (``roost.cli.main.main``) in the interpreter running the tests.

    *env* defaults to :func:`clean_env` with a fresh temporary HOME (removed after the
    run). ``check=True`` turns a non-zero exit into an AssertionError that shows the
    output.
    """
    with tempfile.TemporaryDirectory(prefix="roost-home-") as home:
        result = subprocess.run(
            [*ROOST_COMMAND, *args],
            env=env if env is not None else clean_env(Path(home)),
            cwd=cwd,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if check and result.returncode != 0:
        raise AssertionError(
            f"roost {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout}--- stderr ---\n{result.stderr}"
        )
    return result
