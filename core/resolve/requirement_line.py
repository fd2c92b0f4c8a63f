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
from roost.types import file_url_path, redact_text

REMOTE_RE = re.compile(r"^(http|https|file):", re.I)

#: The longest requirement read (name, extras, specifier, URL and marker together):
#: common web servers refuse URLs over about 8 KB (Apache's and nginx's request-line
#: limits), and real requirements are far shorter; a bound keeps junk from the parsers.
MAX_REQUIREMENT_LENGTH = 8192

#: The longest project name: ``<name>-<version>.dist-info`` must fit in one file name,
#: which most filesystems limit to 255 bytes.
MAX_NAME_LENGTH = 200

#: How much of an over-long requirement an error message shows.
_SHOWN_LENGTH = 60

logger = logging.getLogger(__name__)


_EGG_RE = re.compile(r"[#&]egg=([^&]*)")


_PROJECT_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.I)


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
    #: ``-C/--config-settings`` values on the line, for the build of what it names.
    config_settings: tuple[str, ...] = ()
    #: Extras named on a path or URL (``./app[dev]``), also when nothing names the
    #: project yet: they apply to whatever building it turns out to be.
    extras: frozenset[str] = frozenset()


def fail(origin: str, message: str) -> NoReturn:
    raise RequirementError(f"{origin}: {message}" if origin else message)


def _invalid(origin: str, shown: str, detail: str, hint: str = "") -> NoReturn:
    """pip's "Invalid requirement" error, which scripts grep for: unprefixed for the
    command line, and for a line of a file with pip's "(from line N of FILE)" after the
    parser's message (before any hint)."""
    message = f"Invalid requirement: {shown!r}: {detail}"
    where, colon, number = origin.rpartition(":")
    if colon and where and number.isdigit():
        raise RequirementError(f"{message} (from line {number} of {where}){hint}")
    if origin == "command line":
        raise RequirementError(message + hint)
    fail(origin, message + hint)


def _shorten(text: str) -> str:
    """The start of *text*, for a message about text too long to show whole."""
    return text if len(text) <= _SHOWN_LENGTH else text[:_SHOWN_LENGTH] + "..."


def check_length(text: str, origin: str) -> None:
    """Refuse a requirement longer than :data:`MAX_REQUIREMENT_LENGTH`, before parsing it."""
    if len(text) > MAX_REQUIREMENT_LENGTH:
        fail(
            origin,
            f"the requirement {redact_text(_shorten(text))!r} is {len(text):,} characters "
            f"long; roost reads requirements of up to {MAX_REQUIREMENT_LENGTH:,} characters",
        )


def _check_name(name: str, origin: str) -> None:
    if len(name) > MAX_NAME_LENGTH:
        fail(
            origin,
            f"the project name {_shorten(name)!r} is {len(name):,} characters long; a "
            f"project name has at most {MAX_NAME_LENGTH} (its .dist-info folder's name "
            "must fit in the 255 bytes filesystems allow for a file name)",
        )


def _split_extras(text: str) -> tuple[str, str] | None:
    """``("path", "[a,b]")`` for ``path[a,b]``, None without an extras suffix.

    The last ``[`` is the only one that can open the suffix (what follows it must not
    hold ``]``), so no backtracking regex is needed: one with it is quadratic in the
    number of ``[``.
    """
    if not text.endswith("]"):
        return None
    start = text.rfind("[")
    inside = text[start + 1 : -1]
    if start < 1 or not inside or "]" in inside:
        return None
    return text[:start], text[start:]


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


def _checked_url(url: str, origin: str, shown: str) -> str:
    """*url*, once it is known to be one the client can ask: a port like ``80x`` would
    otherwise surface as a traceback from deep in the HTTP client."""
    from roost.net.urls import url_problem

    base = url.split("+", 1)[1] if "+" in url.split(":", 1)[0] else url
    problem = url_problem(base)
    if problem is not None:
        fail(origin, f"invalid URL in {shown!r}: {redact_text(problem)}")
    return url


def _egg_name(url: str, origin: str) -> str | None:
    match = _EGG_RE.search(url)
    if not match:
        return None
    name = match.group(1)
    _check_name(name, origin)
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
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        hint = ""
        if os.sep in text:
            hint = "\nHint: it looks like a path; does the file or directory exist?"
        elif "=" in text and not re.search(r"~=|==|!=|<=|>=|<|>", text):
            hint = "\nHint: = is not a valid operator; did you mean ==?"
        _invalid(origin, shown, str(exc), hint)
    _check_name(requirement.name, origin)
    return requirement


def parse_requirement_line(text: str, origin: str) -> ParsedRequirement:
    """Parse one requirement as pip reads it on the command line or in a file.

    Accepts PEP 508 strings (``alpha[fast]>=1; python_version<"4"``,
    ``name @ https://...``), and paths or URLs of wheels, archives and project
    directories; relative paths are taken from the working directory, as pip does.
    Raises RequirementError naming *origin* and the (redacted) text.
    """
    check_length(text.strip(), origin)
    shown = redact_text(text.strip())
    try:
        return _parse_requirement(text, origin, shown)
    except (ValueError, LookupError) as exc:  # malformed URLs and paths
        _invalid(origin, shown, str(exc))


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
        _invalid(origin, shown, "no project name")

    url: str | None = None
    extras: set[str] = set()
    if _is_url(text):
        url = _checked_url(text, origin, shown)
        if url.startswith("file:") and "../" in url:
            local = file_url_path(url)
            url = _path_to_url(local)
    else:
        path = os.path.normpath(os.path.abspath(text))
        split = _split_extras(path)
        if split:
            path = split[0].rstrip()
            extras = _parse_pep508("x" + split[1].lower(), origin, shown).extras
        url = _url_for_path(path, text, origin)

    if url is None:
        requirement = _parse_pep508(text, origin, shown)
        if requirement.url:
            _checked_url(requirement.url, origin, shown)
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
    return ParsedRequirement(
        named, shown, origin, False, url=url, marker=marker, extras=frozenset(extras)
    )


def parse_editable(text: str, origin: str) -> ParsedRequirement:
    check_length(text.strip(), origin)
    shown = redact_text(text)
    try:
        direct = Requirement(text)
    except InvalidRequirement:
        direct = None
    if direct is not None and direct.url:
        url = _checked_url(direct.url, origin, shown)
        return ParsedRequirement(direct, shown, origin, False, editable=True, url=url)
    path, extras_text = text, ""
    split = _split_extras(text)
    if split:
        path, extras_text = split[0].rstrip(), split[1]
    if os.path.isdir(path):
        url = _path_to_url(path)
    elif _is_url(path) or path.lower().startswith("file:"):
        url = _checked_url(path, origin, shown)
    else:
        fail(
            origin,
            f"{shown!r} is not a valid editable requirement: it should be a path "
            "to a local project or a VCS URL",
        )
    name = _egg_name(url, origin)
    extras = _parse_pep508("x" + extras_text, origin, shown).extras if extras_text else set()
    req = _parse_pep508(name + extras_text, origin, shown) if name else None
    return ParsedRequirement(
        req, shown, origin, False, editable=True, url=url, extras=frozenset(extras)
    )
