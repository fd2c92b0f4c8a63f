"""The building scenario: installing a local project whose dependency ships only an sdist.

The project (:func:`write_project`) is a directory with a ``pyproject.toml`` whose
backend is setuptools and whose one dependency, docopt, publishes no wheel. Each tool
installs that directory into a fresh venv from the loopback index, which holds
docopt's sdist and the wheels the builds need (bench/prepare.py, ``BUILD_SET``): so an
install makes two PEP 517 builds, each in an isolated build environment that the tool
fills with setuptools from the same index.

*cold*: a fresh copy of the project (never built), an empty cache. *warm*: the copy
of the project and the cache of an untimed priming install (a developer installing
the same checkout again into a new venv). setuptools builds in the source tree
(``build/``, ``*.egg-info``), so every tool gets copies of its own and never builds in
another tool's leftovers. Runs are interleaved as in the other sets.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.measure import Sample, run_measured, skipped
from bench.prepare import BUILD_SDISTS
from bench.report import mode_ratios, progress_line, summarise
from bench.tools import install_command, installed_count, isolated_env, make_venv

#: The modes that mean something for a build (no-op and resolve-only do not).
BUILD_MODES = ("cold", "warm")
PROJECT_NAME = "bench-project"
#: What the report says the set is.
TITLE = (
    f"a local setuptools project depending on {', '.join(f'`{p}`' for p in BUILD_SDISTS)} "
    "(sdist only)"
)

PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "1.0"
description = "The project roost's benchmark builds"
requires-python = ">=3.8"
dependencies = [{dependencies}]

[project.scripts]
{name} = "{module}.cli:main"
"""

CLI = '''\
"""Usage: {name} [--loud] <word>..."""

from docopt import docopt


def main():
    arguments = docopt(__doc__)
    text = " ".join(arguments["<word>"])
    print(text.upper() if arguments["--loud"] else text)
'''


def write_project(root: Path, dependencies: tuple[str, ...] = BUILD_SDISTS) -> Path:
    """Write the benchmark's project (src layout, a console script) under *root*."""
    module = PROJECT_NAME.replace("-", "_")
    package = root / "src" / module
    package.mkdir(parents=True, exist_ok=True)
    listed = ", ".join(f'"{dependency}"' for dependency in dependencies)
    (root / "pyproject.toml").write_text(
        PYPROJECT.format(name=PROJECT_NAME, module=module, dependencies=listed)
    )
    (package / "__init__.py").write_text(f'"""{PROJECT_NAME}."""\n')
    (package / "cli.py").write_text(CLI.format(name=PROJECT_NAME))
    return root


def tool_env(env: dict[str, str], tool: str, cache: Path) -> dict[str, str]:
    """*env* for one run of *tool* whose cache is *cache*.

    pip installs a build's requirements with a pip subprocess that is not given
    ``--cache-dir``, so without ``PIP_CACHE_DIR`` it would fill the default cache, shared
    by every run, and its "cold" runs would not be cold. Anything else a build caches
    under the XDG cache folder lands inside the run's cache too.
    """
    tuned = {**env, "XDG_CACHE_HOME": str(cache / "xdg")}
    if tool == "pip":
        tuned["PIP_CACHE_DIR"] = str(cache)
    return tuned


def bench_build(
    url: str,
    *,
    tools: list[str],
    modes: list[str],
    runs: int,
    scratch: Path,
    say: Callable[[str], None] = print,
    dependencies: tuple[str, ...] = BUILD_SDISTS,
) -> dict[str, Any]:
    """The cold and warm modes of the building scenario (others in *modes* are left
    out); ``{mode: {"tools": ..., "ratios": ...}}`` as the requirement sets give.

    *dependencies* are the project's (the tests give a project of their own).
    """
    modes = [mode for mode in modes if mode in BUILD_MODES]
    env = isolated_env(scratch / "home")
    template = write_project(scratch / "project-template", dependencies)
    # What a successful install leaves: the project and each dependency (all leaves).
    expected = 1 + len(dependencies)

    def install(tool: str, project: Path, venv: Path, cache: Path) -> Sample:
        # A fresh project copy costs a few milliseconds, outside the timed command.
        if not project.exists():
            shutil.copytree(template, project)
        make_venv(venv, env)
        command = install_command(tool, venv / "bin" / "python", url, cache, [str(project)])
        sample = run_measured(command, tool_env(env, tool, cache), scratch)
        found = installed_count(venv)
        if sample.ok and found != expected:
            # Exit 0 without the project and its dependencies is no install worth timing.
            why = f"exit 0, but {found} distributions installed instead of {expected}"
            return dataclasses.replace(sample, returncode=-2, stderr_tail=why)
        return sample

    def run(tool: str, mode: str, run: int) -> tuple[Sample, Path]:
        if mode == "primed":
            project, cache = scratch / f"project-{tool}", scratch / f"cache-{tool}"
            venv = scratch / f"primed-{tool}"
        elif mode == "cold":
            project = scratch / f"cold-project-{tool}-{run}"
            cache = scratch / f"cold-cache-{tool}-{run}"
            venv = scratch / f"{mode}-{tool}-{run}"
        else:
            project, cache = scratch / f"project-{tool}", scratch / f"cache-{tool}"
            venv = scratch / f"{mode}-{tool}-{run}"
        return install(tool, project, venv, cache), venv

    return cold_and_warm("build", run, tools=tools, modes=modes, runs=runs, say=say)


def cold_and_warm(
    label: str,
    install: Callable[[str, str, int], tuple[Sample, Path]],
    *,
    tools: list[str],
    modes: list[str],
    runs: int,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Cold and warm runs of a scenario, interleaved across *tools*.

    ``install(tool, mode, run)`` makes one install and returns its sample and the venv
    it filled; *mode* is ``"primed"`` for the untimed install that fills each tool's
    warm cache (made first, once per tool, when *modes* has ``warm``), else ``"cold"``
    or ``"warm"``. Returns ``{mode: {"tools": ..., "ratios": ...}}``.
    """
    primed: dict[str, Sample] = {}
    if "warm" in modes:
        for tool in tools:
            primed[tool], _venv = install(tool, "primed", 0)
            state = "ok" if primed[tool].ok else "FAILED"
            say(f"  {label}: primed {tool} ({state}, {primed[tool].seconds:.2f} s)")
    results: dict[str, Any] = {}
    for mode in modes:
        samples: dict[str, list[Sample]] = {tool: [] for tool in tools}
        counts: dict[str, list[int]] = {tool: [] for tool in tools}
        for run in range(runs):
            for tool in tools:
                if mode == "warm" and not primed[tool].ok:
                    samples[tool].append(
                        skipped("priming install failed:\n" + primed[tool].stderr_tail)
                    )
                    continue
                sample, venv = install(tool, mode, run)
                samples[tool].append(sample)
                counts[tool].append(installed_count(venv))
                say(progress_line(label, mode, tool, sample, run=run, runs=runs))
        summary = {tool: summarise(samples[tool], counts[tool]) for tool in tools}
        results[mode] = {"tools": summary, "ratios": mode_ratios(summary)}
    return results
