"""``roost install -r pylock.toml``: install exactly what a lock file names, without
resolving and without asking any index what it offers.

The lock is read and selected for the target (:mod:`roost.lock.select`); each chosen
file becomes a resolver :class:`~roost.resolve.candidates.Candidate` whose link carries
the lock's URL, hashes and size, so the fetcher checks every byte against the lock.
Index wheels and sdists install as index installs (no ``direct_url.json``); sdists are
built like an index's (:class:`~roost.flows.sdists.SourceDistributions`); VCS commits,
directories and archives are built as direct references. The resolution made that way
goes through the same stages as ``roost install`` (:mod:`roost.flows.stages`);
``roost sync`` (:mod:`roost.flows.sync`) drives the same stages, adding removals.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from packaging.requirements import Requirement
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from roost.errors import BuildError, ConfigError, InstallError
from roost.flows.request import InstallRequest
from roost.flows.stages import (
    VIEW_ATTEMPTS,
    EnvironmentChanged,
    Helpers,
    Installed,
    Resolver,
    check_before_fetching,
    choose_scheme,
    fetch_early,
    recover_interrupted,
    resolve_and_install,
)
from roost.types import IndexSource, Link, NormalizedName, Scheme, Target

if TYPE_CHECKING:
    from roost.build.builder import Builder
    from roost.flows.gather import Session
    from roost.flows.install_output import InstallLines
    from roost.flows.invocation import Invocation
    from roost.flows.sdists import SourceDistributions
    from roost.lock.select import LockedFile
    from roost.resolve.candidates import Candidate
    from roost.resolve.plan import Resolution
    from roost.resolve.requirement_line import ParsedRequirement
    from roost.store.fetch import Fetcher
    from roost.store.unpacked import UnpackedStore
    from roost.target.installed import InstalledDist
    from roost.types import InstalledDistribution


# -- routing ``roost install -r`` ------------------------------------------------------


def lock_to_install(params: Mapping[str, Any]) -> tuple[str, tuple[str, ...] | None] | None:
    """The lock file ``roost install`` is asked to install, with the groups asked of it
    (None: its default groups), else None.

    A lock comes from ``-r pylock.toml`` or from ``--group pylock.toml:GROUP``. It is
    the whole set, so nothing is resolved around it: other requirements, requirements
    files, constraints, pyproject.toml groups or a second lock beside it are refused.
    """
    from roost.flows.groups import group_requests
    from roost.lock.select import is_lock_path

    files = tuple(str(text) for text in params.get("requirement_files") or ())
    requests = group_requests(params.get("groups") or ())
    locks = [text for text in files if is_lock_path(text)]
    locks += [r.path for r in requests if r.is_lock_file]
    if not locks:
        return None
    lock = locks[0]
    if any(params.get(key) for key in ("platforms", "python_version", "implementation", "abis")):
        # pip's rule too (exit status 1): a lock is selected for the target itself.
        raise ConfigError(
            "--platform, --python-version, --implementation and --abi cannot select what "
            f"to install from the lock file {lock}: a lock is selected for the target "
            "environment itself"
        )
    others = [
        *(text for text in files if not is_lock_path(text)),
        *(params.get("requirements") or ()),
        *(params.get("editables") or ()),
        *(f"--requirements-from-script {s}" for s in params.get("requirements_from_script") or ()),
        *(f"--group {r.path}:{r.group}" for r in requests if not r.is_lock_file),
    ]
    same = {Path(text.partition("[")[0]).resolve() for text in locks}
    if others or params.get("constraint_files") or len(same) > 1:
        raise click.UsageError(
            f"{lock} installs exactly what the lock file names: give it alone (-r LOCK, "
            "with --group LOCK:GROUP to choose its groups), without other requirements, "
            "requirements files, constraints or pyproject.toml groups"
        )
    groups = tuple(r.group for r in requests if r.is_lock_file)
    return lock, groups or None


def maybe_install_lock(invocation: Invocation) -> bool:
    """Run :func:`install_lock` when ``-r`` or ``--group`` names a lock file; False
    otherwise (then ``roost install`` goes on as usual)."""
    asked = lock_to_install(invocation.params_for(invocation.settings()))
    if asked is None:
        return False
    install_lock(invocation, *asked)
    return True


def install_lock(invocation: Invocation, lock: str, groups: Sequence[str] | None = None) -> None:
    """``roost install -r LOCK[extras] [--group G ...]``: the entry point for a lock file.

    *groups* None selects the lock's ``default-groups``; a tuple (empty too) selects
    exactly those groups.
    """
    from roost.flows.install_output import InstallLines
    from roost.lock.select import lock_request, read_lock, select_files

    out = invocation.out
    asked = lock_request(lock, groups)
    pylock, warnings = read_lock(asked.path)
    for warning in warnings:
        out.warning(warning)
    request = locked_request(invocation)
    with started(invocation, request) as run:
        files = select_files(pylock, asked, run.target)
        out.detail(f"{asked.path}: {len(files)} package(s) selected for this target")
        resolver = locked_resolver(run, files, origin=str(asked.path))
        lines = InstallLines(run.request.requirements, out)
        done = install_attempts(
            run,
            resolver=resolver,
            checked=lambda todo: check_before_fetching(
                run.request, todo, run.net, run.target, out
            ),
            lines=lines,
        )
    if done is None:
        return
    invocation.manager.post_install(run.target, run.scheme, done, run.request.options)
    lines.installed(done)


# -- the run ---------------------------------------------------------------------------


def locked_request(invocation: Invocation) -> InstallRequest:
    """The install request of a command that installs a fixed set: options and settings
    as ``roost install`` reads them, the lock's own hashes always checked (per file,
    by the fetcher) instead of hash-checking mode."""
    from roost.flows.gather import Gathered

    settings = invocation.settings()
    params = invocation.params_for(settings)
    request = InstallRequest.from_gathered(Gathered(settings, params, [], []))
    return replace(request, hashed=False)


@dataclass
class Run:
    """One started install of a fixed set: target, scheme, helpers, network, builder."""

    invocation: Invocation
    request: InstallRequest
    target: Target
    scheme: Scheme
    helpers: Helpers
    net: Session
    builder: Callable[[], Builder]
    sdists: SourceDistributions
    params: Mapping[str, Any]


@contextmanager
def started(
    invocation: Invocation,
    request: InstallRequest,
    requirements: Sequence[ParsedRequirement] = (),
) -> Iterator[Run]:
    """Target, scheme (guards asked), recovery, sources and session, as ``roost
    install`` makes them; helpers and scratch folders are gone after."""
    from roost.flows.environment import load_target
    from roost.flows.gather import index_sources, session
    from roost.flows.install import lazy_builder
    from roost.flows.sdists import SourceDistributions

    manager, out = invocation.manager, invocation.out
    params = invocation.params_for(request.settings)
    helpers = Helpers.start(request, out)
    if helpers.placer is not None:
        invocation.on_close(helpers.placer.close)
    target = load_target(invocation, params, request.settings)
    scheme = choose_scheme(manager, target, request)
    out.detail(f"target: {target.executable} (Python {target.full_version})")
    out.detail(f"scheme: {scheme.name}: {scheme.purelib}")
    recover_interrupted(request, scheme, out)
    sources = index_sources(manager, request.settings, list(requirements), out, target=target)
    scratch = Path(tempfile.mkdtemp(prefix="roost-build-"))
    with session(manager, request.settings, sources, target, params=params, out=out) as net:
        try:
            builder = lazy_builder(
                request, manager=manager, target=target, net=net, out=out, scratch=scratch
            )
            sdists = SourceDistributions(builder, net.fetcher, scratch)
            yield Run(invocation, request, target, scheme, helpers, net, builder, sdists, params)
        finally:
            helpers.stop()
            shutil.rmtree(scratch, ignore_errors=True)


def install_attempts(
    run: Run,
    *,
    resolver: Resolver | None,
    checked: Callable[[list[Candidate]], bool],
    lines: InstallLines | None,
    removals: Callable[[Installed, Resolution], list[InstalledDist]] | None = None,
) -> list[InstalledDistribution] | None:
    """The stages, planned again (three times at most) when another run changes the
    environment between reading it and taking its lock."""
    invocation = run.invocation
    for _attempt in range(VIEW_ATTEMPTS):
        try:
            return resolve_and_install(
                run.request,
                run.net,
                target=run.target,
                scheme=run.scheme,
                helpers=run.helpers,
                manager=invocation.manager,
                out=invocation.out,
                sdists=run.sdists,
                checked=checked,
                lines=lines,
                resolver=resolver,
                removals=removals,
            )
        except EnvironmentChanged:
            invocation.out.detail(
                "another run changed the environment while this one planned; planning "
                "again against what is installed now"
            )
    raise InstallError(
        f"the environment changed under this install {VIEW_ATTEMPTS} times (other roost "
        "runs keep installing into it); nothing was changed by this run. Try again when "
        "they are done."
    )


# -- the lock's files as a resolution ----------------------------------------------------


def locked_resolver(run: Run, files: Sequence[LockedFile], *, origin: str) -> Resolver:
    """A resolver that answers with the lock's *files* (building its direct references
    and, for what is not installed at the locked version, its sdists).

    Sets ``run.request``: its requirements pin each package (for pip's lines) and its
    ``direct_urls`` record the direct references' sources.
    """
    from roost.flows.stages import installed_now
    from roost.install.prepare import Unpacker

    request = run.request
    force = request.policy.force_reinstall
    view = installed_now(run.target, run.scheme, request)
    direct = [f for f in files if f.direct and (force or not _direct_installed(f, view))]
    built, direct_urls = _build_direct(run, direct, origin)
    for file in files:
        if file.size is not None and not file.direct:
            run.net.fetcher.sizes[file.url] = file.size
    requirements = [_pinned(file, built, view, origin) for file in files]
    run.request = replace(
        request,
        requirements=requirements,
        direct_urls={**request.direct_urls, **direct_urls},
    )

    def resolver(installed: Installed) -> Resolution:
        from roost.resolve.plan import Resolution

        store = run.helpers.store
        run.helpers.unpacker = (
            None if store is None else Unpacker(store, run.invocation.out.detail)
        )
        candidates = [_candidate(file, installed, built, origin) for file in files]
        requested = frozenset(str(file.name) for file in files)
        for candidate in candidates:
            _take_built_before(run.sdists, candidate)
            if store is not None:
                _metadata_from_store(store, run.net.fetcher, candidate)
            # Every locked file is known now: all are fetched at once, as the resolver
            # fetches what it has pinned, and pip's lines read their metadata from them.
            if candidate.installed is None or run.request.policy.force_reinstall:
                fetch_early(candidate, run.request, run.net, run.helpers)
        return run.sdists.built(Resolution(candidates, requested))

    return resolver


def _metadata_from_store(store: UnpackedStore, fetcher: Fetcher, candidate: Candidate) -> None:
    """The core metadata of a locked wheel the store holds unpacked, read from there.

    A lock names no PEP 658 file, so pip's lines and the plan would otherwise fetch
    the whole wheel (from the wheel cache) only to read its METADATA, which a warm
    install then never uses: it links the store's copy, whose files are checked
    against the wheel's RECORD before they are used (and a METADATA that differs
    from the one read here is refused then, as for PEP 658 files).
    """
    file = candidate.file
    if file is None or not file.is_wheel or candidate.direct or candidate.installed:
        return
    digest = fetcher.known_sha256(file.link)
    entry = None if digest is None else store.peek(digest)
    if entry is None:
        return
    try:
        text = (entry.tree / entry.dist_info_dir / "METADATA").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return  # fetched and read from the wheel instead
    fetcher.remember_metadata(file.link, text)


def _take_built_before(sdists: SourceDistributions, candidate: Candidate) -> None:
    """Let a locked sdist to be installed use the wheel built before from it, neither
    fetching nor building it: the built-wheel cache is keyed by the sdist's sha256,
    the one the lock names, and what it holds was built from bytes verified to have
    that hash. A lock without a sha256 for it gets no wheel here (it is fetched,
    checked against the lock's hashes and built as usual)."""
    file = candidate.file
    if file is None or file.is_wheel or candidate.installed is not None:
        return
    wheel = sdists.built_before(file)
    if wheel is None:
        return
    name, version, _, _ = parse_wheel_filename(wheel.name)
    if str(name) != str(file.name) or version != file.version:
        raise BuildError(
            f"the wheel built before from {file.link.filename} is {wheel.name}, not "
            f"{file.name} {file.version} as the lock file says. Nothing was changed."
        )


def _pinned(
    file: LockedFile,
    built: Mapping[NormalizedName, Link],
    view: Installed,
    origin: str,
) -> ParsedRequirement:
    """``name==version`` for pip's lines ("Collecting x==1.0")."""
    from roost.resolve.requirement_line import ParsedRequirement

    version = file.version
    link = built.get(file.name)
    if link is not None:
        version = parse_wheel_filename(link.filename)[1]
    elif version is None and file.name in view:
        version = Version(view[file.name].version)
    text = str(file.name) if version is None else f"{file.name}=={version}"
    return ParsedRequirement(Requirement(text), text, origin, False)


def _candidate(
    file: LockedFile,
    installed: Installed,
    built: Mapping[NormalizedName, Link],
    origin: str,
) -> Candidate:
    from roost.index.finder import FileCandidate
    from roost.resolve.candidates import Candidate

    dist = installed.get(file.name)
    if file.direct:
        link = built.get(file.name)
        if link is None:
            # Installed from this very source already (see _direct_installed).
            assert dist is not None
            return Candidate(file.name, Version(dist.version), installed=dist, direct=True)
        version = parse_wheel_filename(link.filename)[1]
        wheel = FileCandidate(link, file.name, version, True, 0)
        return Candidate(file.name, version, file=wheel, direct=True)
    assert file.version is not None
    source = IndexSource(file.index or origin, "index" if file.index else "lock", origin)
    link = Link(
        url=file.url,
        filename=file.filename,
        source=source,
        hashes=dict(file.hashes),
        requires_python=file.requires_python,
        upload_time=file.upload_time,
    )
    is_wheel = file.kind == "wheel"
    candidate_file = FileCandidate(
        link, file.name, file.version, is_wheel, 0 if is_wheel else 1 << 20
    )
    same = dist is not None and dist.parsed_version == file.version
    return Candidate(
        file.name, file.version, file=candidate_file, installed=dist if same else None
    )


def _direct_installed(file: LockedFile, installed: Installed) -> bool:
    """Whether *file* (a direct reference) is installed from that very source: the same
    commit, the same archive hash, the same editable directory. A directory installed
    normally is built again: its files may have changed."""
    dist = installed.get(file.name)
    if dist is None or (file.version is not None and dist.parsed_version != file.version):
        return False
    try:
        recorded = json.loads(dist.read_text("direct_url.json") or "null")
    except ValueError:
        return False
    if not isinstance(recorded, dict):
        return False
    if file.kind == "vcs":
        info = recorded.get("vcs_info")
        return isinstance(info, dict) and info.get("commit_id") == file.commit_id
    if file.kind == "archive":
        info = recorded.get("archive_info")
        hashes = info.get("hashes") if isinstance(info, dict) else None
        return isinstance(hashes, dict) and any(
            hashes.get(name) == value for name, value in file.hashes.items()
        )
    info = recorded.get("dir_info")
    return (
        file.editable
        and isinstance(info, dict)
        and bool(info.get("editable"))
        and recorded.get("url") == file.url
    )


def _build_direct(
    run: Run, files: Sequence[LockedFile], origin: str
) -> tuple[dict[NormalizedName, Link], dict[str, Mapping[str, object]]]:
    """Build each direct reference into a wheel; its link and ``direct_url.json``."""
    if not files:
        return {}, {}
    from roost.flows.builds import build_sources
    from roost.resolve.requirement_line import ParsedRequirement

    parsed = []
    for file in files:
        url = file.requirement_url()
        if file.kind == "archive" and file.size is not None:
            run.net.fetcher.sizes[url.partition("#")[0]] = file.size
        parsed.append(
            ParsedRequirement(
                Requirement(f"{file.name} @ {url}") if not file.editable else None,
                f"{file.name} ({file.kind} in {origin})",
                origin,
                False,
                hashes={name: (value,) for name, value in file.hashes.items()},
                editable=file.editable,
                url=url,
            )
        )
    done = build_sources(
        parsed,
        builder=run.builder(),
        fetcher=run.net.fetcher,
        config_settings=run.params.get("config_settings", ()),
        max_builds=run.params.get("max_builds"),
    )
    links: dict[NormalizedName, Link] = {}
    for file, result in zip(files, done.requirements, strict=True):
        assert result.url is not None
        filename = result.url.rsplit("/", 1)[-1]
        name, version, _, _ = parse_wheel_filename(filename)
        if str(name) != str(file.name) or (file.version is not None and version != file.version):
            raise BuildError(
                f"{origin}: building {file.name} {file.version or ''} ({file.kind}) gave "
                f"{name} {version}, not what the lock file names. Nothing was changed."
            )
        source = IndexSource(file.url, "direct", origin)
        links[file.name] = Link(result.url, filename, source)
    return links, dict(done.direct_urls)
