"""A Dockerfile-style script written for pip runs unchanged with `pip` replaced by roost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.envs import ROOST_COMMAND, clean_env
from tests.support.server import IndexServer

SCRIPT = """\
set -eu
pip install -r requirements.txt
pip freeze > frozen.txt
pip check > check.txt
pip uninstall -y alpha
pip list --format json > list.json
pip check > broken.txt || echo "check exit $?" > check-exit.txt
"""


def run_script(workdir: Path, venv: Path, pip: list[str], index_url: str, home: Path) -> None:
    """Run SCRIPT in an activated venv whose `pip` is *pip*."""
    shims = workdir / "shims"
    shims.mkdir()
    command = " ".join(f"'{part}'" for part in pip)
    (shims / "pip").write_text(f'#!/bin/sh\nexec {command} "$@"\n')
    (shims / "pip").chmod(0o755)
    (workdir / "requirements.txt").write_text("beta\ngamma[fast]\n")
    env = clean_env(home)
    env.update(
        {
            "VIRTUAL_ENV": str(venv),
            "PATH": f"{shims}:{venv / 'bin'}:{os.environ['PATH']}",
            "PIP_INDEX_URL": index_url,
            "PIP_CONFIG_FILE": os.devnull,
        }
    )
    subprocess.run(["sh", "-c", SCRIPT], cwd=workdir, env=env, check=True, timeout=300)


def test_pip_script_runs_unchanged_with_roost(tmp_path: Path, index_server: IndexServer) -> None:
    results = {}
    for tool in ("pip", "roost"):
        work = tmp_path / tool
        work.mkdir()
        venv = work / "venv"
        if tool == "pip":
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        else:
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
            pip = list(ROOST_COMMAND)
        run_script(work, venv, pip, index_server.url, tmp_path / f"home-{tool}")
        listing = json.loads((work / "list.json").read_text())
        results[tool] = {
            "frozen": (work / "frozen.txt").read_text(),
            "check": (work / "check.txt").read_text(),
            "broken": (work / "broken.txt").read_text(),
            "check-exit": (work / "check-exit.txt").read_text(),
            # pip's own venv also lists pip; the rest must be equal.
            "list": [row for row in listing if row["name"] not in {"pip", "setuptools"}],
        }
    assert results["roost"] == results["pip"]
    assert results["roost"]["frozen"] == "alpha==1.1\nbeta==1.0\ndelta==1.0\ngamma==1.0\n"
    assert "beta 1.0 requires alpha, which is not installed." in results["roost"]["broken"]
