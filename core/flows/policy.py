"""The hooks that may refuse, made into what the pipeline takes: the candidate filter
the resolver asks, the download check the fetcher runs, and the plan an install or an
uninstall shows ``roost_check_plan`` before its transaction.

The resolver and the fetcher sit in layers that know nothing of a command's options,
so they get plain callables, made here from the manager and the options; and only
when some plugin implements the hook, so a run without such plugins pays nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from roost.errors import InstallRefused
from roost.policy_types import Plan, PlanEntry
from roost.types import Refusal
from roost.util.output import one_line

if TYPE_CHECKING:
    from collections.abc import Callable

    from roost.install.prepare import PlanItem
    from roost.manager import Manager
    from roost.policy_types import CandidateInfo, Exclusion
    from roost.resolve.candidates import Candidate
    from roost.resolve.provider import CandidateFilter
    from roost.store.fetch import Fetcher
    from roost.types import Link, NormalizedName, Options, Scheme, Target


def candidate_filter(manager: Manager, options: Options) -> CandidateFilter | None:
    """What takes candidates away before the resolver sees them, for the resolver: the
    upload cut-off (``--uploaded-prior-to``/``--exclude-newer``) and ``--only-final``,
    then the plugins' ``roost_filter_candidates``. None when nothing filters.

    The options' own filters go through the same path as the plugins', so "no matching
    distribution" lists what they took away and why; and, as with any filter, the
    resolution is neither reused nor kept (a cut-off of P7D moves every day).
    """
    from roost.resolve.release_policy import (
        choices_from_params,
        cutoff_from_params,
        release_exclusions,
    )

    params = options.values
    cutoff = cutoff_from_params(params)
    choices = choices_from_params(params)
    plugins = bool(manager.implementers("roost_filter_candidates"))
    # --all-releases excludes nothing, but is no part of a kept resolution's key: being
    # a filter keeps such a resolution from being reused or kept.
    per_project = bool(params.get("all_releases") or params.get("only_final"))
    if cutoff is None and not per_project and not plugins:
        return None

    def exclude(project: NormalizedName, candidates: Sequence[CandidateInfo]) -> list[Exclusion]:
        found = release_exclusions(candidates, cutoff=cutoff, choices=choices)
        if plugins:
            found += manager.filter_candidates(project, candidates, options)
        return found

    return exclude


def download_check(manager: Manager, options: Options) -> Callable[[Link, Path], None] | None:
    """The plugins' ``roost_check_download``, for the fetcher: raises
    :class:`InstallRefused` naming each refusing plugin. None without any plugin."""
    if not manager.implementers("roost_check_download"):
        return None

    def check(link: Link, path: Path) -> None:
        refusals = manager.check_download(link, str(path), options)
        if refusals:
            raise InstallRefused(
                refused_message(
                    f"{link.filename} (from {link.source.display}) was refused once "
                    "downloaded; roost stopped before unpacking, building, installing or "
                    "saving it",
                    refusals,
                )
            )

    return check


def refused_message(what: str, refusals: Sequence[Refusal]) -> str:
    """*what* happened, then each refusal under the name of the plugin that made it.

    Plugin text is shown on one line each: it may hold anything.
    """
    lines = [one_line(what) + ":"]
    for refusal in refusals:
        lines.append(f"  {refusal.plugin}: {one_line(refusal.reason)}")
        lines.extend(f"    - {one_line(remedy)}" for remedy in refusal.remedies)
    return "\n".join(lines)


def check_stored(todo: Sequence[Candidate], plan: Sequence[PlanItem], fetcher: Fetcher) -> None:
    """The download check for the wheels the plan takes from the unpacked store: they
    were never fetched this run, and the policy may have changed since they were."""
    from roost.store.store_files import ARCHIVE

    for candidate, item in zip(todo, plan, strict=True):
        if item.wheel is None and item.entry is not None and candidate.file is not None:
            fetcher.vet(candidate.file.link, item.entry.root / ARCHIVE)


def _action(item: PlanItem) -> tuple[str, str | None]:
    """What installing *item* does to what is there, and the version it replaces."""
    old = item.replaces
    if old is None:
        return "install", None
    known = old.parsed_version
    if known is None:  # an installed version PEP 440 cannot read: which way is unknown
        return ("reinstall" if old.version == str(item.version) else "upgrade"), old.version
    if item.version > known:
        return "upgrade", old.version
    return ("downgrade" if item.version < known else "reinstall"), old.version


def install_plan(
    todo: Sequence[Candidate], plan: Sequence[PlanItem], fetcher: Fetcher, scheme: Scheme
) -> Plan:
    """The public view of an install's plan: every wheel, what it does, its metadata.

    The metadata is what the resolver read (the fetcher keeps it); the wheel checks
    have held the wheel to it.
    """
    entries = []
    for candidate, item in zip(todo, plan, strict=True):
        action, replaces = _action(item)
        assert candidate.file is not None, "every planned wheel has a file"
        entries.append(
            PlanEntry(
                name=item.name,
                version=str(item.version),
                action=action,
                replaces_version=replaces,
                # A copy: the plan's own is what direct_url.json will hold.
                direct_url=copy.deepcopy(item.direct_url),
                metadata=fetcher.metadata(candidate.file.link).result(),
                filename=item.filename,
                requested=item.requested,
            )
        )
    return Plan("install", scheme, tuple(entries))


def check_plan(manager: Manager, plan: Plan, target: Target, options: Options) -> None:
    """``roost_check_plan``: raise :class:`InstallRefused` listing every plugin's
    refusal; nothing has been written yet."""
    if not plan.entries or not manager.implementers("roost_check_plan"):
        return
    refusals = manager.check_plan(plan, target, options)
    if refusals:
        changes = "install" if plan.command == "install" else "uninstall"
        raise InstallRefused(
            refused_message(
                f"the {changes} plan ({len(plan.entries)} distribution(s) in "
                f"{plan.scheme.purelib}) was refused; nothing was changed",
                refusals,
            )
        )
