"""The build stage of an install: requirements that name a source are built into wheels first.

A project directory (``.``, ``./app``, ``name @ file://...``), an editable (``-e``),
an archive (path or URL) or a git URL becomes a wheel through
:mod:`roost.build`, and the requirement is rewritten to name that wheel, so the
resolver sees wheels only. The ``direct_url.json`` of the source (not of the wheel)
is what the install records. Builds run before the environment's lock is taken.

A ``--hash`` on an archive's line (or its URL's ``#sha256=``) is checked as the archive
arrives, before it is unpacked; the wheel built from it is not held to that hash.
``--build-constraint`` files are read here too: they constrain build environments only.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.requirements import Requirement
from packaging.utils import parse_wheel_filename

from roost.types import IndexSource, Link, Settings

if TYPE_CHECKING:
    from roost.build.builder import Builder, BuiltWheel
    from roost.resolve.requirement_line import ParsedRequirement
    from roost.store.fetch import Fetcher


@dataclass(frozen=True)
class BuiltRequirements:
    """The requirements with every source replaced by its wheel, and what each was."""

    requirements: list[ParsedRequirement]
    #: ``direct_url.json`` content by the built wheel's URL.
    direct_urls: Mapping[str, Mapping[str, object]]


def needs_build(parsed: ParsedRequirement) -> bool:
    """Whether *parsed* names a source rather than a wheel or an index project."""
    if parsed.url is None or parsed.constraint:
        return False
    if parsed.editable:
        return True
    path = urllib.parse.urlsplit(parsed.url.split("#", 1)[0]).path
    return not path.lower().endswith(".whl")


def _extras(parsed: ParsedRequirement) -> set[str]:
    if parsed.requirement is not None and parsed.requirement.extras:
        return set(parsed.requirement.extras)
    return set(parsed.extras)


def downloader(fetcher: Fetcher, parsed: ParsedRequirement) -> Callable[[str], tuple[Path, str]]:
    from roost.resolve.hash_mode import fragment_hashes

    def download(url: str) -> tuple[Path, str]:
        base = url.partition("#")[0]
        hashes = fragment_hashes(url)
        filename = urllib.parse.unquote(urllib.parse.urlsplit(base).path.rsplit("/", 1)[-1])
        link = Link(base, filename, IndexSource(base, "direct", parsed.origin), hashes)
        # The line's --hash (else the URL's own #sha256=, as pip takes it for a URL the
        # user wrote) vouches for the archive: the fetcher checks it as the file arrives,
        # before anything unpacks it, and the builder then vouches for its wheel.
        vouched = dict(parsed.hashes) or {name: (value,) for name, value in hashes.items()}
        if vouched:
            fetcher.pinned[base] = vouched
        path = fetcher.wheel(link).result()
        return path, fetcher.digests[path]

    return download


def read_build_constraints(
    params: Mapping[str, Any], settings: Settings
) -> tuple[ParsedRequirement, ...]:
    """The lines of the ``--build-constraint`` files (also the ``build-constraint``
    setting: ``PIP_BUILD_CONSTRAINT``, pip's config), read as constraints files.

    pip 26.2's rule: these, and not ``-c``, constrain what build environments install.
    There is no build environment with ``--no-build-isolation``, so the two together
    are refused, as pip refuses them.
    """
    paths = tuple(params.get("build_constraints") or ())
    if not paths:
        return ()
    if params.get("no_build_isolation"):
        from roost.errors import ConfigError

        def origin(key: str) -> str:
            return settings.origin(key) or "command line"

        raise ConfigError(
            f"--build-constraint (from {origin('build-constraint')}) constrains what "
            f"isolated build environments install, and --no-build-isolation (from "
            f"{origin('no-build-isolation')}) builds in the target as it is, with none: "
            "they cannot be used together. Drop one of them."
        )
    from roost.resolve.reqfile import parse_requirements_file

    return tuple(
        line
        for path in paths
        for line in parse_requirements_file(path, constraint=True).requirements
    )


def _config_settings(values: Sequence[str]) -> dict[str, str | tuple[str, ...]]:
    """``KEY=VALUE`` strings (``-C``); a key given again collects its values in order."""
    found: dict[str, list[str]] = {}
    for item in values:
        key, _, value = item.partition("=")
        found.setdefault(key, []).append(value)
    return {key: vals[0] if len(vals) == 1 else tuple(vals) for key, vals in found.items()}


def build_sources(
    requirements: Sequence[ParsedRequirement],
    *,
    builder: Builder,
    fetcher: Fetcher,
    config_settings: Sequence[str] = (),
    max_builds: int | None = None,
) -> BuiltRequirements:
    """Build every requirement that names a source; keep the others as they are.

    Builds run side by side, *max_builds* at most (default: the CPU count), each in its
    own folder and environment with its own hook caller; the first failure, in the
    order the requirements were given, is the one raised.
    """
    from concurrent.futures import ThreadPoolExecutor

    todo = [parsed for parsed in requirements if needs_build(parsed)]
    if not todo:
        return BuiltRequirements(list(requirements), {})
    workers = max(1, min(max_builds or os.cpu_count() or 1, len(todo)))

    def build(parsed: ParsedRequirement) -> BuiltWheel:
        assert parsed.url is not None
        return builder.build(
            parsed.url,
            editable=parsed.editable,
            download=downloader(fetcher, parsed),
            config_settings=_config_settings([*config_settings, *parsed.config_settings]),
            name=None if parsed.requirement is None else parsed.requirement.name,
        )

    with ThreadPoolExecutor(workers, "roost-build") as pool:
        futures = {id(parsed): pool.submit(build, parsed) for parsed in todo}
        try:
            built_by = {key: future.result() for key, future in futures.items()}
        except BaseException:
            for future in futures.values():
                future.cancel()
            raise
    done: list[ParsedRequirement] = []
    direct_urls: dict[str, Mapping[str, object]] = {}
    for parsed in requirements:
        built = built_by.get(id(parsed))
        if built is None:
            done.append(parsed)
            continue
        name, version, _, _ = parse_wheel_filename(built.wheel.name)
        if parsed.requirement is not None and parsed.requirement.name:
            from packaging.utils import canonicalize_name

            if canonicalize_name(parsed.requirement.name) != name:
                from roost.errors import BuildError

                raise BuildError(
                    f"{parsed.origin}: {parsed.line} names {parsed.requirement.name!r}, "
                    f"but the project built from it is {name!r}"
                )
        extras = _extras(parsed)
        text = f"{name}{'[' + ','.join(sorted(extras)) + ']' if extras else ''}=={version}"
        requirement = Requirement(text)
        if parsed.marker is not None:
            requirement.marker = parsed.marker
        url = built.wheel.resolve().as_uri()
        direct_urls[url] = built.direct_url
        # The --hash values were the archive's, checked as it arrived: the wheel built
        # from it has other bytes, and the builder pins it to its own sha256.
        done.append(replace(parsed, requirement=requirement, url=url, editable=False, hashes={}))
    return BuiltRequirements(done, direct_urls)
