"""``roost index versions NAME``: the versions the indexes offer the target, as pip prints them.

``NAME (LATEST)``, then ``Available versions: ...`` newest first, then, when NAME is
installed in the target, ``INSTALLED:`` and ``LATEST:`` lines; ``--json`` gives pip's
one-line object instead. Sources, strategy and credentials are the ones ``install``
uses; a version counts when one of its files fits the target (tags, Requires-Python,
``--only-binary``/``--no-binary``) and is not yanked. Pre-releases count only with
``--pre`` or ``--all-releases``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from roost.cli.options import index_options, python_option
from roost.errors import RoostError

if TYPE_CHECKING:
    import datetime

    from packaging.version import Version

    from roost.index.finder import FindResult
    from roost.types import Link, Target

ACTIONS = ("versions",)


def _file_version(link: Link) -> Version | None:
    from packaging.utils import parse_sdist_filename, parse_wheel_filename

    try:
        if link.filename.endswith(".whl"):
            return parse_wheel_filename(link.filename)[1]
        return parse_sdist_filename(link.filename)[1]
    except ValueError:
        return None


def usable_versions(
    result: FindResult, params: dict[str, Any], before: datetime.datetime | None
) -> set[Version]:
    """The versions with a file the options allow (yanked files never count)."""
    from roost.resolve.candidates import binary_policy
    from roost.resolve.release_policy import uploaded_too_late

    only_binary = binary_policy(params.get("only_binary") or ())
    no_binary = binary_policy(params.get("no_binary") or ())
    key = result.project
    wheels_only = key in only_binary or ("*" in only_binary and key not in no_binary)
    sdists_only = key in no_binary or ("*" in no_binary and key not in only_binary)
    files: list[tuple[Link, Version, bool]] = [
        (c.link, c.version, c.is_wheel) for c in result.candidates
    ]
    if params.get("ignore_requires_python"):
        # The finder refuses a file for Requires-Python only after its name and tags
        # fit, so such a file is usable once that check is off.
        for link, reason in result.rejected:
            version = _file_version(link)
            if reason.startswith("requires Python") and version is not None:
                files.append((link, version, link.filename.endswith(".whl")))
    found: set[Version] = set()
    for link, version, is_wheel in files:
        if link.yanked is not None or (wheels_only and not is_wheel):
            continue
        if sdists_only and is_wheel:
            continue
        # The cut-off that install uses, and its error for a file with no upload time.
        if before is not None and uploaded_too_late(link, before):
            continue
        found.add(version)
    return found


def _installed_version(target: Target, name: str) -> str | None:
    from packaging.utils import canonicalize_name

    from roost.flows.environment import display_version, distributions

    key = str(canonicalize_name(name))
    for dist in distributions(target):
        if str(dist.key) == key:
            return display_version(dist)
    return None


def report(
    name: str, versions: Sequence[Version], installed: str | None, *, as_json: bool
) -> list[str]:
    """The lines pip prints for *versions* (newest first)."""
    import json

    shown = [str(version) for version in versions]
    latest = shown[0]
    if as_json:
        data: dict[str, Any] = {"name": name, "versions": shown, "latest": latest}
        if installed is not None:
            data["installed_version"] = installed
        return [json.dumps(data)]
    lines = [f"{name} ({latest})", f"Available versions: {', '.join(shown)}"]
    if installed is not None:
        lines.append(f"  INSTALLED: {installed}")
        note = " (pre-release; install with `roost install --pre`)"
        lines.append(f"  LATEST:    {latest}{note if versions[0].pre else ''}")
    return lines


def _target_options(f: Any) -> Any:
    decorators = [
        click.option(
            "--platform",
            "platforms",
            multiple=True,
            metavar="PLATFORM",
            help="Versions with a wheel for this platform (repeatable).",
        ),
        click.option("--python-version", metavar="VERSION", help="... for this Python (3.12)."),
        click.option("--implementation", metavar="IMPL", help="... for cp, pp, ip, jy or py."),
        click.option("--abi", "abis", multiple=True, metavar="ABI", help="... for this ABI."),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def _selection_options(f: Any) -> Any:
    decorators = [
        click.option("--pre", is_flag=True, help="Count pre-releases and development versions."),
        click.option(
            "--all-releases",
            multiple=True,
            metavar="NAMES",
            help="Count pre-releases of these projects (:all:, :none:, or names with commas).",
        ),
        click.option(
            "--only-final",
            multiple=True,
            metavar="NAMES",
            help="Count only final releases of these projects (:all:, :none:, names).",
        ),
        click.option(
            "--only-binary", multiple=True, metavar="FORMAT", help="Only versions with a wheel."
        ),
        click.option(
            "--no-binary", multiple=True, metavar="FORMAT", help="Only versions with an sdist."
        ),
        click.option("--prefer-binary", is_flag=True, help="Accepted; no effect on a listing."),
        click.option(
            "--ignore-requires-python",
            is_flag=True,
            help="Count files whose Requires-Python excludes the target.",
        ),
        click.option(
            "--uploaded-prior-to",
            metavar="WHEN",
            help="Only files uploaded before WHEN: an ISO 8601 date and time (local time "
            "without a zone), or a duration before now (P7D, PT12H, '1 week').",
        ),
        click.option(
            "--exclude-newer",
            metavar="WHEN",
            help="uv's spelling of --uploaded-prior-to (a bare date includes that day).",
        ),
        click.option(
            "--refresh-package",
            multiple=True,
            metavar="NAMES",
            help="Revalidate cached index pages of these projects (:all: or names).",
        ),
        click.option("--json", "as_json", is_flag=True, help="pip's JSON object, one line."),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def index_command() -> click.Command:
    @click.command("index")
    @click.argument("args", nargs=-1, metavar="versions NAME")
    @_selection_options
    @_target_options
    @python_option
    @index_options
    @click.pass_context
    def index(ctx: click.Context, /, args: tuple[str, ...], **_: Any) -> None:
        """Ask the indexes about a project: `versions NAME` lists the versions they offer
        the target, newest first."""
        if not args or args[0] not in ACTIONS:
            raise RoostError(f"give an action ({', '.join(ACTIONS)}): roost index versions NAME")
        if len(args) != 2:
            raise RoostError("give exactly one project: roost index versions NAME")
        versions_of(ctx, args[1])

    return index


def versions_of(ctx: click.Context, name: str) -> None:
    from packaging.utils import canonicalize_name

    from roost.cli.invocation import invocation
    from roost.errors import NoMatchingDistribution
    from roost.flows.environment import load_context
    from roost.flows.gather import index_sources
    from roost.index.finder import Finder
    from roost.net.client import Client
    from roost.resolve.release_policy import choices_from_params, cutoff_from_params
    from roost.target.foreign import foreign_target
    from roost.util.output import Output

    out = ctx.find_object(Output) or Output()
    context = load_context(invocation(ctx, "index"))
    params = context.params
    choices = choices_from_params(params)
    before = cutoff_from_params(params)
    target = foreign_target(
        context.target,
        platforms=params["platforms"],
        python_version=params["python_version"],
        implementation=params["implementation"],
        abis=params["abis"],
    )
    manager = ctx.meta["roost.manager"]
    sources = index_sources(manager, context.settings, [], out, target=context.target)
    refresh = {
        canonicalize_name(v) for value in params["refresh_package"] for v in value.split(",")
    }
    with Client(manager, context.settings) as client:
        if params.get("refresh") or ":all:" in refresh or canonicalize_name(name) in refresh:
            client.refresh = True
        for source in sources:
            client.remember_credentials(source.url)
        finder = Finder(
            manager,
            client,
            sources,
            target,
            strategy=params.get("index_strategy") or "first-index",
        )
        found = usable_versions(finder.find(name), params, before)
    # pip's listing counts pre-releases only when an option allows them for NAME.
    if choices.allows_prereleases(name) is not True:
        found = {version for version in found if not version.is_prerelease}
    if not found:
        raise NoMatchingDistribution(f"No matching distribution found for {name}")
    installed = _installed_version(context.target, name)
    for line in report(name, sorted(found, reverse=True), installed, as_json=params["as_json"]):
        click.echo(line)
