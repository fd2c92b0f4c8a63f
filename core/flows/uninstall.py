"""The steps of ``roost uninstall``: find, guard, confirm, remove by RECORD, all or nothing.

Every file goes through the install transaction (moved aside, deleted on commit),
so a failure part-way puts back everything. A RECORD entry outside the
environment's scheme directories is never touched: a crafted or stale RECORD
must not delete files elsewhere on the machine.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from roost.util.output import Output

if TYPE_CHECKING:
    from roost.flows.environment import Context
    from roost.flows.invocation import Invocation
    from roost.manager import Manager
    from roost.policy_types import Plan
    from roost.target.installed import InstalledDist
    from roost.types import Options, Scheme


@dataclass(frozen=True)
class Removal:
    """One distribution to remove, with where it lives and what RECORD says."""

    dist: InstalledDist
    scheme: Scheme
    options: Options
    #: Existing files (and the dist-info) that will go.
    paths: tuple[Path, ...]
    #: RECORD entries outside the environment, left alone.
    refused: tuple[Path, ...]

    @property
    def label(self) -> str:
        return f"{self.dist.name}-{self.dist.version}"


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def removal_roots(dist: InstalledDist, scheme: Scheme) -> list[Path]:
    """Directories an uninstall may delete in: the scheme's, and the dist's own site dir."""
    from roost.install.transaction import scheme_roots

    return [*scheme_roots(scheme), dist.location]


def plan_removal(dist: InstalledDist, scheme: Scheme, options: Options) -> Removal:
    """What removing *dist* deletes and what it refuses; raises when RECORD is missing."""
    from roost.errors import InstallError

    if dist.read_text("RECORD") is None:
        hint = f" It was installed by {dist.installer}." if dist.installer else ""
        raise InstallError(
            f"cannot uninstall {dist.name} {dist.version}: it has no RECORD file, so roost "
            f"cannot tell which files are its own.{hint}"
        )
    roots = removal_roots(dist, scheme)
    paths: list[Path] = []
    refused: list[Path] = []
    for path in dict.fromkeys(dist.record_paths()):
        if not _inside(path, roots):
            refused.append(path)
        elif os.path.lexists(path):
            paths.append(path)
    paths.append(dist.dist_info)
    return Removal(dist, scheme, options, tuple(paths), tuple(refused))


def _really_inside(path: Path, real_roots: Iterable[str]) -> bool:
    real = os.path.realpath(path)
    return any(
        real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in real_roots
    )


def unwritable(removals: Sequence[Removal]) -> Path | None:
    """The first folder the removals must change but this user may not write, or None."""
    folders: set[Path] = set()
    for removal in removals:
        # The transaction keeps what it moves aside in a folder it makes here.
        folders.add(Path(removal.scheme.purelib))
        roots = [os.path.realpath(root) for root in removal_roots(removal.dist, removal.scheme)]
        for path in removal.paths:
            if not _really_inside(path.parent, roots):
                continue  # behind a symlink out of the environment: left where it is
            folders.add(path.parent)
            if path.is_dir() and not path.is_symlink():
                folders.add(path)  # a folder moved to another has its ".." rewritten
    return next((folder for folder in sorted(folders) if not os.access(folder, os.W_OK)), None)


def summarise(paths: Sequence[Path], dist_info: Path) -> list[str]:
    """pip's short listing: a package directory as ``dir/*``, other files one by one."""
    folders: set[Path] = {dist_info}
    for path in paths:
        if path.name == "__init__.py":
            folders.add(path.parent)
    # Only the outermost folders, so a package's sub-packages are not listed again.
    outer = {f for f in folders if not any(o in f.parents for o in folders)}
    shown = {str(folder / "*") for folder in outer}
    for path in paths:
        if (
            path.suffix != ".pyc"
            and path != dist_info
            and not any(o in path.parents for o in outer)
        ):
            shown.add(str(path))
    return sorted(shown)


