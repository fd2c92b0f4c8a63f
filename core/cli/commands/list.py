"""``roost list``: installed distributions as columns, freeze lines or JSON, as ``pip list``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from roost.cli.options import (
    environment_filter_options,
    index_options,
    python_option,
    refresh_package_option,
)
from roost.cli.release_options import release_options
from roost.util.output import Output

if TYPE_CHECKING:
    import datetime

    from packaging.version import Version

    from roost.flows.environment import Context
    from roost.index.finder import FileCandidate, FindResult
    from roost.manager import Manager
    from roost.target.installed import InstalledDist


@dataclass(frozen=True)
class Row:
    """One listed distribution, with what ``--outdated``/``--uptodate`` learnt."""

    dist: InstalledDist
    editable: str | None = None
    latest: Version | None = None
    #: ``wheel`` or ``sdist``: the kind of the newest file, as pip reports it.
    filetype: str = ""


def tabulate(rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns one space apart, a dashed rule under the header (pip's layout)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        " ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, " ".join("-" * w for w in widths))
    return lines


def columns(rows: Sequence[Row], *, outdated: bool, verbose: bool) -> list[str]:
    """The ``columns`` format; nothing at all when there are no rows."""
    from roost.flows.environment import display_version

    if not rows:
        return []
    header = ["Package", "Version"]
    if outdated:
        header += ["Latest", "Type"]
    editables = any(row.editable for row in rows)
    if editables:
        header.append("Editable project location")
    if verbose:
        header += ["Location", "Installer"]
    table = [header]
    for row in rows:
        cells = [row.dist.name, display_version(row.dist)]
        if outdated:
            cells += [str(row.latest), row.filetype]
        if editables:
            cells.append(row.editable or "")
        if verbose:
            cells += [str(row.dist.location), row.dist.installer]
        table.append(cells)
    return tabulate(table)


def as_json(rows: Sequence[Row], *, outdated: bool, verbose: bool) -> str:
    """The ``json`` format, key for key as pip writes it."""
    from roost.flows.environment import display_version

    data = []
    for row in rows:
        info = {"name": row.dist.name, "version": display_version(row.dist)}
        if verbose:
            info["location"] = str(row.dist.location)
            info["installer"] = row.dist.installer
        if outdated:
            info["latest_version"] = str(row.latest)
            info["latest_filetype"] = row.filetype
        if row.editable:
            info["editable_project_location"] = row.editable
        data.append(info)
    return json.dumps(data)


def not_required(dists: Sequence[InstalledDist], context: Context) -> list[InstalledDist]:
    """Distributions no other listed distribution depends on."""
    from packaging.utils import canonicalize_name

    from roost.flows.environment import active_requires

    needed: set[str] = {
        canonicalize_name(req.name)
        for dist in dists
        for req in active_requires(dist, context.target)
    }
    return [dist for dist in dists if dist.key not in needed]


def newest_file(
    result: FindResult, params: dict[str, Any], before: datetime.datetime | None
) -> FileCandidate | None:
    """The file ``--outdated``/``--uptodate`` compare with, as pip's list picks it: not
    yanked, of a type ``--no-binary``/``--only-binary`` allow, uploaded before the
    cut-off, a pre-release only where ``--pre``/``--all-releases`` allow one for the
    project; the newest (with ``--prefer-binary``, the newest wheel when there is one)."""
    from roost.resolve.candidates import binary_policy
    from roost.resolve.release_policy import choices_from_params, uploaded_too_late

    key = result.project
    only_binary = binary_policy(params.get("only_binary") or ())
    no_binary = binary_policy(params.get("no_binary") or ())
    wheels_ok = not (key in no_binary or ("*" in no_binary and key not in only_binary))
    sdists_ok = not (key in only_binary or ("*" in only_binary and key not in no_binary))
    # pip's list leaves pre-releases out unless an option allows them for the project.
    pre_ok = choices_from_params(params).allows_prereleases(key) is True
    usable = [
        c
        for c in result.candidates
        if c.link.yanked is None
        and (wheels_ok if c.is_wheel else sdists_ok)
        and (pre_ok or not c.version.is_prerelease)
        and (before is None or not uploaded_too_late(c.link, before))
    ]
    if params.get("prefer_binary"):
        # pip ranks any wheel above any sdist then; the sort is stable, so newest first.
        usable.sort(key=lambda c: not c.is_wheel)
    return usable[0] if usable else None


def with_latest(rows: Sequence[Row], ctx: click.Context, context: Context) -> list[Row]:
    """*rows* with the newest version the indexes offer (:func:`newest_file`); rows
    with none dropped."""
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import replace

    from roost.errors import NoIndexConfigured
    from roost.index.finder import Finder, no_index_configured_message
    from roost.index.pip_default import with_pip_default
    from roost.net.client import Client
    from roost.resolve.release_policy import cutoff_from_params
    from roost.util.cache import cache_root

    params = context.params
    before = cutoff_from_params(params)
    manager: Manager = ctx.meta["roost.manager"]
    # As install asks: with no index-url configured, the index pip would use, last.
    sources, search = with_pip_default(
        manager.index_sources(context.settings),
        context.settings,
        context.target,
        cache_root(context.settings),
    )
    if not sources:
        raise NoIndexConfigured(
            no_index_configured_message(None if search is None else search.explain())
        )
    with Client(manager, context.settings) as client:
        client.refresh = True  # "newest" includes releases within a page's max-age
        for source in sources:
            client.remember_credentials(source.url)
        finder = Finder(
            manager,
            client,
            sources,
            context.target,
            strategy=context.params.get("index_strategy") or "first-index",
        )

        def latest(row: Row) -> Row | None:
            found = newest_file(finder.find(row.dist.name), params, before)
            if found is None:
                return None
            filetype = "wheel" if found.is_wheel else "sdist"
            return replace(row, latest=found.version, filetype=filetype)

        with ThreadPoolExecutor(max_workers=8) as pool:
            found = list(pool.map(latest, rows))
    return [row for row in found if row is not None]


def list_command() -> click.Command:
    @click.command("list")
    @click.option(
        "-o", "--outdated", is_flag=True, help="Only distributions with a newer version."
    )
    @click.option("-u", "--uptodate", is_flag=True, help="Only distributions that are newest.")
    @click.option("-e", "--editable", is_flag=True, help="Only editable installs.")
    @environment_filter_options
    @click.option("--pre", is_flag=True, help="With -o/-u: count pre-releases as newer versions.")
    @release_options
    @click.option(
        "--no-binary",
        "no_binary",
        multiple=True,
        metavar="FORMAT",
        help="With -o/-u: for these projects (:all:, or names) count only sdists.",
    )
    @click.option(
        "--only-binary",
        "only_binary",
        multiple=True,
        metavar="FORMAT",
        help="With -o/-u: for these projects (:all:, or names) count only wheels.",
    )
    @click.option(
        "--prefer-binary",
        is_flag=True,
        help="With -o/-u: the newest version with a wheel is the latest, when there is one.",
    )
    @click.option(
        "--format",
        "list_format",
        type=click.Choice(["columns", "freeze", "json"]),
        default="columns",
        show_default=True,
        help="Output format. freeze cannot be combined with --outdated.",
    )
    @click.option(
        "--not-required", is_flag=True, help="Only distributions nothing else listed requires."
    )
    @click.option(
        "--exclude-editable/--include-editable",
        "exclude_editable",
        default=False,
        help="Leave editable installs out (or keep them, the default).",
    )
    @click.option("--exclude", multiple=True, metavar="NAME", help="Leave NAME out (repeatable).")
    @python_option
    @index_options
    @refresh_package_option
    @click.pass_context
    def list_(ctx: click.Context, /, **_: Any) -> None:
        """List installed distributions, sorted by name."""
        from roost.cli.invocation import invocation
        from roost.flows.environment import (
            STDLIB_NAMES,
            check_path_option,
            display_version,
            distributions,
            editable_location,
            load_context,
        )
        from roost.resolve.release_policy import choices_from_params

        out = ctx.find_object(Output) or Output()
        context = load_context(invocation(ctx, "list"))
        params = context.params
        outdated, uptodate = bool(params["outdated"]), bool(params["uptodate"])
        choices_from_params(params)  # --pre beside --all-releases: pip's error, first
        if outdated and uptodate:
            raise click.UsageError("--outdated and --uptodate cannot be combined")
        if outdated and params["list_format"] == "freeze":
            raise click.UsageError("--format freeze cannot be combined with --outdated")
        check_path_option(params)
        dists = distributions(
            context.target,
            paths=params["path"],
            user_only=bool(params["user"]),
            local_only=bool(params["local"]),
            skip=set(STDLIB_NAMES) | set(params["exclude"]),
        )
        rows = []
        for dist in dists:
            editable = editable_location(dist)
            if params["exclude_editable"] and editable:
                continue
            if params["editable"] and not editable:
                continue
            rows.append(Row(dist, editable))
        if params["not_required"]:
            keep = {d.key for d in not_required([r.dist for r in rows], context)}
            rows = [row for row in rows if row.dist.key in keep]
        if outdated or uptodate:
            rows = with_latest(rows, ctx, context)
            rows = [
                row
                for row in rows
                if row.dist.parsed_version is not None
                and row.latest is not None
                and (
                    row.latest > row.dist.parsed_version
                    if outdated
                    else row.latest == row.dist.parsed_version
                )
            ]
        rows.sort(key=lambda row: row.dist.key)
        verbose = out.verbose > 0
        if params["list_format"] == "json":
            click.echo(as_json(rows, outdated=outdated, verbose=verbose))
        elif params["list_format"] == "freeze":
            for row in rows:
                suffix = f" ({row.dist.location})" if verbose else ""
                click.echo(f"{row.dist.name}=={display_version(row.dist)}{suffix}")
        else:
            for line in columns(rows, outdated=outdated, verbose=verbose):
                click.echo(line)

    return list_
