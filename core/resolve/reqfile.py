"""Requirements files in pip's format, and single requirement strings.

The rules follow pip's: lines ending in a backslash are joined (unless they are
comments), ``#`` after whitespace or at the start of a line begins a comment,
``${NAME}`` is replaced from the environment when set and non-empty, ``-r`` and
``-c`` include other files relative to the including one, and options are parsed
with the same abbreviation and spelling rules (optparse) pip uses.
"""

from __future__ import annotations

import codecs
import locale
import logging
import optparse
import os
import re
import shlex
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NoReturn

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from roost.errors import RequirementError
from roost.types import file_url_path, redact_url

__all__ = [
    "ParsedRequirement",
    "RequirementsFile",
    "parse_requirement_line",
    "parse_requirements_file",
]

logger = logging.getLogger(__name__)

_REMOTE_RE = re.compile(r"^(http|https|file):", re.I)
_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_ENV_VAR_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_URL_IN_TEXT_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]+")
_PEP263_RE = re.compile(rb"coding[:=]\s*([-\w.]+)")
_EGG_RE = re.compile(r"[#&]egg=([^&]*)")
_PROJECT_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.I)
_EXTRAS_SUFFIX_RE = re.compile(r"^(.+)(\[[^\]]+\])$")

# UTF-32 before UTF-16: the UTF-16-LE mark is a prefix of the UTF-32-LE one.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
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
_STRONG_HASHES = ("sha256", "sha384", "sha512")
_FLAGS = ("no-index", "pre", "prefer-binary", "require-hashes", "no-require-hashes")
_LISTS = (
    "extra_index_urls", "trusted_hosts", "no_binary", "only_binary",
    "all_releases", "only_final", "use_feature",
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


@dataclass(frozen=True)
class RequirementsFile:
    """Everything a requirements file (and the files it includes) says."""

    requirements: tuple[ParsedRequirement, ...] = ()
    #: The last ``-i/--index-url`` seen.
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    pre: bool = False
    trusted_hosts: tuple[str, ...] = ()
    #: A ``--require-hashes`` line, or any requirement with ``--hash``.
    require_hashes: bool = False
    #: Other pip options, by long name without dashes: ``no-binary``, ``only-binary``,
    #: ``all-releases``, ``only-final``, ``use-feature`` map to their values in order;
    #: the flags ``prefer-binary`` and ``no-require-hashes`` map to ``()`` when present.
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def _redact_text(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        try:
            return redact_url(match.group(0))
        except ValueError:
            return re.sub(r"//[^/@]*@", "//****@", match.group(0))

    return _URL_IN_TEXT_RE.sub(one, text)


def _fail(origin: str, message: str) -> NoReturn:
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
        _fail(origin, f"invalid #egg= fragment {name!r} in {_redact_text(url)}")
    return name


def _url_for_path(path: str, text: str, origin: str) -> str | None:
    """The file URL a path-like requirement means, or None for a PEP 508 string."""
    if _looks_like_path(text) and os.path.isdir(path):
        if not any(os.path.isfile(os.path.join(path, f)) for f in ("pyproject.toml", "setup.py")):
            _fail(
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
        _fail(origin, f"invalid requirement {shown!r}: {exc}{hint}")


def parse_requirement_line(text: str, origin: str) -> ParsedRequirement:
    """Parse one requirement as pip reads it on the command line or in a file.

    Accepts PEP 508 strings (``alpha[fast]>=1; python_version<"4"``,
    ``name @ https://...``), and paths or URLs of wheels, archives and project
    directories; relative paths are taken from the working directory, as pip does.
    Raises RequirementError naming *origin* and the (redacted) text.
    """
    shown = _redact_text(text.strip())
    try:
        return _parse_requirement(text, origin, shown)
    except (ValueError, LookupError) as exc:  # malformed URLs and paths
        _fail(origin, f"invalid requirement {shown!r}: {exc}")


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
                _fail(origin, f"invalid marker in {shown!r}: {exc}")
    text = text.strip()
    if not text:
        _fail(origin, f"invalid requirement {shown!r}: no project name")

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
            _fail(origin, f"invalid wheel file name in {shown!r}: {exc}")
        name = f"{project}=={version}"
    else:
        name = _egg_name(url, origin)
    named: Requirement | None = None
    if name is not None:
        named = _parse_pep508(name, origin, shown)
        named.extras = extras or named.extras
        named.marker = marker
    return ParsedRequirement(named, shown, origin, False, url=url, marker=marker)


def _parse_editable(text: str, origin: str) -> ParsedRequirement:
    shown = _redact_text(text)
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
        _fail(
            origin,
            f"{shown!r} is not a valid editable requirement: it should be a path "
            "to a local project or a VCS URL",
        )
    name = _egg_name(url, origin)
    req = _parse_pep508(name + extras_text, origin, shown) if name else None
    return ParsedRequirement(req, shown, origin, False, editable=True, url=url)


class _OptionError(Exception):
    pass


class _LineOptionParser(optparse.OptionParser):
    def error(self, msg: str) -> NoReturn:
        raise _OptionError(msg)

    def exit(self, status: int = 0, msg: str | None = None) -> NoReturn:
        raise _OptionError(msg or "invalid option")


def _build_option_parser() -> _LineOptionParser:
    parser = _LineOptionParser(add_help_option=False)
    appending = {
        "index_url": ("-i", "--index-url"),
        "extra_index_urls": ("--extra-index-url",),
        "constraints": ("-c", "--constraint"),
        "requirements": ("-r", "--requirement"),
        "editables": ("-e", "--editable"),
        "find_links": ("-f", "--find-links"),
        "trusted_hosts": ("--trusted-host",),
        "no_binary": ("--no-binary",),
        "only_binary": ("--only-binary",),
        "all_releases": ("--all-releases",),
        "only_final": ("--only-final",),
        "use_feature": ("--use-feature",),
        "hashes": ("--hash",),
        "config_settings": ("-C", "--config-settings"),
    }
    for dest, names in appending.items():
        parser.add_option(*names, dest=dest, action="append", default=[])
    for flag in _FLAGS:
        parser.add_option(f"--{flag}", dest=flag.replace("-", "_"), action="store_true")
    return parser


def _split_line(line: str) -> tuple[str, list[str]]:
    """Split a line into its requirement part and option words.

    Only the options go through shlex: markers in the requirement part have quotes
    that shlex would eat.
    """
    words = line.split(" ")
    for index, word in enumerate(words):
        if word.startswith("-"):
            return " ".join(words[:index]), shlex.split(" ".join(words[index:]))
    return line, []


def _decode(data: bytes, name: str) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding)
    for first_line in data.split(b"\n")[:2]:
        if first_line.startswith(b"#"):
            declared = _PEP263_RE.search(first_line)
            if declared:
                return data.decode(declared.group(1).decode("ascii"))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        fallback = locale.getpreferredencoding(False) or "utf-8"
        logger.warning("%s is not UTF-8; decoding it as %s", name, fallback)
        return data.decode(fallback)


def _logical_lines(content: str) -> Iterator[tuple[int, str]]:
    """Yield (first physical line number, joined line) with comments removed."""
    pending: list[str] = []
    start = 0
    for number, line in enumerate(content.splitlines(), start=1):
        is_comment = _COMMENT_RE.match(line) is not None
        if line.endswith("\\") and not is_comment:
            if not pending:
                start = number
            pending.append(line.strip("\\"))
            continue
        if is_comment:
            line = " " + line  # so the comment still strips once joined
        if pending:
            pending.append(line)
            line, number = "".join(pending), start
            pending = []
        yield number, line
    if pending:
        yield start, "".join(pending)


@dataclass(frozen=True)
class _File:
    name: str
    constraint: bool
    #: Files in the chain of includes that led here, each with who included it.
    chain: Mapping[str, str | None]


@dataclass
class _Collector:
    env: Mapping[str, str]
    fetch: Callable[[str], str] | None
    requirements: list[ParsedRequirement] = field(default_factory=list)
    values: dict[str, list[str]] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    index_url: str | None = None

    def read(self, file: _File, origin: str) -> str:
        kind = "constraints" if file.constraint else "requirements"
        shown, path = _redact_text(file.name), file.name
        if path.lower().startswith("file:"):
            path = file_url_path(path)
        elif _REMOTE_RE.match(path):
            if self.fetch is None:
                _fail(origin, f"cannot fetch {kind} file {shown}: no fetcher given")
            return self.fetch(file.name).removeprefix("\ufeff")
        try:
            data = Path(path).read_bytes()
        except (OSError, ValueError) as exc:
            _fail(origin, f"could not open {kind} file {shown}: {exc}")
        try:
            return _decode(data, shown)
        except (UnicodeDecodeError, LookupError) as exc:
            _fail(origin, f"could not decode {kind} file {shown}: {exc}")

    def parse(self, file: _File, origin: str) -> None:
        for number, raw in _logical_lines(self.read(file, origin)):
            written = _COMMENT_RE.sub("", raw).strip()
            if not written:
                continue
            line = _ENV_VAR_RE.sub(lambda m: self.env.get(m.group(1)) or m.group(0), written)
            where = f"{_redact_text(file.name)}:{number}"
            try:
                self.line(file, line, written, where)
            except (ValueError, LookupError) as exc:
                _fail(where, f"{exc}: {_redact_text(written)!r}")

    def line(self, file: _File, line: str, written: str, where: str) -> None:
        args, words = _split_line(line)
        try:
            opts, _ = _build_option_parser().parse_args(words, None)
        except _OptionError as exc:
            _fail(where, f"{exc} in {_redact_text(written)!r}")
        hashes: dict[str, list[str]] = {}
        for value in opts.hashes:
            algorithm, colon, digest = value.partition(":")
            if not colon or algorithm not in _STRONG_HASHES:
                _fail(
                    where,
                    f"--hash must be an algorithm ({', '.join(_STRONG_HASHES)}), a colon and "
                    f"a hex digest, not {value!r}",
                )
            hashes.setdefault(algorithm, []).append(digest)

        if args or opts.editables:
            if args:
                parsed = parse_requirement_line(args, where)
            else:
                parsed = _parse_editable(opts.editables[0], where)
            self.requirements.append(
                replace(
                    parsed,
                    line=_redact_text(written),
                    constraint=file.constraint,
                    hashes={algorithm: tuple(v) for algorithm, v in hashes.items()},
                    config_settings=tuple(opts.config_settings),
                )
            )
            if hashes:
                self.flags.add("require-hashes")
        elif opts.requirements:
            self.include(file, opts.requirements[0], False, where)
        elif opts.constraints:
            self.include(file, opts.constraints[0], True, where)
        else:
            if hashes:
                logger.warning("%s has --hash but no requirement; ignored", where)
            self.options(file.name, opts)

    def include(self, parent: _File, nested: str, constraint: bool, where: str) -> None:
        if _REMOTE_RE.match(parent.name):
            target = key = urllib.parse.urljoin(parent.name, nested)
        elif _REMOTE_RE.match(nested):
            target = key = nested
        else:
            target = os.path.normpath(os.path.join(os.path.dirname(parent.name), nested))
            key = os.path.abspath(target)
        if key in parent.chain:
            first = parent.chain[key]
            again = f" (first included from {_redact_text(first)})" if first else ""
            _fail(where, f"{_redact_text(target)} includes itself recursively{again}")
        chain = {**parent.chain, key: parent.name}
        self.parse(_File(target, constraint, chain), where)

    def options(self, name: str, opts: optparse.Values) -> None:
        if opts.index_url:
            self.index_url = opts.index_url[-1]
        for link in opts.find_links:
            # pip prefers a find-links path beside the file when one exists there.
            if not _REMOTE_RE.match(name):
                beside = os.path.join(os.path.dirname(os.path.abspath(name)), link)
                link = beside if os.path.exists(beside) else link
            self.values.setdefault("find-links", []).append(link)
        for dest in _LISTS:
            self.values.setdefault(dest.replace("_", "-"), []).extend(getattr(opts, dest))
        for flag in _FLAGS:
            if getattr(opts, flag.replace("-", "_")):
                self.flags.add(flag)

    def result(self) -> RequirementsFile:
        def take(key: str) -> tuple[str, ...]:
            return tuple(self.values.pop(key, ()))

        return RequirementsFile(
            requirements=tuple(self.requirements),
            index_url=self.index_url,
            extra_index_urls=take("extra-index-urls"),
            find_links=take("find-links"),
            no_index="no-index" in self.flags,
            pre="pre" in self.flags,
            trusted_hosts=take("trusted-hosts"),
            require_hashes="require-hashes" in self.flags,
            options={
                **{key: tuple(values) for key, values in self.values.items() if values},
                **{
                    flag: ()
                    for flag in ("prefer-binary", "no-require-hashes")
                    if flag in self.flags
                },
            },
        )


def parse_requirements_file(
    path: str | Path,
    *,
    constraint: bool = False,
    env: Mapping[str, str] = os.environ,
    fetch: Callable[[str], str] | None = None,
) -> RequirementsFile:
    """Read a pip requirements (or, with *constraint*, constraints) file.

    *path* may be a local path, a ``file:`` URL or an http(s) URL; http(s) files,
    and files they include, are read with *fetch* (given the URL, it returns the
    text), and without one are an error. ``${NAME}`` is expanded from *env*.
    Included files are inlined where the ``-r``/``-c`` line is; as in pip, ``-c``
    makes the included file's lines constraints and ``-r`` makes them requirements,
    whatever the including file is. Every problem is a RequirementError naming
    ``file:line`` and the offending text, with credentials redacted.
    """
    name = os.fspath(path)
    key = name if _REMOTE_RE.match(name) else os.path.abspath(name)
    collector = _Collector(env=env, fetch=fetch)
    collector.parse(_File(name, constraint, {key: None}), "")
    return collector.result()
