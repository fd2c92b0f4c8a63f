"""The types of the hooks that may refuse: what a candidate filter sees and excludes,
and the plan a plan check sees (``roost_filter_candidates``, ``roost_check_plan``).

Beside :mod:`roost.types`, which they build on; both are the public plugin API, and
``roost`` re-exports them.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from roost.types import Link, NormalizedName, Scheme


@dataclass(frozen=True)
class CandidateInfo:
    """One file a source offers for a project, as ``roost_filter_candidates`` sees it."""

    name: NormalizedName
    #: Normalised as PEP 440 prints it (``2.0``, ``1.0rc1``).
    version: str
    filename: str
    #: Where the file is (may hold credentials: show ``redact_url(url)``).
    url: str
    is_wheel: bool
    #: None when not yanked, else the reason (PEP 592).
    yanked: str | None
    #: The link itself: hashes, ``requires_python``, the source that listed it.
    link: Link

    @property
    def upload_time(self) -> datetime.datetime | None:
        """When the file was uploaded (PEP 700), if its index said; for release-age
        policies."""
        return self.link.uploaded


@dataclass(frozen=True)
class Exclusion:
    """Candidates a filter takes away: every file of ``version``, the file ``filename``,
    or with both, that file if it has that version; ``plugin`` is filled in by roost."""

    version: str | None = None
    filename: str | None = None
    reason: str = ""
    plugin: str = ""


@dataclass(frozen=True)
class PlanEntry:
    """One change a plan makes to an environment, as ``roost_check_plan`` sees it."""

    #: As the distribution's metadata spells it.
    name: str
    #: The version installed; for ``"remove"``, the version removed.
    version: str
    #: ``"install"``, ``"upgrade"``, ``"downgrade"``, ``"reinstall"`` or ``"remove"``.
    action: str
    #: The installed version this one replaces (upgrade, downgrade, reinstall).
    replaces_version: str | None = None
    #: PEP 610 ``direct_url.json`` content, for a distribution named by URL or path.
    direct_url: Mapping[str, Any] | None = None
    #: The core metadata (``METADATA``) text: licence fields, classifiers, ...
    metadata: str = ""
    #: The wheel installed from (empty for ``"remove"``).
    filename: str = ""
    requested: bool = False


@dataclass(frozen=True)
class Plan:
    """Every change one command is about to make to one environment, in order."""

    #: ``"install"`` or ``"uninstall"``.
    command: str
    scheme: Scheme
    entries: tuple[PlanEntry, ...] = ()
