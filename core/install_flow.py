"""The steps of ``roost install``, in DESIGN's order: target, scheme, guard, resolve,
fetch, install under a lock, post-install hooks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from roost.errors import InstallRefused, NoIndexConfigured
from roost.output import Output
from roost.types import (
    InstallEvent,
    Options,
    Refusal,
    Scheme,
    Settings,
    SettingsLayer,
    Target,
)

if TYPE_CHECKING:
    from roost.manager import Manager
    from roost.reqfile import ParsedRequirement


def load_target(ctx: click.Context, params: dict[str, Any], settings: Settings) -> Target:
    from roost.cache import cache_root
    from roost.interpreter import find_target, introspect

    python = params.get("python") or ctx.meta.get("roost.default_python")
    executable = find_target(python, cwd=Path.cwd(), env=os.environ)
    root = cache_root(settings)
    return introspect(executable, cache_dir=root)


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
    paths = list(target.sys_path)
    for extra in (scheme.purelib, scheme.platlib):
        if extra not in paths:
            paths.insert(0, extra)
    return paths


def _reqfile_layer(files: list[Any]) -> SettingsLayer | None:
    """Index options written inside requirements files, above the command line (as pip)."""
    values: dict[str, str | tuple[str, ...]] = {}
    for parsed in files:
        if parsed.index_url:
            values["index-url"] = parsed.index_url
        for key, items in (
            ("extra-index-url", parsed.extra_index_urls),
            ("find-links", parsed.find_links),
            ("trusted-host", parsed.trusted_hosts),
        ):
            if items:
                current = values.get(key, ())
                values[key] = tuple(current) + tuple(items)
        if parsed.no_index:
            values["no-index"] = "1"
        if parsed.pre:
            values["pre"] = "1"
    return SettingsLayer("requirements files", values) if values else None


def run_install(ctx: click.Context, out: Output) -> None:
    from roost.cmd_install import settings_for

    manager: Manager = ctx.meta["roost.manager"]
    settings = settings_for(ctx, "install")
    params = apply_defaults(ctx, settings)

    # Requirements files can carry index options, so read them before the sources.
    from roost.reqfile import parse_requirement_line, parse_requirements_file

    files = [parse_requirements_file(path) for path in params["requirement_files"]]
    layer = _reqfile_layer(files)
    if layer is not None:
        for key, value in layer.values.items():
            # Lists from files add to what was configured, as pip's do.
            if isinstance(value, tuple) and key != "index-url":
                layer = SettingsLayer(
                    layer.name, {**layer.values, key: settings.get_list(key) + value}
                )
        settings = Settings((layer, *settings.layers))
        params = apply_defaults(ctx, settings)
    requirements: list[ParsedRequirement] = [
        parse_requirement_line(text, "command line") for text in params["requirements"]
    ]
    for parsed in files:
        requirements.extend(r for r in parsed.requirements if not r.constraint)
    constraints = [r for parsed in files for r in parsed.requirements if r.constraint]
    for path in tuple(params["constraint_files"]) + settings.get_list("constraint"):
        constraints.extend(parse_requirements_file(path, constraint=True).requirements)
    if not requirements:
        raise click.UsageError("give at least one requirement, or -r FILE")

    options = Options("install", params)
    target = load_target(ctx, params, settings)
    scheme = manager.select_scheme(target, options)
    if params.get("root"):
        scheme = scheme.rerooted(params["root"])
    refusals = manager.check_install(target, scheme, options)
    if refusals:
        raise InstallRefused(refusal_message(refusals))
    out.detail(f"target: {target.executable} (Python {target.full_version})")
    out.detail(f"scheme: {scheme.name}: {scheme.purelib}")
    from roost.install import recover_environment
    from roost.lock import try_lock

    # Undo an interrupted transaction before reading what is installed; if another run
    # holds the lock, its transaction is live and this run recovers under the lock later.
    early = try_lock(lock_path_for(settings, scheme, out))
    if early is not None:
        try:
            recover_environment(scheme, out.warning)
        finally:
            early.release()

    from roost.fetch import Fetcher
    from roost.finder import Finder
    from roost.http import Client
    from roost.install import PlanItem, install_plan
    from roost.installed import index, scan
    from roost.plan import constraint_map, resolve
    from roost.resolver import Policy

    sources = manager.index_sources(settings)
    for source in sources:
        out.detail(f"source: {source.kind} {source.display} (from {source.origin})")
    needs_index = any(r.url is None for r in requirements)
    if not sources and needs_index:
        if settings.get_bool("no-index"):
            raise NoIndexConfigured(
                f"--no-index is set (from {settings.origin('no-index')}) and no --find-links "
                "location is configured, so there is nowhere to find packages. Add "
                "-f DIR (a folder of wheels) or drop --no-index."
            )
        from roost.finder import no_index_configured_message

        raise NoIndexConfigured(no_index_configured_message())

    installed = (
        {} if params["ignore_installed"] else index(scan(installed_view(target, scheme, params)))
    )
    policy = Policy(
        upgrade=bool(params["upgrade"]),
        eager=bool(params["upgrade"]) and params["upgrade_strategy"] == "eager",
        force_reinstall=bool(params["force_reinstall"]),
        pre=bool(params["pre"]),
        no_deps=bool(params["no_deps"]),
        constraints=constraint_map(constraints),
    )
    from roost.cmd_install import work_dir

    downloads = work_dir()
    with Client(manager, settings) as client:
        for source in sources:
            client.remember_credentials(source.url)
        fetcher = Fetcher(client, downloads, wheel_cache(settings, out), warn=out.warning)
        try:
            finder = Finder(
                manager,
                client,
                sources,
                target,
                strategy=params.get("index_strategy") or "first-index",
            )
            resolution = resolve(
                requirements,
                finder=finder,
                fetcher=fetcher,
                target=target,
                installed=installed,
                policy=policy,
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
            if require_hashes(params, settings, files):
                from roost.hash_mode import check_hashed, check_pinned

                check_pinned(requirements)
                check_hashed(todo, fetcher)
            if params.get("dry_run"):
                if todo:
                    out.info("Would install " + " ".join(_label(c) for c in todo))
                return
            # Start every download at once; the pool bounds the concurrency.
            futures = {}
            for candidate in todo:
                link = _link_of(candidate)
                futures[candidate.name] = fetcher.wheel(link)
            plan = []
            scheme_dirs = {Path(scheme.purelib), Path(scheme.platlib)}
            for number, candidate in enumerate(todo, 1):
                wheel = futures[candidate.name].result()
                manager.install_event(
                    InstallEvent(
                        "download", candidate.name, str(candidate.version), number, len(todo)
                    ),
                    options,
                )
                old = installed.get(candidate.name)
                replaces = old if old is not None and old.location in scheme_dirs else None
                plan.append(
                    PlanItem(
                        name=_dist_name(fetcher, candidate),
                        version=candidate.version,
                        wheel=wheel,
                        replaces=replaces,
                        requested=candidate.name in resolution.requested,
                        direct_url=_direct_url(candidate, wheel) if candidate.direct else None,
                    )
                )
        finally:
            fetcher.close()
    try:
        if not plan:
            return
        from roost.lock import env_lock

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
                index_metadata=fetcher.index_metadata,
            )
        manager.post_install(target, scheme, done, options)
        out.info("Successfully installed " + " ".join(f"{d.name}-{d.version}" for d in done))
    finally:
        shutil.rmtree(downloads, ignore_errors=True)


def lock_path_for(settings: Settings, scheme: Scheme, out: Output) -> Path:
    from roost.lock import lock_file

    return lock_file(settings, scheme.purelib, out.warning)


def wheel_cache(settings: Settings, out: Output) -> Any:
    """The wheel cache, or None with ``--no-cache-dir``."""
    from roost.cache import cache_root
    from roost.wheel_cache import WheelCache

    root = cache_root(settings)
    return None if root is None else WheelCache(root, out.warning)


def require_hashes(params: dict[str, Any], settings: Settings, files: list[Any]) -> bool:
    """Hash-checking mode: ``--require-hashes``, or any ``--hash`` in a requirements file."""
    return (
        bool(params.get("require_hashes"))
        or settings.get_bool("require-hashes")
        or any(f.require_hashes for f in files)
    )


def apply_defaults(ctx: click.Context, settings: Settings) -> dict[str, Any]:
    from roost.options import apply_setting_defaults

    return apply_setting_defaults(ctx, settings)


def _label(candidate: Any) -> str:
    return f"{candidate.name}-{candidate.version}"


def _link_of(candidate: Any) -> Any:
    assert candidate.file is not None
    return candidate.file.link


def _dist_name(fetcher: Any, candidate: Any) -> str:
    """The project name as its metadata spells it (headers go in a directory so named)."""
    from roost.installed import parse_metadata

    meta = parse_metadata(fetcher.metadata(candidate.file.link).result())
    return str(meta.get("Name") or candidate.name)


def _direct_url(candidate: Any, wheel: Path) -> dict[str, object]:
    from roost.http import file_hashes, split_credentials

    url, _ = split_credentials(candidate.file.link.url)
    digest = file_hashes(wheel)["sha256"]
    return {"url": url, "archive_info": {"hash": f"sha256={digest}", "hashes": {"sha256": digest}}}