def locate(
    dist: InstalledDist, context: Context, manager: Manager
) -> tuple[Scheme, Options] | None:
    """The scheme *dist* was installed into (the default or the user one), or None."""
    from roost.types import Options

    for user in (False, True):
        options = Options("uninstall", {**context.params, "user": user})
        scheme = manager.select_scheme(context.target, options)
        site_dirs = {os.path.realpath(scheme.purelib), os.path.realpath(scheme.platlib)}
        if os.path.realpath(dist.location) in site_dirs:
            return scheme, options
    return None


def confirm(out: Output, no_input: bool) -> bool:
    """Ask "Proceed (Y/n)?" on stdin, as pip does, TTY or not; EOF is an error."""
    from roost.errors import InstallError

    if no_input:
        raise InstallError("confirmation is needed but input is disabled (no-input): pass -y")
    while True:
        click.echo("Proceed (Y/n)? ", nl=False)
        answer = sys.stdin.readline()
        if not answer:
            click.echo("")
            raise InstallError("no answer to the confirmation (stdin is closed): pass -y")
        answer = answer.strip().lower()
        if answer in ("y", "yes", ""):
            return True
        if answer in ("n", "no"):
            return False
        out.info(f"please answer y or n, not {answer!r}")


def requested_names(params: dict[str, Any], out: Output) -> list[str]:
    """Project names from the arguments and ``-r`` files, each once, in order."""
    from packaging.utils import canonicalize_name

    from roost.resolve.reqfile import parse_requirements_file
    from roost.resolve.requirement_line import parse_requirement_line

    names: dict[str, str] = {}
    for text in params["names"]:
        parsed = parse_requirement_line(text, "command line")
        if parsed.requirement is None:
            out.warning(f"Invalid requirement: {text!r} ignored: uninstall needs project names.")
            continue
        names.setdefault(canonicalize_name(parsed.requirement.name), parsed.requirement.name)
    for path in params["requirement_files"]:
        for parsed in parse_requirements_file(path).requirements:
            if parsed.requirement is not None:
                name = parsed.requirement.name
                names.setdefault(canonicalize_name(name), name)
    return list(names.values())


def removal_plans(removals: Sequence[Removal]) -> list[tuple[Plan, Options]]:
    """What ``roost_check_plan`` sees of an uninstall: one plan per environment (scheme)
    it changes, with the options its removals were located with."""
    import json

    from roost.policy_types import Plan, PlanEntry

    grouped: dict[str, list[Removal]] = {}
    for removal in removals:
        grouped.setdefault(removal.scheme.purelib, []).append(removal)
    plans = []
    for group in grouped.values():
        entries = []
        for removal in group:
            try:
                direct_url = json.loads(removal.dist.read_text("direct_url.json") or "null")
            except ValueError:
                direct_url = None  # a damaged file says nothing about where it came from
            entries.append(
                PlanEntry(
                    name=removal.dist.name,
                    version=removal.dist.version,
                    action="remove",
                    direct_url=direct_url if isinstance(direct_url, dict) else None,
                    metadata=removal.dist.read_text("METADATA") or "",
                    requested=True,
                )
            )
        plans.append((Plan("uninstall", group[0].scheme, tuple(entries)), group[0].options))
    return plans


