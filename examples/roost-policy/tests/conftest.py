"""Shared helpers: a policy file written for the test, and roost run against the test's
index and venv. The fixtures themselves (make_wheel, roost_index, roost_venv, run_roost)
come from roost.testing."""

from __future__ import annotations

import datetime
import re
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from roost.testing import IndexServer, RoostRunner, Venv

# Loaded by name as well as through roost's pytest11 entry point: an editable roost
# installed before that entry point existed would not register it.
pytest_plugins = ["roost.testing"]

NOW = datetime.datetime.now(datetime.timezone.utc)


def days_ago(days: float) -> datetime.datetime:
    """An upload time *days* before the tests started."""
    return NOW - datetime.timedelta(days=days)


def says_no_match(stderr: str, project: str) -> bool:
    """Whether roost's error says nothing fits *project* (its "no matching distribution"
    message, whichever of its spellings)."""
    pattern = rf"no matching distribution (found )?for {re.escape(project)}\b"
    return re.search(pattern, stderr, re.IGNORECASE) is not None


@pytest.fixture
def write_policy(tmp_path: Path) -> Callable[..., Path]:
    """``write_policy(text, name="policy.toml")``: the dedented *text* as a file."""

    def write(text: str, name: str = "policy.toml") -> Path:
        path = tmp_path / "policies" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


Install = Callable[..., CompletedProcess[str]]


@pytest.fixture
def install(roost_index: IndexServer, run_roost: RoostRunner) -> Install:
    """``install(venv, *args, policy=None, plugin_args=(), env=None, cwd=None)``: ``roost
    install`` into *venv* from the test's index, with ``--policy`` when given."""

    def run(
        venv: Venv,
        *args: str,
        policy: Path | None = None,
        plugin_args: tuple[str, ...] = (),
        env: Mapping[str, str | None] | None = None,
        cwd: Path | None = None,
    ) -> CompletedProcess[str]:
        command = [*plugin_args, "install", "--python", str(venv.python)]
        command += ["-i", roost_index.url]
        if policy is not None:
            command += ["--policy", str(policy)]
        return run_roost(*command, *args, env=env, cwd=cwd)

    return run
