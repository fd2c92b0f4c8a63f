"""One requirement as pip reads it: PEP 508, a path or URL, an editable; credentials redacted."""

from __future__ import annotations

import logging
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from roost.errors import RequirementError
from roost.types import file_url_path, redact_url

REMOTE_RE = re.compile(r"^(http|https|file):", re.I)

logger = logging.getLogger(__name__)


_URL_IN_TEXT_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]+")


_EGG_RE = re.compile(r"[#&]egg=([^&]*)")


_PROJECT_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.I)


_EXTRAS_SUFFIX_RE = re.compile(r"^(.+)(\[[^\]]+\])$")


_VCS_SCHEMES = frozenset(
    f"{vcs}+{proto}"
    for vcs, protos in {
        "git": ("http", "https", "ssh", "git", "file"),
        "hg": ("file", "http", "https", "ssh", "static-http"),
        "svn": ("ssh", "http", "https", "svn", "file"),
        "bzr": ("http", "https", "ssh", "sftp", "ftp", "lp", "file"),
    }.items()
    for proto in protos
)


_URL_SCHEMES = frozenset({"http", "https", "file", "ftp"}) | _VCS_SCHEMES


_ARCHIVE_SUFFIXES = (
    ".whl", ".zip", ".tar.bz2", ".tbz", ".tar.gz", ".tgz", ".tar",
    ".tar.xz", ".txz", ".tlz", ".tar.lz", ".tar.lzma",
)  # fmt: skip


@dataclass(frozen=True)
class ParsedRequirement:
    """One requirement from a file or the command line.

    ``url`` is set for direct references (``name @ url``, a wheel path or URL, an
    archive, a directory, an editable): it is where the distribution comes from.
    ``requirement`` is None when nothing names the project (an sdist URL without
    ``#egg=``, a directory); for a bare wheel it is ``name[extras]==version``.
    """

    requirement: Requirement | None
    #: The logical line, before ``${VAR}`` expansion, with credentials redacted.
    line: str
    #: ``"path/to/requirements.txt:12"``; for the command line, what the caller gave.
    origin: str
    constraint: bool
    #: ``--hash`` values grouped by algorithm, in the order given.
    hashes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    editable: bool = False
    url: str | None = None
    #: The environment marker, also when ``requirement`` is None.
    marker: Marker | None = None
    #: ``-C/--config-settings`` values on the line (for builds; roost installs wheels).
    config_settings: tuple[str, ...] = ()


