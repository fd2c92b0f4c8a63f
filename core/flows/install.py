"""The steps of ``roost install``, in DESIGN's order: target, scheme, guard, resolve,
fetch, install under a lock, post-install hooks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from roost.errors import InstallRefused
from roost.types import (
    InstallEvent,
    NormalizedName,
    Options,
    Refusal,
    Scheme,
    Settings,
    Target,
)
from roost.util.output import Output

if TYPE_CHECKING:
    from roost.flows.gather import Session
    from roost.flows.invocation import Invocation
    from roost.install.prepare import PlanItem
    from roost.resolve.candidates import Candidate, Policy
    from roost.resolve.plan import Resolution
    from roost.resolve.reqfile import RequirementsFile
    from roost.resolve.requirement_line import ParsedRequirement
    from roost.store.fetch import Fetcher
    from roost.store.unpacked import UnpackedStore, UnpackedWheel
    from roost.target.installed import InstalledDist
    from roost.types import Link


def refusal_message(refusals: list[Refusal]) -> str:
    parts = []
    for refusal in refusals:
        text = refusal.reason
        if refusal.remedies:
            text += "\n" + "\n".join(f"  - {remedy}" for remedy in refusal.remedies)
        parts.append(text)
    return "\n\n".join(parts)


def installed_view(target: Target, scheme: Scheme, params: dict[str, Any]) -> list[str]:
    """Directories whose distributions count as already installed for this install."""
    if params.get("target_dir") or params.get("prefix") or params.get("root"):
        return list(dict.fromkeys((scheme.purelib, scheme.platlib)))
    from roost.flows.environment import with_user_site

    # The cached description of the target may predate its user site folder.
    paths = with_user_site(target)
    for extra in (scheme.purelib, scheme.platlib):
        if extra not in paths:
            paths.insert(0, extra)
    return paths


def run_install(invocation: Invocation) -> None:
    """``roost install``: every stage of DESIGN's order, from the typed invocation."""
    from roost.flows.environment import load_target
    from roost.flows.gather import gather, index_sources, session
    from roost.install.execute import new_placer
    from roost.install.lock import try_lock
    from roost.install.prepare import Unpacker
    from roost.install.transaction import recover_environment
    from roost.resolve.candidates import Policy, binary_policy
    from roost.resolve.plan import constraint_map
    from roost.target.installed import index, scan
    from roost.util.cache import cache_root

    manager, out = invocation.manager, invocation.out
    inputs = gather(invocation)
    settings, params, requirements = inputs.settings, inputs.params, inputs.requirements
    options = Options("install", params)
    store = None if params.get("dry_run") else unpacked_store(settings)
    link_mode = params.get("link_mode")
    # Started first, so that its interpreter is up (~0.1 s on these machines) by the
    # time it checks the store and places files; ended with the command.
    placer = None if store is None else new_placer(link_mode, out.detail, helper=True)
    if placer is not None:
        invocation.on_close(placer.close)
    target = load_target(invocation, params, settings)
    scheme = manager.select_scheme(target, options)
    if params.get("root"):
        scheme = scheme.rerooted(params["root"])
    refusals = manager.check_install(target, scheme, options)
    if refusals:
        raise InstallRefused(refusal_message(refusals))
    out.detail(f"target: {target.executable} (Python {target.full_version})")
    out.detail(f"scheme: {scheme.name}: {scheme.purelib}")

    # Undo an interrupted transaction before reading what is installed; if another run
    # holds the lock, its transaction is live and this run recovers under the lock later.
    early = try_lock(lock_path_for(settings, scheme, out))
    if early is not None:
        try:
            recover_environment(scheme, out.warning)
        finally:
            early.release()

    sources = index_sources(manager, settings, requirements, out)
    installed = (
        {} if params["ignore_installed"] else index(scan(installed_view(target, scheme, params)))
    )
    policy = Policy(
        upgrade=bool(params["upgrade"]),
        eager=bool(params["upgrade"]) and params["upgrade_strategy"] == "eager",
        force_reinstall=bool(params["force_reinstall"]),
        pre=bool(params["pre"]),
        no_deps=bool(params["no_deps"]),
        constraints=constraint_map(inputs.constraints),
        no_binary=binary_policy(params["no_binary"]),
    )
    hashed = require_hashes(params, settings, inputs.files)
    with session(manager, settings, sources, target, params=params, out=out) as run:
        unpacker = None if store is None else Unpacker(store, out.detail)

        def pinned(candidate: Candidate) -> None:
            # Fetched (and unpacked) while the resolver goes on. Not for --dry-run, nor in
            # hash-checking mode (files are fetched once the plan is checked against the
            # --hash lines), nor for a wheel whose stored copy the plan will use.
            if params.get("dry_run") or hashed or candidate.direct:
                return
            if candidate.file is None or not candidate.file.is_wheel:
                return
            link = candidate.file.link
            digest = run.fetcher.known_sha256(link)
            if store is not None and digest is not None and store.has(digest):
                return
            download = run.fetcher.wheel(link)
            if unpacker is not None:
                file = candidate.file
                metadata = run.fetcher.resolver_metadata(link)
                unpacker.early(
                    download, run.fetcher.digests, (file.name, str(file.version), metadata)
                )

        try:
            resolution = resolve_reusing(
                requirements,
                run=run,
                target=target,
                installed=installed,
                policy=policy,
                reuse=not hashed,
                lookup_plugins=manager.implementers("roost_index_lookup"),
                root=cache_root(settings),
                out=out,
                pinned=pinned,
            )
            for warning in resolution.warnings:
                out.warning(warning)
            todo = []
            for candidate in resolution.candidates:
                if candidate.installed is not None and not policy.force_reinstall:
                    if candidate.name in resolution.requested:
                        out.info(
                            f"Requirement already satisfied: {candidate.installed.name} "
                            f"in {candidate.installed.location} ({candidate.version})"
                        )
                    continue
                todo.append(candidate)
            if hashed:
                from roost.resolve.hash_mode import check_hashed, check_pinned

                check_pinned(requirements)
                check_hashed(todo, run.fetcher)
            if params.get("report"):
                write_report(
                    params["report"],
                    todo,
                    run.fetcher,
                    requirements=requirements,
                    target=target,
                    out=out,
                )
            if params.get("dry_run"):
                if todo:
                    out.info("Would install " + " ".join(_label(c) for c in todo))
                return

            def prepared(
                unpacker: Unpacker | None, verify: Callable[[UnpackedWheel], None] | None
            ) -> tuple[list[PlanItem], list[UnpackedWheel | None] | None]:
                plan = fetch_plan(
                    todo,
                    installed,
                    scheme,
                    requested=resolution.requested,
                    fetcher=run.fetcher,
                    event=lambda step: manager.install_event(step, options),
                    store=store,
                    ready=None if unpacker is None else unpacker.add,
                    verify=verify,
                    made=None if unpacker is None else unpacker.made(),
                )
                # Every wheel checked and unpacked (or the first failure raised) before the
                # lock.
                return plan, None if unpacker is None else unpacker.results()

            if placer is not None and placer.helped:
                # The helper checks the stored files while this process goes on.
                plan, unpacked = prepared(unpacker, lambda entry: placer.verify(str(entry.root)))
                placer.sync()
                if placer.stale:
                    out.detail(
                        f"{len(placer.stale)} stored wheel(s) changed since they were "
                        "unpacked (a hard-linked file edited in place); unpacking again"
                    )
                    unpacker = Unpacker(store, out.detail) if store is not None else None
                    plan, unpacked = prepared(unpacker, None)
            else:
                plan, unpacked = prepared(unpacker, None)
            if not plan:
                return
            from roost.install.execute import install_plan
            from roost.install.lock import env_lock

            with env_lock(
                lock_path_for(settings, scheme, out),
                scheme.purelib,
                timeout=params.get("lock_timeout"),
                notify=out.warning,
            ):
                recover_environment(scheme, out.warning)
                done = install_plan(
                    plan,
                    target,
                    scheme,
                    log=out.detail,
                    event=lambda step: manager.install_event(step, options),
                    link_mode=link_mode,
                    unpacked=unpacked,
                    placer=placer,
                )
        finally:
            if unpacker is not None:
                unpacker.cancel()
            if placer is not None:
                placer.close()
    manager.post_install(target, scheme, done, options)
    out.info("Successfully installed " + " ".join(f"{d.name}-{d.version}" for d in done))


