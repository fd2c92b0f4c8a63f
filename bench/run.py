"""``nox -s bench``: roost against pip and uv on fixed requirement sets, served on loopback.

Usage: ``python -m bench.run [--runs N] [--sets small,medium,large,build]
[--modes cold,warm,noop,resolve] [--tools roost,pip,uv] [--output PATH]``.

Modes: *cold* (fresh venv, empty cache of the tool's own), *warm* (fresh venv, the
tool's cache filled by an untimed priming install), *noop* (the primed venv: everything
already installed), *resolve* (``--dry-run`` into an empty venv, warm cache). Runs are
interleaved (roost, pip, uv, roost, pip, uv, ...) so drift on the machine hits every
tool alike. A failed run is recorded with its stderr tail and the benchmark goes on.

The *build* set is not a requirement set: it installs a local project that depends on
an sdist-only project, cold and warm only (bench/building.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.building import BUILD_MODES, TITLE, bench_build
from bench.locking import LOCK_MODES, bench_lock
from bench.measure import Sample, run_measured, skipped
from bench.prepare import ALL_SETS, BUILD_SDISTS, BUILD_SET, LOCK_OF, LOCK_SET, SETS, download_set
from bench.report import MODES, check_targets, markdown, mode_ratios, progress_line, summarise
from bench.server import serve
from bench.static_index import write_index
from bench.tools import (
    TOOLS,
    command_prefix,
    install_command,
    installed_count,
    isolated_env,
    make_venv,
    version_of,
)

ROOT = Path(__file__).resolve().parent.parent


def _csv(choices: Sequence[str]) -> Any:
    def parse(text: str) -> list[str]:
        items = [item.strip() for item in text.split(",") if item.strip()]
        unknown = [item for item in items if item not in choices]
        if unknown or not items:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}")
        return items

    return parse


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The benchmark's options (``nox -s bench -- --runs 3 --sets small,medium``)."""
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per tool and mode")
    parser.add_argument("--sets", type=_csv(ALL_SETS), default=list(ALL_SETS))
    parser.add_argument("--modes", type=_csv(MODES), default=list(MODES))
    parser.add_argument("--tools", type=_csv(TOOLS), default=list(TOOLS))
    parser.add_argument("--startup-runs", type=int, default=20)
    parser.add_argument("--bench-dir", type=Path, default=ROOT / ".bench")
    parser.add_argument(
        "--output", type=Path, default=None, help="default: <bench-dir>/results.json"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def _say(text: str) -> None:
    print(text, flush=True)


def bench_set(
    name: str,
    url: str,
    *,
    tools: list[str],
    modes: list[str],
    runs: int,
    scratch: Path,
) -> dict[str, Any]:
    """Every mode of one requirement set; ``{mode: {"tools": ..., "ratios": ...}}``."""
    requirements = SETS[name]
    env = isolated_env(scratch / "home")
    primed: dict[str, Sample] = {}
    if any(mode != "cold" for mode in modes):
        for tool in tools:
            venv = make_venv(scratch / f"primed-{tool}", env)
            command = install_command(tool, venv, url, scratch / f"cache-{tool}", requirements)
            primed[tool] = run_measured(command, env, scratch)
            state = "ok" if primed[tool].ok else "FAILED"
            _say(f"  {name}: primed {tool} ({state}, {primed[tool].seconds:.2f} s)")
    results: dict[str, Any] = {}
    for mode in modes:
        samples: dict[str, list[Sample]] = {tool: [] for tool in tools}
        counts: dict[str, list[int]] = {tool: [] for tool in tools}
        empty: dict[str, Path] = {}
        for run in range(runs):
            for tool in tools:
                if mode != "cold" and not primed[tool].ok:
                    samples[tool].append(
                        skipped("priming install failed:\n" + primed[tool].stderr_tail)
                    )
                    continue
                cache = scratch / f"cache-{tool}"
                if mode == "cold":
                    cache = scratch / f"cold-cache-{tool}-{run}"
                if mode == "noop":
                    venv = scratch / f"primed-{tool}"
                elif mode == "resolve":
                    if tool not in empty:
                        empty[tool] = scratch / f"empty-{tool}"
                        make_venv(empty[tool], env)
                    venv = empty[tool]
                else:
                    venv = scratch / f"{mode}-{tool}-{run}"
                    make_venv(venv, env)
                command = install_command(
                    tool,
                    venv / "bin" / "python",
                    url,
                    cache,
                    requirements,
                    dry_run=mode == "resolve",
                )
                sample = run_measured(command, env, scratch)
                samples[tool].append(sample)
                if mode in ("cold", "warm"):
                    counts[tool].append(installed_count(venv))
                # Nothing is deleted until the benchmark ends: see _set_aside.
                _say(progress_line(name, mode, tool, sample, run=run, runs=runs))
        tools_summary = {tool: summarise(samples[tool], counts[tool]) for tool in tools}
        results[mode] = {"tools": tools_summary, "ratios": mode_ratios(tools_summary)}
    return results


def _set_aside(work: Path) -> None:
    """Rename a previous run's work folder out of the way, to be deleted at the end.

    Deleting thousands of files makes creating files slower for minutes afterwards on
    an ext4 without a journal, as these machines have (perf: ``__ext4_new_inode`` ->
    ``find_inode_bit`` -> ``recently_deleted`` takes most of the time of every create,
    skipping inodes freed in the last 60 to 300 s): 2,000 creates took 0.04 s before
    an ``rm -rf`` of a venv and 0.5 to 1 s after it. Deleting a venv between timed runs
    would slow down whichever tool runs next, so the benchmark deletes nothing until
    every run is done.
    """
    if work.exists():
        work.rename(work.with_name(f"{work.name}-old-{time.time_ns()}"))


def _clean_up(bench_dir: Path) -> None:
    for old in bench_dir.glob("work*"):
        shutil.rmtree(old, ignore_errors=True)


def measure_startup(runs: int, env: dict[str, str], cwd: Path) -> dict[str, float | None]:
    """Median wall time of ``roost --version`` and of ``python -c pass``, interleaved."""
    roost: list[float] = []
    python: list[float] = []
    for _ in range(runs):
        for command, into in (
            ([*command_prefix("roost"), "--version"], roost),
            ([sys.executable, "-c", "pass"], python),
        ):
            started = time.perf_counter()
            subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=True)
            into.append(time.perf_counter() - started)
    roost_s, python_s = statistics.median(roost), statistics.median(python)
    return {"roost_s": roost_s, "python_s": python_s, "ratio": roost_s / python_s}


