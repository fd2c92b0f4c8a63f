"""The build stage of an install: requirements that name a source are built into wheels first.

A project directory (``.``, ``./app``, ``name @ file://...``), an editable (``-e``),
an archive (path or URL) or a git URL becomes a wheel through
:mod:`roost.build`, and the requirement is rewritten to name that wheel, so the
resolver sees wheels only. The ``direct_url.json`` of the source (not of the wheel)
is what the install records. Builds run before the environment's lock is taken.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import parse_wheel_filename

from roost.types import IndexSource, Link

if TYPE_CHECKING:
    from roost.build.builder import Builder
    from roost.resolve.requirement_line import ParsedRequirement
    from roost.store.fetch import Fetcher

#: ``path[extra1,extra2]`` at the end of a line names extras of a local project.
_EXTRAS = re.compile(r"\[([^\]]*)\]\s*$")


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
    match = _EXTRAS.search(parsed.line.split(";", 1)[0].strip())
    if match is None:
        return set()
    return {extra.strip() for extra in match.group(1).split(",") if extra.strip()}


def _downloader(fetcher: Fetcher, origin: str) -> Callable[[str], tuple[Path, str]]:
    def download(url: str) -> tuple[Path, str]:
        base, _, fragment = url.partition("#")
        hashes = {
            name: value
            for name, value in urllib.parse.parse_qsl(fragment)
            if name in {"sha256", "sha384", "sha512"}
        }
        filename = urllib.parse.unquote(urllib.parse.urlsplit(base).path.rsplit("/", 1)[-1])
        link = Link(base, filename, IndexSource(base, "direct", origin), hashes)
        path = fetcher.wheel(link).result()
        return path, fetcher.digests[path]

    return download


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
) -> BuiltRequirements:
    """Build every requirement that names a source; keep the others as they are."""
    done: list[ParsedRequirement] = []
    direct_urls: dict[str, Mapping[str, object]] = {}
    for parsed in requirements:
        if not needs_build(parsed):
            done.append(parsed)
            continue
        assert parsed.url is not None
        settings = _config_settings([*config_settings, *parsed.config_settings])
        built = builder.build(
            parsed.url,
            editable=parsed.editable,
            download=_downloader(fetcher, parsed.origin),
            config_settings=settings,
        )
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
        done.append(replace(parsed, requirement=requirement, url=url, editable=False))
    return BuiltRequirements(done, direct_urls)
