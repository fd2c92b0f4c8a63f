"""The lock scenario: installing from a ``pylock.toml`` (PEP 751), without resolving.

The lock is written once, untimed, by ``roost lock`` for the requirements of a set
(the large set by default) against the loopback index, for the benchmark's own
interpreter. Then each tool makes a fresh venv exactly that set: roost with ``roost
sync``, uv with ``uv pip sync``, pip with ``pip install -r pylock.toml`` (pip has no
sync; into a fresh venv the two mean the same).

*cold*: an empty cache. *warm*: the cache of an untimed priming install (the second
image built from the same lock on a CI runner). Runs are interleaved as in the other sets.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.building import cold_and_warm
from bench.measure import Sample, run_measured
from bench.tools import command_prefix, installed_count, isolated_env, make_venv

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

#: The modes that mean something for a lock (it never resolves: no resolve-only mode).
LOCK_MODES = ("cold", "warm")


def write_lock(url: str, requirements: list[str], scratch: Path, env: dict[str, str]) -> Path:
    """``roost lock`` of *requirements* for a fresh venv of this interpreter; its path."""
    venv = make_venv(scratch / "lock-venv", env)
    lock = scratch / "pylock.toml"
    command = [
        *command_prefix("roost"),
        "lock",
        "--python",
        str(venv),
        "-i",
        url,
        "--cache-dir",
        str(scratch / "lock-cache"),
        "-o",
        str(lock),
        *requirements,
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench: roost lock failed (exit {done.returncode}):\n{done.stderr}")
    return lock


def lock_install_command(
    tool: str, venv_python: Path, lock: Path, index_url: str, cache_dir: Path
) -> list[str]:
    """The argv that makes the venv of *venv_python* exactly what *lock* holds."""
    prefix = command_prefix(tool)
    if tool == "roost":
        options = ["--python", str(venv_python), "-i", index_url, "--cache-dir", str(cache_dir)]
        return [*prefix, "sync", *options, str(lock)]
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
            "-r",
            str(lock),
        ]
    options = ["--python", str(venv_python), "--index-url", index_url]
    return [*prefix, "pip", "sync", *options, "--cache-dir", str(cache_dir), str(lock)]


def bench_lock(
    url: str,
    requirements: list[str],
    *,
    tools: list[str],
    modes: list[str],
    runs: int,
    scratch: Path,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The cold and warm modes of installing from a lock of *requirements* (other
    *modes* are left out); ``{mode: {"tools": ..., "ratios": ...}}``."""
    modes = [mode for mode in modes if mode in LOCK_MODES]
    env = isolated_env(scratch / "home")
    lock = write_lock(url, requirements, scratch, env)
    with lock.open("rb") as file:
        expected = len(tomllib.load(file)["packages"])
    say(f"  lock: {lock} holds {expected} packages")

    def install(tool: str, mode: str, run: int) -> tuple[Sample, Path]:
        if mode == "cold":
            cache = scratch / f"cold-cache-{tool}-{run}"
        else:
            cache = scratch / f"cache-{tool}"
        venv = scratch / (f"primed-{tool}" if mode == "primed" else f"{mode}-{tool}-{run}")
        make_venv(venv, env)
        command = lock_install_command(tool, venv / "bin" / "python", lock, url, cache)
        sample = run_measured(command, env, scratch)
        found = installed_count(venv)
        if sample.ok and found != expected:
            # Exit 0 without the locked set is no install worth timing.
            why = f"exit 0, but {found} distributions installed instead of {expected}"
            sample = dataclasses.replace(sample, returncode=-2, stderr_tail=why)
        return sample, venv

    return cold_and_warm("lock", install, tools=tools, modes=modes, runs=runs, say=say)