#: What the report says the lock set is.
LOCK_TITLE = (
    f"installing the lock (pylock.toml, written by roost lock) of "
    f"{', '.join(f'`{p}`' for p in SETS[LOCK_OF])}: roost sync, uv pip sync, "
    "pip install -r"
)


def set_requirements(name: str) -> list[str]:
    """What set *name* installs (for the lock set: what its lock was written for)."""
    if name == BUILD_SET:
        return list(BUILD_SDISTS)
    return list(SETS[LOCK_OF if name == LOCK_SET else name])


def main(argv: Sequence[str] | None = None) -> int:
    """Prepare the indexes, run every set, print and write the results."""
    args = parse_args(argv)
    # SIGTERM as an exception, so the tool being measured is stopped with us.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    bench_dir: Path = args.bench_dir.resolve()
    output: Path = args.output or bench_dir / "results.json"
    for name in args.sets:
        files = download_set(name, bench_dir / "wheels" / name)
        entries = write_index(files, bench_dir / "index" / name)
        sdists = sum(1 for entry in entries if entry.metadata_sha256 is None)
        _say(f"bench: set {name}: {len(entries) - sdists} wheels, {sdists} sdists indexed")
    work = bench_dir / "work"
    _set_aside(work)
    env = isolated_env(work / "home")
    results: dict[str, Any] = {
        "meta": {
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_start": list(os.getloadavg()),
            "runs": args.runs,
            "versions": {tool: version_of(tool, env) for tool in args.tools},
        },
        "requirements": {name: set_requirements(name) for name in args.sets},
        "titles": {
            name: title
            for name, title in ((BUILD_SET, TITLE), (LOCK_SET, LOCK_TITLE))
            if name in args.sets
        },
        "sets": {},
    }
    if "roost" in args.tools:
        results["startup"] = measure_startup(args.startup_runs, env, work)
    with serve(bench_dir / "index") as base:
        for name in args.sets:
            if name == BUILD_SET:
                if not set(args.modes) & set(BUILD_MODES):
                    _say(f"bench: set {name} skipped: its modes are {', '.join(BUILD_MODES)}")
                    continue
                _say(f"bench: set {name}: {TITLE}")
                results["sets"][name] = bench_build(
                    f"{base}/{name}/simple/",
                    tools=args.tools,
                    modes=args.modes,
                    runs=args.runs,
                    scratch=work / name,
                    say=_say,
                )
                continue
            if name == LOCK_SET:
                if not set(args.modes) & set(LOCK_MODES):
                    _say(f"bench: set {name} skipped: its modes are {', '.join(LOCK_MODES)}")
                    continue
                _say(f"bench: set {name}: {LOCK_TITLE}")
                results["sets"][name] = bench_lock(
                    f"{base}/{name}/simple/",
                    set_requirements(name),
                    tools=args.tools,
                    modes=args.modes,
                    runs=args.runs,
                    scratch=work / name,
                    say=_say,
                )
                continue
            _say(f"bench: set {name} ({' '.join(SETS[name])})")
            results["sets"][name] = bench_set(
                name,
                f"{base}/{name}/simple/",
                tools=args.tools,
                modes=args.modes,
                runs=args.runs,
                scratch=work / name,
            )
    results["meta"]["load_average_at_end"] = list(os.getloadavg())
    _clean_up(bench_dir)
    results["targets"] = check_targets(results)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1))
    table = markdown(results)
    output.with_suffix(".md").write_text(table)
    _say("")
    _say(table)
    _say(f"bench: results in {output} and {output.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
