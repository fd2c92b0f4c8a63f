"""Index and find-links sources from the merged settings.

Indexes in the order they are asked: each ``extra-index-url`` in the order given, then
``index-url`` last (none with ``no-index``); then each ``find-links`` location, which
the finder merges with whichever index has a project. With no ``index-url`` set, the
core appends the index pip itself would use, after these
(:mod:`roost.index.pip_default`): roost names no index of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from roost.hookspecs import hookimpl
from roost.types import IndexSource, Settings

__all__ = ["as_url", "roost_index_sources", "sources_from_settings"]


def as_url(location: str) -> str:
    """A URL stays as it is; a path (relative, ``~``, absolute) becomes a file:// URL."""
    if "://" in location or location.startswith("file:"):
        return location
    return Path(location).expanduser().resolve().as_uri()


def sources_from_settings(settings: Settings) -> list[IndexSource]:
    """The sources *settings* configure, in the order they are asked.

    The extra indexes come first and the main one last, as uv asks them: with the
    first-index rule a project comes from the first index that has it, so the index a
    user adds for a few projects (PyTorch's, a private one) answers for them, and the
    general one only for what no added index has.
    """
    sources: list[IndexSource] = []
    if not settings.get_bool("no-index"):
        origin = settings.origin("extra-index-url") or ""
        sources.extend(
            IndexSource(as_url(url), "index", origin)
            for url in settings.get_list("extra-index-url")
        )
        index_url = settings.get("index-url")
        if index_url and index_url.strip():
            sources.append(
                IndexSource(as_url(index_url.strip()), "index", settings.origin("index-url") or "")
            )
    origin = settings.origin("find-links") or ""
    sources.extend(
        IndexSource(as_url(location), "find-links", origin)
        for location in settings.get_list("find-links")
    )
    unique: list[IndexSource] = []
    for source in sources:
        if all(source.url != seen.url or source.kind != seen.kind for seen in unique):
            unique.append(source)
    return unique


@hookimpl(trylast=True)
def roost_index_sources(settings: Settings) -> Sequence[IndexSource]:
    """Sources from ``extra-index-url``, ``index-url``, ``find-links`` and ``no-index``."""
    return sources_from_settings(settings)