def resolve_reusing(
    requirements: list[ParsedRequirement],
    *,
    run: Session,
    target: Target,
    installed: dict[NormalizedName, InstalledDist],
    policy: Policy,
    reuse: bool,
    lookup_plugins: list[str],
    root: Path | None,
    out: Output,
    pinned: Callable[[Candidate], None] | None = None,
) -> Resolution:
    """Resolve, or reuse the previous resolution of the same inputs over the same fresh
    index pages (:mod:`roost.resolve.resolution_cache`), and keep this one for next time."""
    from roost.resolve import resolution_cache
    from roost.resolve.plan import resolve

    client = run.client
    http_cache = client.http_cache
    key = None
    if reuse and root is not None and http_cache is not None and not client.refresh:
        key = resolution_cache.resolution_key(
            requirements,
            target=target,
            installed=installed,
            policy=policy,
            sources=run.finder.sources,
            strategy=run.finder.strategy,
            lookup_plugins=lookup_plugins,
        )
        reused = None if key is None else resolution_cache.load(root, key, http_cache, installed)
        if reused is not None:
            out.detail("resolution: the previous one, reused (same inputs, same fresh pages)")
            for candidate in reused.resolution.candidates:
                if candidate.file is not None:
                    link = candidate.file.link
                    run.fetcher.remember_metadata(link, reused.metadata[link.metadata_url])
            return reused.resolution
    resolution = resolve(
        requirements,
        finder=run.finder,
        fetcher=run.fetcher,
        target=target,
        installed=installed,
        policy=policy,
        pinned=pinned,
    )
    # A resolution that read anything the HTTP cache did not keep, or that had to ask
    # the index again, cannot be checked next time.
    if key is not None and root is not None and not client.unrecorded and not client.refresh:
        resolution_cache.save(root, key, resolution, list(client.pages))
    return resolution


