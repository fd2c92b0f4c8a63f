"""Turn samples into medians, ratios, target checks and Markdown tables."""

from __future__ import annotations

import statistics
from dataclasses import asdict
from typing import Any

from bench.measure import Sample

MODES = ("cold", "warm", "noop", "resolve")
MODE_TITLES = {
    "cold": "cold install",
    "warm": "warm install",
    "noop": "no-op",
    "resolve": "resolve only",
}

# Issue #5's targets, all on the large set: (mode, other tool, highest roost/other ratio).
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("warm", "uv", 1.2),
    ("warm", "pip", 0.15),
    ("cold", "uv", 1.0),
    ("cold", "pip", 0.6),
    ("noop", "pip", 0.3),
    ("resolve", "pip", 0.3),
)
STARTUP_TARGET = 3.0

Summary = dict[str, Any]


def summarise(samples: list[Sample], installed: list[int] | None = None) -> Summary:
    """Medians of the successful runs of one tool in one mode, and every failure."""
    ok = [s for s in samples if s.ok]
    peaks = [s.maxrss_kb for s in ok if s.maxrss_kb >= 0]
    trees = [s.tree_peak_kb for s in ok if s.tree_peak_kb >= 0]
    return {
        "median_s": statistics.median(s.seconds for s in ok) if ok else None,
        "median_maxrss_kb": statistics.median(peaks) if peaks else None,
        "median_tree_peak_kb": statistics.median(trees) if trees else None,
        "ok_runs": len(ok),
        "runs": [asdict(s) for s in samples],
        "installed_dists": installed or [],
        "failures": [
            {"run": i, "returncode": s.returncode, "stderr_tail": s.stderr_tail}
            for i, s in enumerate(samples)
            if not s.ok
        ],
    }


def ratio(mine: float | None, other: float | None) -> float | None:
    """``mine / other``, or None when either side has no successful run."""
    if mine is None or other is None or other <= 0:
        return None
    return mine / other


def mode_ratios(by_tool: dict[str, Summary]) -> dict[str, float | None]:
    """roost/pip and roost/uv of the median times of one mode."""
    roost = by_tool.get("roost", {}).get("median_s")
    return {
        f"roost/{other}": ratio(roost, by_tool.get(other, {}).get("median_s"))
        for other in ("pip", "uv")
        if other in by_tool
    }


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each of issue #5's targets with the measured value and whether it is met."""
    checks: list[dict[str, Any]] = []
    large = results.get("sets", {}).get("large", {})
    for mode, other, limit in TARGETS:
        value = large.get(mode, {}).get("ratios", {}).get(f"roost/{other}")
        checks.append(_check(f"large {mode}: roost/{other}", value, limit))
    startup = results.get("startup", {}).get("ratio")
    checks.append(_check("roost --version / python -c pass", startup, STARTUP_TARGET))
    for mode in ("cold", "warm"):
        tools = large.get(mode, {}).get("tools", {})
        # The whole tree: roost's unpack helper counts, and so do both of pip's processes.
        mem = ratio(
            tools.get("roost", {}).get("median_tree_peak_kb"),
            tools.get("pip", {}).get("median_tree_peak_kb"),
        )
        checks.append(_check(f"large {mode}: peak memory roost/pip", mem, 1.0))
    return checks


def _check(name: str, value: float | None, limit: float) -> dict[str, Any]:
    met = None if value is None else value <= limit
    return {"target": name, "limit": limit, "value": value, "met": met}


def progress_line(label: str, mode: str, tool: str, sample: Sample, *, run: int, runs: int) -> str:
    """The line printed after each timed run: outcome, time and both memory figures."""
    outcome = f"{sample.seconds:.2f} s" if sample.ok else f"FAILED ({sample.returncode})"
    return (
        f"  {label} {mode:<7} {tool:<5} run {run + 1}/{runs}: {outcome}, "
        f"{sample.tree_peak_kb / 1024:.0f} MiB in all, "
        f"{sample.maxrss_kb / 1024:.0f} MiB largest process"
    )


def _seconds(summary: Summary | None) -> str:
    if not summary:
        return "-"
    if summary["median_s"] is None:
        return "failed"
    mark = "" if not summary["failures"] else f" ({len(summary['failures'])} failed)"
    return f"{summary['median_s']:.2f} s{mark}"


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _mib(kb: float | None) -> str:
    return "-" if kb is None else f"{kb / 1024:.0f}"


def markdown(results: dict[str, Any]) -> str:
    """The tables of docs/benchmarks.md: times per set, peak memory, startup, targets."""
    lines: list[str] = []
    meta = results.get("meta")
    if meta:
        versions = ", ".join(meta.get("versions", {}).values())
        load = meta.get("load_average_at_start")
        loaded = f", load average {load[0]:.1f} at the start" if load else ""
        lines += [
            f"{meta['date']}: Python {meta['python']} on {meta['platform']}, "
            f"{meta['cpus']} CPUs{loaded}; {meta['runs']} runs each; {versions}.",
            "",
        ]
    titles = results.get("titles", {})
    for name, modes in results.get("sets", {}).items():
        title = titles.get(name) or f"`{' '.join(results['requirements'][name])}`"
        lines += [
            f"### {name}: {title}",
            "",
            "| mode | roost | pip | uv | roost/pip | roost/uv |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for mode in MODES:
            if mode not in modes:
                continue
            tools = modes[mode]["tools"]
            ratios = modes[mode]["ratios"]
            cells = [_seconds(tools.get(t)) for t in ("roost", "pip", "uv")]
            cells += [_times(ratios.get("roost/pip")), _times(ratios.get("roost/uv"))]
            lines.append(f"| {MODE_TITLES[mode]} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "### Peak memory (MiB, median: all the tool's processes at once, sampled every "
        "10 ms / its largest process)",
        "",
        "| set | mode | roost | pip | uv |",
        "|---|---|---:|---:|---:|",
    ]
    for name, modes in results.get("sets", {}).items():
        for mode in ("cold", "warm"):
            if mode in modes:
                tools = modes[mode]["tools"]
                cells = [
                    _mib(tools.get(t, {}).get("median_tree_peak_kb"))
                    + " / "
                    + _mib(tools.get(t, {}).get("median_maxrss_kb"))
                    for t in ("roost", "pip", "uv")
                ]
                lines.append(f"| {name} | {mode} | " + " | ".join(cells) + " |")
    startup = results.get("startup")
    if startup:
        lines += [
            "",
            "### Startup",
            "",
            f"`roost --version` {startup['roost_s'] * 1000:.0f} ms, "
            f"`python -c pass` {startup['python_s'] * 1000:.0f} ms: "
            f"ratio {_times(startup['ratio'])}",
        ]
    lines += ["", "### Targets (issue #5)", "", "| target | limit | measured | met |"]
    lines.append("|---|---:|---:|---|")
    for check in results.get("targets", []):
        met = {True: "yes", False: "**no**", None: "not measured"}[check["met"]]
        # Three decimals: with two, 0.155 against a limit of 0.15 read "0.15 ... no".
        value = "-" if check["value"] is None else f"{check['value']:.3f}"
        lines.append(f"| {check['target']} | {check['limit']:g} | {value} | {met} |")
    return "\n".join(lines) + "\n"
