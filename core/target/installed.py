"""Distributions already installed in a set of directories, read from their dist-info.

Only files are read: nothing from the target environment is imported or run.
"""

from __future__ import annotations

import csv
import email.parser
import email.policy
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from roost.types import NormalizedName
from roost.util.core_metadata import first_field, header_fields, requirement


def parse_metadata(text: str) -> email.message.Message:
    return email.parser.Parser(policy=email.policy.compat32).parsestr(text)


@dataclass(frozen=True)
class InstalledDist:
    """One ``*.dist-info`` directory."""

    dist_info: Path
    name: str
    version: str

    @property
    def key(self) -> NormalizedName:
        return NormalizedName(canonicalize_name(self.name))

    @property
    def location(self) -> Path:
        return self.dist_info.parent

    @property
    def parsed_version(self) -> Version | None:
        try:
            return Version(self.version)
        except InvalidVersion:
            return None

    @cached_property
    def metadata(self) -> email.message.Message:
        return parse_metadata(self.read_text("METADATA") or "")

    def read_text(self, name: str) -> str | None:
        try:
            return (self.dist_info / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    @property
    def requires(self) -> list[Requirement]:
        found = []
        for value in header_fields(self.read_text("METADATA") or "").get("requires-dist", []):
            try:
                found.append(requirement(value))
            except InvalidRequirement:
                continue
        return found

    @property
    def installer(self) -> str:
        return (self.read_text("INSTALLER") or "").strip()

    @property
    def requested(self) -> bool:
        return (self.dist_info / "REQUESTED").exists()

    def record_paths(self) -> list[Path]:
        """Absolute paths of every file RECORD lists (relative to the dist-info's parent)."""
        text = self.read_text("RECORD")
        if text is None:
            return []
        paths = []
        for row in csv.reader(text.splitlines()):
            if row and row[0]:
                paths.append(Path(os.path.normpath(self.location / row[0])))
        return paths


def read_dist(dist_info: Path) -> InstalledDist | None:
    """Read one dist-info directory; None when it has no usable METADATA."""
    try:
        text = (dist_info / "METADATA").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    # Two header fields of every installed distribution: the email parser was most of a
    # no-op install's time.
    meta = header_fields(text)
    name = first_field(meta, "name")
    version = first_field(meta, "version")
    if not name or not version:
        return None
    return InstalledDist(dist_info, name, version)


def scan(paths: Iterable[str | Path]) -> list[InstalledDist]:
    """Every distribution in *paths*; the first directory that has a name wins, like import."""
    found: dict[str, InstalledDist] = {}
    for entry in paths:
        directory = Path(entry)
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            if not name.endswith(".dist-info"):
                continue
            dist = read_dist(directory / name)
            if dist is not None and dist.key not in found:
                found[dist.key] = dist
    return list(found.values())


def index(dists: Sequence[InstalledDist]) -> dict[NormalizedName, InstalledDist]:
    return {dist.key: dist for dist in dists}