def unpacked_store(settings: Settings) -> UnpackedStore | None:
    """The store of unpacked wheels in the cache; None without a cache."""
    from roost.store.unpacked import UnpackedStore
    from roost.util.cache import cache_root

    root = cache_root(settings)
    return None if root is None else UnpackedStore(root / "unpacked")


def fetch_plan(
    todo: list[Candidate],
    installed: Mapping[NormalizedName, InstalledDist],
    scheme: Scheme,
    *,
    requested: frozenset[str],
    fetcher: Fetcher,
    event: Callable[[InstallEvent], None],
    store: UnpackedStore | None = None,
    ready: Callable[[PlanItem], None] | None = None,
    verify: Callable[[UnpackedWheel], None] | None = None,
    made: Mapping[str, UnpackedWheel] | None = None,
) -> list[PlanItem]:
    """Wait for every wheel (all downloads run at once, the pool bounds them), in order,
    handing each item to *ready* as soon as its wheel is here.

    A wheel whose sha256 the index gave and whose unpacked copy the store holds is not
    fetched: the store's copy was made from those very bytes. *verify*, when given,
    takes over checking those copies' files (see :meth:`UnpackedStore.find`); the
    copies this run *made* (by sha256) are taken as they are.
    """
    from roost.install.prepare import PlanItem

    unpacked = _stored(todo, fetcher, store, verify, made or {})
    futures = {
        candidate.name: fetcher.wheel(_link_of(candidate))
        for candidate in todo
        if candidate.name not in unpacked
    }
    plan = []
    scheme_dirs = {Path(scheme.purelib), Path(scheme.platlib)}
    for number, candidate in enumerate(todo, 1):
        link = _link_of(candidate)
        entry = unpacked.get(candidate.name)
        wheel, sha256 = None, None
        if entry is not None:
            sha256 = entry.root.name  # entries are named by the wheel's sha256
        else:
            wheel = futures[candidate.name].result()
            sha256 = fetcher.digests.get(wheel)
        event(InstallEvent("download", candidate.name, str(candidate.version), number, len(todo)))
        old = installed.get(candidate.name)
        # Only a copy in the scheme being written is replaced; a system copy seen from a
        # --user install stays where it is, as pip leaves it.
        replaces = old if old is not None and old.location in scheme_dirs else None
        plan.append(
            PlanItem(
                name=_dist_name(fetcher, candidate),
                version=candidate.version,
                filename=link.filename,
                wheel=wheel,
                sha256=sha256,
                entry=entry,
                replaces=replaces,
                requested=candidate.name in requested,
                direct_url=_direct_url(candidate, sha256) if candidate.direct else None,
                index_metadata=fetcher.resolver_metadata(link),
            )
        )
        if ready is not None:
            ready(plan[-1])
    return plan