def redact_text(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        try:
            return redact_url(match.group(0))
        except ValueError:
            return re.sub(r"//[^/@]*@", "//****@", match.group(0))

    return _URL_IN_TEXT_RE.sub(one, text)


def fail(origin: str, message: str) -> NoReturn:
    raise RequirementError(f"{origin}: {message}" if origin else message)


def _is_url(text: str) -> bool:
    try:
        scheme = urllib.parse.urlsplit(text).scheme
    except ValueError:
        return False
    return scheme in _URL_SCHEMES


def _looks_like_path(text: str) -> bool:
    return os.sep in text or bool(os.altsep and os.altsep in text) or text.startswith(".")


def _path_to_url(path: str) -> str:
    return Path(os.path.normpath(os.path.abspath(path))).as_uri()


def _egg_name(url: str, origin: str) -> str | None:
    match = _EGG_RE.search(url)
    if not match:
        return None
    name = match.group(1)
    if not _PROJECT_NAME_RE.match(name):
        fail(origin, f"invalid #egg= fragment {name!r} in {redact_text(url)}")
    return name


def _url_for_path(path: str, text: str, origin: str) -> str | None:
    """The file URL a path-like requirement means, or None for a PEP 508 string."""
    if _looks_like_path(text) and os.path.isdir(path):
        if not any(os.path.isfile(os.path.join(path, f)) for f in ("pyproject.toml", "setup.py")):
            fail(
                origin,
                f"directory {text!r} is not installable: it has neither "
                "'pyproject.toml' nor 'setup.py'",
            )
        return _path_to_url(path)
    if not path.lower().endswith(_ARCHIVE_SUFFIXES):
        return None
    if os.path.isfile(path):
        return _path_to_url(path)
    before_at, at, _ = text.partition("@")
    if at and not _looks_like_path(before_at):
        return None  # ``name @ https://.../x.whl``: a PEP 508 direct reference
    logger.warning("Requirement %r looks like a file name, but the file does not exist", text)
    return _path_to_url(path)


def _parse_pep508(text: str, origin: str, shown: str) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        hint = ""
        if os.sep in text:
            hint = "\nHint: it looks like a path; does the file or directory exist?"
        elif "=" in text and not re.search(r"~=|==|!=|<=|>=|<|>", text):
            hint = "\nHint: = is not a valid operator; did you mean ==?"
        fail(origin, f"invalid requirement {shown!r}: {exc}{hint}")


def parse_requirement_line(text: str, origin: str) -> ParsedRequirement:
    """Parse one requirement as pip reads it on the command line or in a file.

    Accepts PEP 508 strings (``alpha[fast]>=1; python_version<"4"``,
    ``name @ https://...``), and paths or URLs of wheels, archives and project
    directories; relative paths are taken from the working directory, as pip does.
    Raises RequirementError naming *origin* and the (redacted) text.
    """
    shown = redact_text(text.strip())
    try:
        return _parse_requirement(text, origin, shown)
    except (ValueError, LookupError) as exc:  # malformed URLs and paths
        fail(origin, f"invalid requirement {shown!r}: {exc}")


def _parse_requirement(text: str, origin: str, shown: str) -> ParsedRequirement:
    # A URL may contain ';' itself, so its marker needs a space before the ';'.
    separator = "; " if _is_url(text.strip()) else ";"
    marker: Marker | None = None
    if separator in text:
        text, marker_text = text.split(separator, 1)
        if marker_text.strip():
            try:
                marker = Marker(marker_text.strip())
            except InvalidMarker as exc:
                fail(origin, f"invalid marker in {shown!r}: {exc}")
    text = text.strip()
    if not text:
        fail(origin, f"invalid requirement {shown!r}: no project name")

    url: str | None = None
    extras: set[str] = set()
    if _is_url(text):
        url = text
        if url.startswith("file:") and "../" in url:
            local = file_url_path(url)
            url = _path_to_url(local)
    else:
        path = os.path.normpath(os.path.abspath(text))
        split = _EXTRAS_SUFFIX_RE.match(path)
        if split:
            path = split.group(1).rstrip()
            extras = _parse_pep508("x" + split.group(2).lower(), origin, shown).extras
        url = _url_for_path(path, text, origin)

    if url is None:
        requirement = _parse_pep508(text, origin, shown)
        if marker is not None:
            requirement.marker = marker
        return ParsedRequirement(
            requirement, shown, origin, False, url=requirement.url, marker=marker
        )

    name: str | None
    filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
    if filename.endswith(".whl"):
        try:
            project, version, _, _ = parse_wheel_filename(filename)
        except InvalidWheelFilename as exc:
            fail(origin, f"invalid wheel file name in {shown!r}: {exc}")
        name = f"{project}=={version}"
    else:
        name = _egg_name(url, origin)
    named: Requirement | None = None
    if name is not None:
        named = _parse_pep508(name, origin, shown)
        named.extras = extras or named.extras
        named.marker = marker
    return ParsedRequirement(named, shown, origin, False, url=url, marker=marker)


def parse_editable(text: str, origin: str) -> ParsedRequirement:
    shown = redact_text(text)
    try:
        direct = Requirement(text)
    except InvalidRequirement:
        direct = None
    if direct is not None and direct.url:
        return ParsedRequirement(direct, shown, origin, False, editable=True, url=direct.url)
    path, extras_text = text, ""
    split = _EXTRAS_SUFFIX_RE.match(text)
    if split:
        path, extras_text = split.group(1).rstrip(), split.group(2)
    if os.path.isdir(path):
        url = _path_to_url(path)
    elif _is_url(path) or path.lower().startswith("file:"):
        url = path
    else:
        fail(
            origin,
            f"{shown!r} is not a valid editable requirement: it should be a path "
            "to a local project or a VCS URL",
        )
    name = _egg_name(url, origin)
    req = _parse_pep508(name + extras_text, origin, shown) if name else None
    return ParsedRequirement(req, shown, origin, False, editable=True, url=url)
