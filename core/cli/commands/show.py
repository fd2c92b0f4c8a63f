"""``roost show``: details of installed distributions in pip's header format."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from roost.cli.options import python_option
from roost.util.output import Output

if TYPE_CHECKING:
    from email.message import Message

    from roost.target.installed import InstalledDist
    from roost.types import Target


def declared_files(dist: InstalledDist) -> list[str] | None:
    """RECORD's paths as written there (normalised like pip), sorted; None without RECORD."""
    text = dist.read_text("RECORD")
    if text is None:
        return None
    return sorted(str(Path(row[0])) for row in csv.reader(text.splitlines()) if row)


def describe(
    dist: InstalledDist,
    everything: Sequence[InstalledDist],
    target: Target,
    *,
    files: bool,
    verbose: bool,
) -> list[str]:
    """The lines ``roost show`` prints for *dist*; *everything* gives Required-by."""
    from roost.flows.environment import active_requires, display_version, editable_location

    meta = dist.metadata

    def field(name: str) -> str:
        return str(meta.get(name, "") or "")

    requires = sorted((req.name for req in active_requires(dist, target)), key=str.lower)
    from packaging.utils import canonicalize_name

    required_by = sorted(
        (
            other.name
            for other in everything
            if dist.key in {str(canonicalize_name(r.name)) for r in active_requires(other, target)}
        ),
        key=str.lower,
    )
    lines = [
        f"Name: {dist.name}",
        f"Version: {display_version(dist)}",
        f"Summary: {field('Summary')}",
        f"Home-page: {field('Home-page')}",
        f"Author: {field('Author')}",
        f"Author-email: {field('Author-email')}",
        _license_line(meta),
        f"Location: {dist.location}",
    ]
    editable = editable_location(dist)
    if editable is not None:
        lines.append(f"Editable project location: {editable}")
    lines += [f"Requires: {', '.join(requires)}", f"Required-by: {', '.join(required_by)}"]
    if verbose:
        lines += [
            f"Metadata-Version: {field('Metadata-Version')}",
            f"Installer: {dist.installer}",
            "Classifiers:",
            *(f"  {value}" for value in meta.get_all("Classifier") or []),
            "Entry-points:",
            *(
                f"  {line.strip()}"
                for line in (dist.read_text("entry_points.txt") or "").splitlines()
            ),
            "Project-URLs:",
            *(f"  {value}" for value in meta.get_all("Project-URL") or []),
        ]
    if files:
        lines.append("Files:")
        listed = declared_files(dist)
        if listed is None:
            lines.append("Cannot locate RECORD or installed-files.txt")
        else:
            lines += [f"  {path.strip()}" for path in listed]
    return lines


def _license_line(meta: Message) -> str:
    """pip's line: ``License-Expression`` (PEP 639) when metadata 2.4 or later gives one,
    else ``License``."""
    expression = str(meta.get("License-Expression", "") or "")
    if expression and _metadata_version(str(meta.get("Metadata-Version", "") or "")) >= (2, 4):
        return f"License-Expression: {expression}"
    return f"License: {meta.get('License', '') or ''}"


def _metadata_version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.strip().split("."))
    except ValueError:
        return ()


def show_command() -> click.Command:
    @click.command("show")
    @click.argument("names", nargs=-1)
    @click.option("-f", "--files", is_flag=True, help="Also list every installed file.")
    @python_option
    @click.pass_context
    def show(ctx: click.Context, /, **_: Any) -> None:
        """Show details of installed distributions."""
        from packaging.utils import canonicalize_name

        from roost.cli.invocation import invocation
        from roost.flows.environment import distributions, exit_quietly, load_context

        out = ctx.find_object(Output) or Output()
        context = load_context(invocation(ctx, "show"))
        names: tuple[str, ...] = context.params["names"]
        if not names:
            out.error("Please provide a package name or names.")
            exit_quietly(1)
        everything = distributions(context.target, skip=())
        by_key: dict[str, InstalledDist] = {dist.key: dist for dist in everything}
        missing = sorted(name for name in names if canonicalize_name(name) not in by_key)
        if missing:
            out.warning(f"Package(s) not found: {', '.join(missing)}")
        shown = 0
        for name in names:
            dist = by_key.get(canonicalize_name(name))
            if dist is None:
                continue
            if shown:
                click.echo("---")
            lines = describe(
                dist,
                everything,
                context.target,
                files=context.params["files"],
                verbose=out.verbose > 0,
            )
            for line in lines:
                click.echo(line)
            shown += 1
        if not shown:
            exit_quietly(1)

    return show
