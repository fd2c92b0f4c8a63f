"""``roost sync FILE...``: make the environment exactly the set a lock file or
requirements files name.

A ``pylock.toml`` is installed as ``roost install -r`` installs it
(:mod:`roost.flows.lock_install`). Requirements files are taken as ``uv pip sync``
takes them: each line is installed as written and nothing else, with no dependencies
resolved (``--no-deps``), so the files must list the whole set. Everything installed in
the target's scheme that the set does not name is removed, in the same transaction as
the installs, upgrades and downgrades (one rollback undoes all), except the protected
distributions (:func:`roost.install.protected.kept_by_sync`) that pip-sync keeps too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import click

from roost.errors import InstallError
from roost.flows.request import InstallRequest

if TYPE_CHECKING:
    from roost.flows.invocation import Invocation
    from roost.flows.lock_install import Run
    from roost.flows.stages import Installed
    from roost.resolve.candidates import Candidate
    from roost.resolve.plan import Resolution
    from roost.resolve.requirement_line import ParsedRequirement
    from roost.target.installed import InstalledDist


def run_sync(invocation: Invocation, files: Sequence[str]) -> bool:
    """Sync the target to *files*; True when anything changed (with ``--dry-run``:
    would change)."""
    from roost.flows.install_output import InstallLines
    from roost.flows.lock_install import install_attempts, locked_request, locked_resolver, started
    from roost.lock.select import is_lock_path, lock_request, read_lock, select_files

    out = invocation.out
    locks = [text for text in files if is_lock_path(text)]
    if locks and len(files) > 1:
        raise click.UsageError(
            f"{locks[0]} is a lock file: sync takes one lock file alone, or requirements files"
        )
    if locks:
        asked = lock_request(locks[0])
        pylock, warnings = read_lock(asked.path)
        for warning in warnings:
            out.warning(warning)
        request = locked_request(invocation)
        requirements: list[ParsedRequirement] = []
    else:
        request, requirements = _requirements_request(invocation)
    changed = False
    with started(invocation, request, requirements) as run:
        if locks:
            selected = select_files(pylock, asked, run.target)
            resolver = locked_resolver(run, selected, origin=str(asked.path))
        else:
            resolver = None
            _build_sources(run)
        lines = InstallLines(run.request.requirements, out)
        gone: list[InstalledDist] = []

        def removals(installed: Installed, resolution: Resolution) -> list[InstalledDist]:
            gone[:] = to_remove(run, installed, resolution)
            return list(gone)

        def checked(todo: list[Candidate]) -> bool:
            nonlocal changed
            changed = bool(todo or gone)
            if run.request.dry_run and gone:
                names = sorted(f"{dist.name}-{dist.version}" for dist in gone)
                out.info("Would uninstall " + " ".join(names))
            from roost.flows.stages import check_before_fetching

            go_on = check_before_fetching(run.request, todo, run.net, run.target, out)
            if not changed and not run.request.dry_run:
                out.info("Nothing to change: the environment is already that set")
            return go_on and changed

        done = install_attempts(
            run, resolver=resolver, checked=checked, lines=lines, removals=removals
        )
    if done is not None:
        invocation.manager.post_install(run.target, run.scheme, done, run.request.options)
        lines.installed(done)
    return changed


def _requirements_request(
    invocation: Invocation,
) -> tuple[InstallRequest, list[ParsedRequirement]]:
    """The request for requirements files: read as ``roost install -r`` reads them,
    with ``--no-deps`` (the files are the whole set)."""
    from roost.flows.gather import gather

    inputs = gather(invocation)
    request = InstallRequest.from_gathered(inputs)
    request = replace(request, policy=replace(request.policy, no_deps=True))
    return request, list(inputs.requirements)


def _build_sources(run: Run) -> None:
    """Directories, archives and VCS URLs in the files, built first (as install does)."""
    from roost.flows.install import build_stage

    run.request = build_stage(
        run.request, dict(run.params), builder=run.builder, fetcher=run.net.fetcher
    )


def to_remove(run: Run, installed: Installed, resolution: Resolution) -> list[InstalledDist]:
    """What the environment holds in the target's scheme that the set does not name,
    less the protected distributions; refused when one has no RECORD to remove it by."""
    from roost.install.protected import kept_by_sync

    keep = {str(candidate.name) for candidate in resolution.candidates}
    keep |= kept_by_sync(run.target.version)
    scheme = run.scheme
    folders = {os.path.realpath(scheme.purelib), os.path.realpath(scheme.platlib)}
    doomed = []
    for name, dist in sorted(installed.items()):
        if name in keep or os.path.realpath(dist.location) not in folders:
            continue
        if not (dist.dist_info / "RECORD").is_file():
            raise InstallError(
                f"cannot remove {dist.name} {dist.version} to sync: it has no RECORD "
                f"({dist.dist_info}), so roost cannot know its files. Nothing was changed; "
                "remove it by hand, or add it to the set."
            )
        doomed.append(dist)
    return doomed
