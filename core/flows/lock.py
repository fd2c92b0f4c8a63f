"""``roost lock``: resolve once per locked environment, write what was chosen.

The environments are the target interpreter's, or every combination of the
``--python-version`` and ``--platform`` values given (each a foreign target, as for
``roost download``). Sources (directories, archives, VCS URLs) are built once, on this
machine, to learn their dependencies; index sdists' metadata is read the same way. Each
environment is resolved on its own, and the answers are merged by
:mod:`roost.flows.lock_collect` into one lock whose markers say where each package is
needed. The versions an existing lock names are preferred (pip-compile's rule) unless
``--upgrade`` or ``--upgrade-package`` says otherwise.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from roost.errors import ConfigError, RoostError
from roost.flows.lock_collect import Environment
from roost.types import NormalizedName

if TYPE_CHECKING:
    from roost.flows.invocation import Invocation
    from roost.flows.lock_collect import Resolved
    from roost.flows.lock_files import FileRules
    from roost.flows.request import InstallRequest
    from roost.lock.document import Lock
    from roost.manager import Manager
    from roost.store.fetch import Fetcher
    from roost.types import Target

#: The output formats ``--format`` takes.
FORMATS = ("pylock.toml", "requirements.txt")


def run_lock(invocation: Invocation) -> None:
    """``roost lock``: resolve for each environment, then write (or ``--check``) the lock."""
    from roost.flows.environment import load_target
    from roost.flows.gather import gather, index_sources, session
    from roost.flows.groups import only_deps
    from roost.flows.install import build_stage, lazy_builder
    from roost.flows.lock_collect import collect, resolve_environment
    from roost.flows.lock_groups import group_requirements, with_group_requirements
    from roost.flows.request import InstallRequest
    from roost.flows.sdists import SourceDistributions

    manager, out = invocation.manager, invocation.out
    first = invocation.params_for(invocation.settings())
    only_deps(first)  # refused beside --group here: the gathering below sees no groups
    groups = group_requirements(first.get("groups", ()))
    inputs = gather(with_group_requirements(invocation, groups))
    params = inputs.params
    fmt = params.get("format") or "pylock.toml"
    output = _output_path(params.get("output"), fmt)
    request = InstallRequest.from_gathered(inputs)
    here = load_target(invocation, params, request.settings)
    environments = locked_environments(here, params)
    lock_dir = Path.cwd() if output is None else output.parent
    existing = None if output is None or not output.exists() else _existing_pins(output, fmt)
    preferred = _preferences(existing, params)
    sources = index_sources(manager, request.settings, request.requirements, out, target=here)
    scratch = Path(tempfile.mkdtemp(prefix="roost-build-"))
    try:
        with session(manager, request.settings, sources, here, params=params, out=out) as net:
            # Sources are built for this machine, once: their wheels tell their
            # dependencies, and the lock names the sources, not those wheels.
            builder = lazy_builder(
                request, manager=manager, target=here, net=net, out=out, scratch=scratch
            )
            request = build_stage(request, params, builder=builder, fetcher=net.fetcher)
            sdists = SourceDistributions(builder, net.fetcher, scratch)
            resolved = []
            for environment in environments:
                out.detail(
                    f"resolving for {environment.marker} (tags like {environment.target.tags[0]})"
                )
                resolved.append(
                    resolve_environment(
                        environment,
                        request,
                        net,
                        manager=manager,
                        sources=sources,
                        strategy=params.get("index_strategy") or "first-index",
                        sdists=sdists,
                        preferred=preferred,
                        groups=groups,
                        out=out,
                    )
                )
            if request.hashed:
                _check_hashes(request, resolved, net.fetcher)
            lock = collect(
                resolved,
                environments=[e.marker for e in environments],
                groups=groups,
                direct_urls=request.direct_urls,
                fetcher=net.fetcher,
                lock_dir=lock_dir,
                rules=_file_rules(request, manager),
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    text = render(lock, fmt, hashes=bool(params.get("generate_hashes")), lock_dir=lock_dir)
    if params.get("check"):
        _check(output, text, fmt)
        out.info(f"{output} is up to date")
        return
    if output is None:
        click.echo(text, nl=False)
        return
    _write(output, text)
    count = len(lock.packages)
    out.info(f"Locked {count} package{'s' if count != 1 else ''} into {output}")


def _check_hashes(request: InstallRequest, resolved: Sequence[Resolved], fetcher: Fetcher) -> None:
    """Hash-checking mode (``--require-hashes``, or a ``--hash`` in a requirements
    file): the inputs held to pip's rules, as an install holds them. Every requirement
    is pinned, every chosen file has a ``--hash``, and its bytes match one (fetched
    here: the lock then names hashes the user vouched for, not only the index's)."""
    from roost.resolve.hash_mode import check_hashed, check_pinned

    check_pinned(request.requirements)
    for one in resolved:
        check_hashed(one.candidates, fetcher)
    arriving = [
        fetcher.wheel(candidate.file.link)
        for one in resolved
        for candidate in one.candidates
        if candidate.file is not None and not candidate.direct
    ]
    for future in arriving:
        future.result()  # raises HashMismatchError for a file no --hash matches


def _file_rules(request: InstallRequest, manager: Manager) -> FileRules:
    """Which files of each locked version the lock may name (see :class:`FileRules`)."""
    from roost.flows.lock_files import FileRules
    from roost.flows.policy import candidate_filter

    hashes: dict[str, dict[str, tuple[str, ...]]] | None = None
    if request.hashed:
        hashes = {}
        for parsed in request.requirements:
            if parsed.hashes and parsed.requirement is not None:
                key = canonicalize_name(parsed.requirement.name)
                for name, values in parsed.hashes.items():
                    hashes.setdefault(key, {})[name] = (
                        *hashes.get(key, {}).get(name, ()),
                        *values,
                    )
    return FileRules(
        exclude=candidate_filter(manager, request.options),
        no_binary=request.policy.no_binary,
        only_binary=request.policy.only_binary,
        hashes=hashes,
    )


def locked_environments(here: Target, params: Mapping[str, Any]) -> list[Environment]:
    """The target's environment, or every ``--python-version`` x ``--platform``."""
    from roost.lock.markers import environment_marker
    from roost.target.foreign import foreign_target

    versions: tuple[str | None, ...] = tuple(params.get("python_versions") or ()) or (None,)
    platforms: tuple[str | None, ...] = tuple(params.get("platforms") or ()) or (None,)
    implementation = params.get("implementation")
    abis = tuple(params.get("abis") or ())
    found: dict[str, Environment] = {}
    for version in versions:
        for platform in platforms:
            target = foreign_target(
                here,
                platforms=() if platform is None else (platform,),
                python_version=version,
                implementation=implementation,
                abis=abis,
            )
            full = version is not None and version.count(".") == 2
            marker = environment_marker(target.markers, full_version=full)
            found.setdefault(marker, Environment(target, marker))
    return list(found.values())


def render(lock: Lock, fmt: str, *, hashes: bool, lock_dir: Path) -> str:
    from roost.lock.document import dumps

    if fmt == "requirements.txt":
        from roost.lock.requirements_txt import dumps_requirements

        header = "This file was written by roost lock --format requirements.txt."
        return dumps_requirements(lock, hashes=hashes, lock_dir=lock_dir, header=header)
    return dumps(lock)


def _output_path(value: str | None, fmt: str) -> Path | None:
    if value == "-":
        return None
    if value is None:
        value = "pylock.toml" if fmt == "pylock.toml" else "requirements.txt"
    path = Path(value).absolute()
    if fmt == "pylock.toml":
        from packaging.pylock import is_valid_pylock_path

        if not is_valid_pylock_path(path):
            raise ConfigError(
                f"{value}: PEP 751 names a lock file pylock.toml or pylock.<name>.toml; "
                "give -o such a name (or --format requirements.txt)"
            )
    return path


def _existing_pins(path: Path, fmt: str) -> dict[str, frozenset[str]]:
    """The versions the lock being rewritten names, per package."""
    if fmt == "pylock.toml":
        from roost.lock.document import pinned_versions, read_lock

        return pinned_versions(read_lock(path))
    from roost.resolve.reqfile import parse_requirements_file

    found: dict[str, set[str]] = {}
    for parsed in parse_requirements_file(str(path)).requirements:
        req = parsed.requirement
        if req is None or parsed.url is not None:
            continue
        for spec in req.specifier:
            if spec.operator == "==" and "*" not in spec.version:
                found.setdefault(canonicalize_name(req.name), set()).add(spec.version)
    return {name: frozenset(versions) for name, versions in found.items()}


def _preferences(
    existing: Mapping[str, frozenset[str]] | None, params: Mapping[str, Any]
) -> dict[NormalizedName, frozenset[Version]]:
    """The pins to keep: none with ``--upgrade``, all but ``-P``'s otherwise."""
    if not existing or params.get("upgrade"):
        return {}
    upgraded = {str(canonicalize_name(name)) for name in params.get("upgrade_packages") or ()}
    kept: dict[NormalizedName, frozenset[Version]] = {}
    for name, texts in existing.items():
        key = NormalizedName(canonicalize_name(name))
        if key in upgraded:
            continue
        versions = set()
        for text in texts:
            try:
                versions.add(Version(text))
            except InvalidVersion:
                continue
        if versions:
            kept[key] = frozenset(versions)
    return kept


def _check(output: Path | None, text: str, fmt: str) -> None:
    """Exit 1 (with what differs) unless the lock at *output* is *text*'s lock."""
    if output is None:
        raise ConfigError("--check compares with the lock file: give -o FILE, not -o -")
    if not output.exists():
        raise RoostError(f"{output} does not exist: `roost lock` would write it")
    if fmt != "pylock.toml":
        if output.read_text(encoding="utf-8") != text:
            raise RoostError(f"{output} is out of date: `roost lock` would change it")
        return
    from roost.lock.document import differences, parse_toml, read_lock

    old = read_lock(output)
    new = parse_toml(text.encode("utf-8"), "the new lock")
    changed = differences(old, new)
    if changed:
        shown = "\n".join(f"  {line}" for line in changed[:50])
        more = f"\n  ... and {len(changed) - 50} more" if len(changed) > 50 else ""
        raise RoostError(f"{output} is out of date; `roost lock` would change:\n{shown}{more}")


def _write(output: Path, text: str) -> None:
    """Written beside *output* and renamed over it: a reader never sees half a lock."""
    import os

    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, output)
