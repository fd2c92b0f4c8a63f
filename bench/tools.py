"""The three installers under test, how each is told to install, and a config-free environment.

Every tool gets the same index URL, its own cache folder and the same target venv
kind (``python -m venv --without-pip``), and none of them sees the machine's
configuration: pip runs ``--isolated``, uv with ``UV_NO_CONFIG=1``, roost with
``PIP_CONFIG_FILE=/dev/null``; all three with a temporary HOME and no ``PIP_*``,
``UV_*``, ``ROOST_*`` or ``XDG_*`` variables. Bytecode compilation is off for all three
(uv and roost by default, pip with ``--no-compile``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

TOOLS = ("roost", "pip", "uv")


def _session_bin(name: str) -> str:
    # The session's venv first: that is where nox installed the tools being measured.
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"bench: {name} is not installed in this environment")
    return found


def command_prefix(tool: str) -> list[str]:
    """The argv that starts *tool* from the benchmark's own environment."""
    if tool == "roost":
        return [_session_bin("roost")]
    if tool == "pip":
        return [sys.executable, "-m", "pip"]
    if tool == "uv":
        return [_session_bin("uv")]
    raise ValueError(f"unknown tool {tool!r}")


def install_command(
    tool: str,
    venv_python: Path,
    index_url: str,
    cache_dir: Path,
    requirements: Sequence[str],
    *,
    dry_run: bool = False,
) -> list[str]:
    """The argv that installs *requirements* into the venv of *venv_python* with *tool*."""
    prefix = command_prefix(tool)
    dry = ["--dry-run"] if dry_run else []
    if tool == "roost":
        options = ["--python", str(venv_python), "-i", index_url, "--cache-dir", str(cache_dir)]
        return [*prefix, "install", *options, *dry, *requirements]
    if tool == "pip":
        return [
            *prefix,
            "--python",
            str(venv_python),
            "install",
            "--isolated",
            "--disable-pip-version-check",
            "--no-compile",
            "-i",
            index_url,
            "--cache-dir",
            str(cache_dir),
            *dry,
            *requirements,
        ]
    options = ["--python", str(venv_python), "--index-url", index_url]
    return [
        *prefix,
        "pip",
        "install",
        *options,
        "--cache-dir",
        str(cache_dir),
        *dry,
        *requirements,
    ]


def isolated_env(home: Path) -> dict[str, str]:
    """``os.environ`` minus every installer setting, HOME and XDG folders inside *home*."""
    dropped = {"VIRTUAL_ENV", "PYTHONUSERBASE", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX"}
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_", "ROOST_", "XDG_")) and key not in dropped
    }
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "XDG_CONFIG_DIRS": str(home / ".xdg-config-dirs"),
            "PIP_CONFIG_FILE": os.devnull,
            "UV_NO_CONFIG": "1",
            "UV_PYTHON_DOWNLOADS": "never",
        }
    )
    return env


def make_venv(path: Path, env: dict[str, str]) -> Path:
    """A fresh ``--without-pip`` venv of the benchmark's interpreter; returns its python."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(path)],
        check=True,
        capture_output=True,
        env=env,
    )
    return path / "bin" / "python"


def installed_count(venv: Path) -> int:
    """How many distributions (``*.dist-info``) the venv's site-packages holds."""
    return sum(1 for _ in venv.glob("lib/python*/site-packages/*.dist-info"))


def version_of(tool: str, env: dict[str, str]) -> str:
    """What ``<tool> --version`` says (first line), or why it could not say."""
    result = subprocess.run(
        [*command_prefix(tool), "--version"], check=False, capture_output=True, text=True, env=env
    )
    out = (result.stdout or result.stderr).strip().splitlines()
    # "pip X from <path> (python Y)" and "uv X (<target>)": name and version suffice.
    return " ".join(out[0].split()[:2]) if out else f"exit {result.returncode}"