def run_uninstall(invocation: Invocation) -> None:
    """Find, guard, confirm, then remove everything in one transaction under the lock."""
    import contextlib

    from packaging.utils import canonicalize_name

    from roost.errors import InstallError, InstallRefused, RequirementError
    from roost.flows.environment import distributions, load_context
    from roost.flows.stages import refusal_message
    from roost.install.lock import env_lock, lock_file
    from roost.install.transaction import recover_environment

    manager, out = invocation.manager, invocation.out
    context = load_context(invocation)
    params = context.params
    names = requested_names(params, out)
    if not names:
        raise RequirementError("give at least one project name to uninstall, or -r FILE")
    visible: dict[str, InstalledDist] = {
        dist.key: dist for dist in distributions(context.target, skip=())
    }
    removals: list[Removal] = []
    for name in names:
        dist = visible.get(canonicalize_name(name))
        if dist is None:
            out.warning(f"Skipping {name} as it is not installed.")
            continue
        found = locate(dist, context, manager)
        if found is None:
            out.info(
                f"Not uninstalling {dist.key} at {dist.location}, outside environment "
                f"{context.target.prefix}"
            )
            continue
        removals.append(plan_removal(dist, *found))
    refusals = []
    for removal in removals:
        refusals += manager.check_install(context.target, removal.scheme, removal.options)
    if refusals:
        raise InstallRefused(refusal_message(list({r: None for r in refusals})))
    # Checked before asking and before anything moves: a read-only environment gets one
    # clear error and stays exactly as it was.
    blocked = unwritable(removals)
    if blocked is not None:
        labels = ", ".join(removal.label for removal in removals)
        raise InstallError(
            f"cannot uninstall {labels}: {blocked} is not writable for this user, and "
            "removing needs to change it. Nothing was changed. Run roost as the user who "
            "owns the environment, or make it writable."
        )

    confirmed: list[Removal] = []
    for removal in removals:
        out.info(f"Found existing installation: {removal.dist.name} {removal.dist.version}")
        out.info(f"Uninstalling {removal.label}:")
        if not params["yes"]:
            listing = (
                [str(p) for p in removal.paths]
                if out.verbose
                else summarise(removal.paths, removal.dist.dist_info)
            )
            out.info("  Would remove:")
            for line in sorted(listing):
                out.info(f"    {line}")
            if removal.refused:
                out.info("  Would not remove (outside of the environment):")
                for path in sorted(removal.refused):
                    out.info(f"    {path}")
            if not confirm(out, context.settings.get_bool("no-input")):
                continue
        confirmed.append(removal)
    if not confirmed:
        return
    from roost.flows.policy import check_plan

    # The plugins see the removals the user confirmed, before any lock or change.
    for plan, options in removal_plans(confirmed):
        check_plan(manager, plan, context.target, options)
    schemes = {removal.scheme.purelib: removal.scheme for removal in confirmed}
    with contextlib.ExitStack() as stack:
        # Sorted, so two runs on the same pair of environments cannot deadlock.
        for purelib in sorted(schemes):
            stack.enter_context(
                env_lock(
                    lock_file(context.settings, purelib, out.warning),
                    purelib,
                    notify=out.warning,
                )
            )
        for scheme in schemes.values():
            recover_environment(scheme, out.warning)
        remove_all(confirmed, out)
    for removal in confirmed:
        out.info(f"  Successfully uninstalled {removal.label}")


def remove_all(removals: Sequence[Removal], out: Output) -> None:
    """Remove every distribution or none; then prune the directories left empty."""
    from roost.errors import InstallError
    from roost.install.transaction import (
        Transaction,
        prune_empty_dirs,
        remove_distribution,
        scheme_roots,
    )

    labels = " ".join(removal.label for removal in removals)
    try:
        tx = Transaction(Path(removals[0].scheme.purelib), f"roost uninstall {labels}")
    except OSError as exc:
        raise InstallError(
            f"cannot uninstall {labels}: roost cannot set aside what it removes in "
            f"{removals[0].scheme.purelib} ({exc.strerror or exc}). Nothing was changed."
        ) from None
    try:
        for removal in removals:
            out.detail(f"  Removing {removal.label}")
            for path in remove_distribution(removal.dist, removal.scheme, tx):
                out.warning(
                    f"Not removing {path}: it is outside the environment "
                    f"(listed in the RECORD of {removal.dist.name} {removal.dist.version})"
                )
    except BaseException as exc:
        tx.rollback()  # raises InstallError itself when undoing fails
        if isinstance(exc, Exception):
            raise InstallError(
                f"uninstalling failed and every change was undone: {type(exc).__name__}: {exc}"
            ) from exc
        raise
    moved = [original for original, _slot in tx.moved]
    tx.commit()
    stops = [root for removal in removals for root in scheme_roots(removal.scheme)]
    prune_empty_dirs(moved, list(dict.fromkeys(stops)))
