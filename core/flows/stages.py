"""The stages of an install, each fed by the one before and the typed request.

:func:`roost.flows.install.run_install` strings them together for ``roost install``;
:mod:`roost.flows.build_env` uses them to fill build environments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from roost.errors import InstallRefused
from roost.flows.request import InstallRequest
from roost.types import (
    InstalledDistribution,
    InstallEvent,
    NormalizedName,
    Refusal,
    Scheme,
    Settings,
    Target,
)
from roost.util.output import Output

if TYPE_CHECKING:
    from roost.flows.gather import Session
    from roost.flows.install_output import InstallLines
    from roost.flows.sdists import SourceDistributions
    from roost.install.placement import Placer
    from roost.install.prepare import PlanItem, Unpacker
    from roost.manager import Manager
    from roost.policy_types import Plan
    from roost.resolve.candidates import Candidate
    from roost.resolve.plan import Resolution
    from roost.store.unpacked import UnpackedStore, UnpackedWheel
    from roost.target.installed import InstalledDist


#: What is installed, by normalized name.
Installed = dict[NormalizedName, "InstalledDist"]
#: Makes an install's resolution from what is installed.
Resolver = Callable[[Installed], "Resolution"]


# -- the stages ---------------------------------------------------------------------


@dataclass
class Helpers:
    """The unpacked store, its unpacker and the placement helper of one install."""

    store: UnpackedStore | None
    placer: Placer | None
    unpacker: Unpacker | None = None
    #: Whether ``roost_check_plan`` sees this install's plan: the user's install does
    #: (made by :meth:`start`); the build environments roost fills for itself do not.
    plan_checked: bool = False

    @classmethod
    def start(cls, request: InstallRequest, out: Output) -> Helpers:
        from roost.flows.fetch_plan import unpacked_store
        from roost.install.execute import new_placer

        store = None if request.dry_run else unpacked_store(request.settings)
        # Started first, so that its interpreter is up (~0.1 s on these machines) by the
        # time it checks the store and places files; ended with the command.
        placer = None if store is None else new_placer(request.link_mode, out.detail, helper=True)
        return cls(store, placer, plan_checked=True)

    def stop(self) -> None:
        if self.unpacker is not None:
            self.unpacker.cancel()
        if self.placer is not None:
            self.placer.close()


def choose_scheme(manager: Manager, target: Target, request: InstallRequest) -> Scheme:
    """The scheme (``roost_select_scheme``, re-rooted by ``--root``), once every guard
    (``roost_check_install``) agrees."""
    scheme = manager.select_scheme(target, request.options)
    if request.root:
        scheme = scheme.rerooted(request.root)
    refusals = manager.check_install(target, scheme, request.options)
    if refusals:
        raise InstallRefused(refusal_message(refusals))
    return scheme


def recover_interrupted(request: InstallRequest, scheme: Scheme, out: Output) -> None:
    """Undo an interrupted transaction before reading what is installed.

    If another run holds the lock, its transaction is live, and this run recovers
    under the lock later.
    """
    from roost.install.lock import try_lock
    from roost.install.transaction import recover_environment

    early = try_lock(lock_path_for(request.settings, scheme, out))
    if early is not None:
        try:
            recover_environment(scheme, out.warning)
        finally:
            early.release()


def installed_now(
    target: Target, scheme: Scheme, request: InstallRequest
) -> dict[NormalizedName, InstalledDist]:
    """What counts as installed already for this install."""
    from roost.flows.environment import installed_view
    from roost.target.installed import index, scan

    if request.ignore_installed:
        return {}
    return index(scan(installed_view(target, scheme, request.explicit_location)))


def resolve_stage(
    request: InstallRequest,
    net: Session,
    *,
    target: Target,
    installed: dict[NormalizedName, InstalledDist],
    helpers: Helpers,
    manager: Manager,
    out: Output,
    sdists: SourceDistributions | None = None,
) -> Resolution:
    """Resolve (or reuse the last resolution), fetching pinned wheels meanwhile.

    With *sdists*, an index's source distributions are candidates too, and those the
    resolution keeps come back as the wheels built from them.
    """
    from roost.flows.policy import candidate_filter
    from roost.install.prepare import Unpacker
    from roost.resolve.candidates import without_requested
    from roost.resolve.resolution_cache import resolve_or_reuse
    from roost.util.cache import cache_root

    store = helpers.store
    helpers.unpacker = None if store is None else Unpacker(store, out.detail)

    def pinned(candidate: Candidate) -> None:
        fetch_early(candidate, request, net, helpers)

    resolution = resolve_or_reuse(
        request.requirements,
        client=net.client,
        finder=net.finder,
        fetcher=net.fetcher,
        target=target,
        installed=installed,
        policy=request.policy,
        reuse=not request.hashed,
        lookup_plugins=manager.implementers("roost_index_lookup"),
        root=cache_root(request.settings),
        out=out,
        pinned=pinned,
        source_metadata=None if sdists is None else sdists.metadata,
        exclude=candidate_filter(manager, request.options),
    )
    for warning in resolution.warnings:
        out.warning(warning)
    resolution.candidates = without_requested(resolution.candidates, request.policy)
    return resolution if sdists is None else sdists.built(resolution)


def fetch_early(
    candidate: Candidate, request: InstallRequest, net: Session, helpers: Helpers
) -> None:
    """Start fetching (and unpacking) the wheel of *candidate*, known to be wanted,
    while the run goes on. Not for --dry-run, nor in hash-checking mode (files are
    fetched once the plan is checked against the --hash lines), nor for a wheel named
    directly or whose stored copy the plan will use."""
    if request.dry_run or request.hashed or candidate.direct:
        return
    if candidate.file is None or not candidate.file.is_wheel:
        return
    link = candidate.file.link
    digest = net.fetcher.known_sha256(link)
    if helpers.store is not None and digest is not None and helpers.store.has(digest):
        return
    download = net.fetcher.wheel(link)
    if helpers.unpacker is not None:
        file = candidate.file
        metadata = net.fetcher.resolver_metadata(link)
        helpers.unpacker.early(
            download, net.fetcher.digests, (file.name, str(file.version), metadata)
        )


def still_to_install(resolution: Resolution, request: InstallRequest) -> list[Candidate]:
    """The resolution less what is installed already.

    With ``--force-reinstall``, an installed version no source offers (every file of it
    excluded, or installed from a path since gone) cannot be reinstalled: pip stops
    there, and so does roost, before anything is fetched.
    """
    force = request.policy.force_reinstall
    todo = [c for c in resolution.candidates if c.installed is None or force]
    stranded = [c for c in todo if c.file is None]
    if stranded:
        from roost.errors import NoMatchingDistribution

        names = ", ".join(f"{c.name} {c.version}" for c in stranded)
        raise NoMatchingDistribution(
            f"--force-reinstall: {names} cannot be reinstalled: no source offers that "
            "version (is the index configured, and does a policy exclude it?). Drop "
            "--force-reinstall to keep what is installed."
        )
    return todo


def check_before_fetching(
    request: InstallRequest, todo: list[Candidate], net: Session, target: Target, out: Output
) -> bool:
    """Hash-checking mode, ``--report`` and ``--dry-run``; False when nothing is to be
    fetched or installed."""
    if request.hashed:
        from roost.resolve.hash_mode import check_hashed, check_pinned

        check_pinned(request.requirements)
        check_hashed(todo, net.fetcher)
    if request.report:
        from roost.flows.install_report import write_report

        write_report(
            request.report,
            todo,
            net.fetcher,
            requirements=request.requirements,
            target=target,
            out=out,
        )
    if request.dry_run:
        if todo:
            from roost.flows.install_output import would_install

            out.info(would_install(todo, net.fetcher))
        return False
    return True


def fetch_stage(
    request: InstallRequest,
    todo: list[Candidate],
    resolution: Resolution,
    *,
    net: Session,
    installed: dict[NormalizedName, InstalledDist],
    scheme: Scheme,
    helpers: Helpers,
    manager: Manager,
    out: Output,
) -> tuple[list[PlanItem], list[UnpackedWheel | None] | None]:
    """Every wheel fetched, checked and unpacked (or the first failure raised) before
    the lock is taken."""
    from roost.flows.fetch_plan import fetch_plan
    from roost.install.prepare import Unpacker

    def prepared(
        verify: Callable[[UnpackedWheel], None] | None,
    ) -> tuple[list[PlanItem], list[UnpackedWheel | None] | None]:
        unpacker = helpers.unpacker
        plan = fetch_plan(
            todo,
            installed,
            scheme,
            requested=resolution.requested,
            fetcher=net.fetcher,
            event=lambda step: manager.install_event(step, request.options),
            store=helpers.store,
            ready=None if unpacker is None else unpacker.add,
            verify=verify,
            made=None if unpacker is None else unpacker.made(),
            direct_urls=request.direct_urls,
        )
        return plan, None if unpacker is None else unpacker.results()

    placer = helpers.placer
    if placer is None or not placer.helped:
        return prepared(None)
    # The helper checks the stored files while this process goes on.
    plan, unpacked = prepared(lambda entry: placer.verify(str(entry.root)))
    placer.sync()
    if not placer.stale:
        return plan, unpacked
    # Said aloud: a re-fetch that then fails should not come out of the blue.
    out.warning(
        f"{len(placer.stale)} stored wheel(s) are not what their wheel holds (a "
        "hard-linked file edited in place, or the cache was written to); unpacking "
        "them again from the verified wheels"
    )
    store = helpers.store
    helpers.unpacker = Unpacker(store, out.detail) if store is not None else None
    return prepared(None)


def install_stage(
    request: InstallRequest,
    plan: list[PlanItem],
    unpacked: list[UnpackedWheel | None] | None,
    *,
    installed: dict[NormalizedName, InstalledDist],
    target: Target,
    scheme: Scheme,
    helpers: Helpers,
    manager: Manager,
    out: Output,
    lines: InstallLines | None = None,
    todo: Sequence[Candidate] = (),
    removals: Sequence[InstalledDist] = (),
) -> list[InstalledDistribution]:
    """One transaction under the environment's lock (recovering a crashed one first).

    What is installed is read again under the lock: if another run changed it since
    *installed* was read (the view the plan was made for), :class:`EnvironmentChanged`
    is raised before anything is written, and the caller plans again. With *lines*,
    pip's lines for *todo* and for each version replaced are said as it goes.
    *removals* are removed in the same transaction (``roost sync``).
    """
    from roost.install.execute import install_plan
    from roost.install.lock import env_lock
    from roost.install.transaction import recover_environment

    def event(step: InstallEvent) -> None:
        if lines is not None:
            lines.event(step)
        manager.install_event(step, request.options)

    with env_lock(
        lock_path_for(request.settings, scheme, out),
        scheme.purelib,
        timeout=request.lock_timeout,
        notify=out.warning,
    ):
        recover_environment(scheme, out.warning)
        if _signature(installed_now(target, scheme, request)) != _signature(installed):
            raise EnvironmentChanged
        if lines is not None:
            lines.installing(todo)
        return install_plan(
            plan,
            target,
            scheme,
            log=out.detail,
            event=event,
            link_mode=request.link_mode,
            unpacked=unpacked,
            placer=helpers.placer,
            removals=removals,
        )


def resolve_and_install(
    request: InstallRequest,
    net: Session,
    *,
    target: Target,
    scheme: Scheme,
    helpers: Helpers,
    manager: Manager,
    out: Output,
    sdists: SourceDistributions | None = None,
    checked: Callable[[list[Candidate]], bool] = lambda _todo: True,
    lines: InstallLines | None = None,
    resolver: Resolver | None = None,
    removals: Callable[[Installed, Resolution], list[InstalledDist]] | None = None,
) -> list[InstalledDistribution] | None:
    """Read what is installed, resolve, fetch and install: the stages one install goes
    through once. *checked* sees what is still to install before anything is fetched
    and may stop the install (False) or refuse it (raise). Once every wheel is here,
    checked and unpacked, the plugins' download check sees those the store had, and
    their plan check the final plan (for :attr:`Helpers.plan_checked` installs).
    With *lines* (the user's install), pip's lines are said, and the install goes in
    pip's order. None: nothing was installed.

    *resolver* makes the resolution from what is installed (default: the resolver,
    :func:`resolve_stage`; a lock file's install gives one that reads the lock).
    *removals* names, from what is installed and the resolution, the distributions the
    same transaction removes (``roost sync``); they are asked for before *checked* is called.

    :raises EnvironmentChanged: another run changed the environment since it was read.
    """
    from roost.flows.policy import check_plan, check_stored, install_plan

    installed = installed_now(target, scheme, request)
    if resolver is None:
        resolution = resolve_stage(
            request,
            net,
            target=target,
            installed=installed,
            helpers=helpers,
            manager=manager,
            out=out,
            sdists=sdists,
        )
    else:
        resolution = resolver(installed)
    gone = [] if removals is None else removals(installed, resolution)
    todo = still_to_install(resolution, request)
    if lines is not None:
        lines.resolved(
            resolution,
            request.requirements,
            target=target,
            fetcher=net.fetcher,
            no_deps=request.policy.no_deps,
            reinstall=request.policy.force_reinstall,
        )
        todo = lines.install_order(todo)
    if not checked(todo):
        return None
    plan, unpacked = fetch_stage(
        request,
        todo,
        resolution,
        net=net,
        installed=installed,
        scheme=scheme,
        helpers=helpers,
        manager=manager,
        out=out,
    )
    check_stored(todo, plan, net.fetcher)
    if not plan and not gone:
        return None
    if helpers.plan_checked:
        public = install_plan(todo, plan, net.fetcher, scheme)
        if gone:
            public = with_removals(public, gone)
        check_plan(manager, public, target, request.options)
    return install_stage(
        request,
        plan,
        unpacked,
        installed=installed,
        target=target,
        scheme=scheme,
        helpers=helpers,
        manager=manager,
        out=out,
        lines=lines,
        todo=todo,
        removals=gone,
    )


#: How many times an install plans again when concurrent runs change the environment.
VIEW_ATTEMPTS = 3


class EnvironmentChanged(Exception):
    """What is installed changed between planning and taking the lock."""


def with_removals(plan: Plan, gone: Sequence[InstalledDist]) -> Plan:
    """*plan* with a ``"remove"`` entry for each of *gone*, as ``roost_check_plan``
    sees a ``roost sync``."""
    from dataclasses import replace

    from roost.policy_types import PlanEntry

    entries = tuple(
        PlanEntry(name=dist.name, version=dist.version, action="remove") for dist in gone
    )
    return replace(plan, entries=(*plan.entries, *entries))


def _signature(installed: dict[NormalizedName, InstalledDist]) -> dict[str, tuple[str, str]]:
    return {name: (dist.version, str(dist.dist_info)) for name, dist in installed.items()}


# -- shared with other commands -------------------------------------------------------


def refusal_message(refusals: list[Refusal]) -> str:
    """The guards' refusals as one message, each with its remedies."""
    parts = []
    for refusal in refusals:
        text = refusal.reason
        if refusal.remedies:
            text += "\n" + "\n".join(f"  - {remedy}" for remedy in refusal.remedies)
        parts.append(text)
    return "\n\n".join(parts)


def lock_path_for(settings: Settings, scheme: Scheme, out: Output) -> Path:
    from roost.install.lock import lock_file

    return lock_file(settings, scheme.purelib, out.warning)