def _stored(
    todo: list[Candidate],
    fetcher: Fetcher,
    store: UnpackedStore | None,
    verify: Callable[[UnpackedWheel], None] | None,
    made: Mapping[str, UnpackedWheel],
) -> dict[str, UnpackedWheel]:
    """The store entries of the wheels whose sha256 is known before fetching, by name.

    Wheels named directly (a path or URL) are always fetched: their direct_url.json
    records what the file was.
    """
    if store is None:
        return {}
    known = {
        candidate.name: digest
        for candidate in todo
        if not candidate.direct and (digest := fetcher.known_sha256(_link_of(candidate)))
    }
    if not known:
        return {}
    # One thread: checking an entry is one lstat per file, and threads only fought over
    # the GIL (0.10 s for jupyter's 97 entries in one thread, 0.15 s in two).
    found = {
        name: made.get(digest) or store.find(digest, verify) for name, digest in known.items()
    }
    return {name: entry for name, entry in found.items() if entry is not None}


def write_report(
    where: str,
    todo: list[Candidate],
    fetcher: Fetcher,
    *,
    requirements: list[ParsedRequirement],
    target: Target,
    out: Output,
) -> None:
    """pip's installation report for what this run installs (or would, with --dry-run)."""
    from packaging.utils import canonicalize_name

    from roost.install.report import install_item, report
    from roost.target.installed import parse_metadata

    extras: dict[str, set[str]] = {}
    for parsed in requirements:
        if parsed.requirement is not None:
            name = canonicalize_name(parsed.requirement.name)
            extras.setdefault(name, set()).update(parsed.requirement.extras)
    items = []
    for candidate in todo:
        link = _link_of(candidate)
        items.append(
            install_item(
                url=link.url,
                sha256=link.hashes.get("sha256") or fetcher.wheel_sha256(link),
                is_direct=candidate.direct,
                is_yanked=link.yanked is not None,
                requested=candidate.name in extras,
                requested_extras=sorted(extras.get(candidate.name, ())),
                metadata=parse_metadata(fetcher.metadata(link).result()),
            )
        )
    text = report(items, target.markers)
    if where == "-":
        click.echo(text)
    else:
        Path(where).write_text(text + "\n", encoding="utf-8")
        out.detail(f"report written to {where}")


def lock_path_for(settings: Settings, scheme: Scheme, out: Output) -> Path:
    from roost.install.lock import lock_file

    return lock_file(settings, scheme.purelib, out.warning)


def require_hashes(
    params: dict[str, Any], settings: Settings, files: list[RequirementsFile]
) -> bool:
    """Hash-checking mode: ``--require-hashes``, or any ``--hash`` in a requirements file."""
    return (
        bool(params.get("require_hashes"))
        or settings.get_bool("require-hashes")
        or any(f.require_hashes for f in files)
    )


def _label(candidate: Candidate) -> str:
    return f"{candidate.name}-{candidate.version}"


def _link_of(candidate: Candidate) -> Link:
    assert candidate.file is not None
    return candidate.file.link


def _dist_name(fetcher: Fetcher, candidate: Candidate) -> str:
    """The project name as its metadata spells it (headers go in a directory so named)."""
    from roost.util.core_metadata import header_fields

    names = header_fields(fetcher.metadata(_link_of(candidate)).result()).get("name", [])
    return next((name for name in names if name), candidate.name)


def _direct_url(candidate: Candidate, digest: str | None) -> dict[str, object]:
    from roost.net.urls import split_credentials

    assert digest is not None, "a fetched wheel's sha256 is always known"
    url, _ = split_credentials(_link_of(candidate).url)
    return {"url": url, "archive_info": {"hash": f"sha256={digest}", "hashes": {"sha256": digest}}}
