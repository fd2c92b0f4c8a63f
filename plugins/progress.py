"""Progress bars for downloads and installs, on a terminal only (``--progress-bar``).

rich is imported when the first bar is drawn, never at start-up. Each roost run is
its own process, so the bars of this run live in this module for the run's length.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from roost.hookspecs import hookimpl

if TYPE_CHECKING:
    from roost.types import InstallEvent, Options

#: Which bar each event kind advances.
_BARS = {"download": "Downloading", "installed": "Installing"}


class Bars:
    """The bars of one run: created on the first event, closed after the last."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[name]}"),
            console=Console(file=sys.stderr),
            transient=False,
        )
        self.tasks: dict[str, Any] = {}
        self.progress.start()

    def advance(self, event: InstallEvent) -> None:
        label = _BARS[event.kind]
        task = self.tasks.get(label)
        if task is None:
            task = self.progress.add_task(label, total=event.total, name="")
            self.tasks[label] = task
        self.progress.update(task, completed=event.index, name=f"{event.name} {event.version}")
        if all(t.finished for t in self.progress.tasks) and len(self.tasks) == len(_BARS):
            self.progress.stop()


class _Run:
    """This process's bars (one roost run per process)."""

    bars: Bars | None = None


_run = _Run()


def wanted(options: Options) -> bool:
    # pip's values: "on" and "auto" draw bars on a terminal, not with -q; "off" and
    # "raw" (lines for a program to read, see below) draw none.
    if options.get("progress_bar", "auto") in ("off", "raw"):
        return False
    if options.get("verbosity", 0) < 0:
        return False
    return sys.stderr.isatty()


@hookimpl
def roost_add_options(command: str) -> list[click.Option]:
    if command not in {"install", "download", "sync", "lock", "wheel"}:
        return []
    return [
        click.Option(
            ["--progress-bar", "progress_bar"],
            type=click.Choice(["auto", "on", "off", "raw"]),
            default="auto",
            show_default=True,
            help="Progress bars: auto and on draw them on a terminal (not with -q); off "
            "draws none; raw prints 'Progress N of TOTAL' lines to stdout for a program "
            "to read, as pip does (roost counts files, pip bytes).",
        )
    ]


@hookimpl(trylast=True)
def roost_install_event(event: InstallEvent, options: Options) -> None:
    if event.kind not in _BARS:
        return
    if options.get("progress_bar") == "raw":
        # pip's machine-readable form, for the programs that wrap it; a download is
        # one step here, where pip counts its bytes.
        if event.kind == "download":
            click.echo(f"Progress {event.index} of {event.total}")
        return
    if _run.bars is None:
        # Decided once: while the bars are drawn, rich stands in for sys.stderr, and
        # before rich 15 its stand-in says it is no terminal.
        if not wanted(options):
            return
        _run.bars = Bars()
    _run.bars.advance(event)
