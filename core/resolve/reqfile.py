"""Requirements files in pip's format, and single requirement strings.

The rules follow pip's: lines ending in a backslash are joined (unless they are
comments), ``#`` after whitespace or at the start of a line begins a comment,
``${NAME}`` is replaced from the environment when set and non-empty, ``-r`` and
``-c`` include other files relative to the including one, and options are parsed
with the same abbreviation and spelling rules (optparse) pip uses.
"""

from __future__ import annotations

import codecs
import errno
import locale
import logging
import optparse
import os
import re
import shlex
import stat
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NoReturn

from roost.errors import RequirementError
from roost.resolve.requirement_line import (
    REMOTE_RE,
    ParsedRequirement,
    fail,
    parse_editable,
    parse_requirement_line,
)
from roost.types import file_url_path, redact_text

__all__ = [
    "ParsedRequirement",
    "RequirementsFile",
    "parse_requirement_line",
    "parse_requirements_file",
]

logger = logging.getLogger(__name__)

# pip's rule: "#" at the start of a line or after whitespace begins a comment. A
# one-character look-behind finds it in one pass; pip's r"(^|\s+)#.*$" retries every
# position of a run of spaces, which takes minutes on a line of 256 KB of them.
_COMMENT_RE = re.compile(r"(?:^|(?<=\s))#")
_ENV_VAR_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_PEP263_RE = re.compile(rb"coding[:=]\s*([-\w.]+)")

# UTF-32 before UTF-16: the UTF-16-LE mark is a prefix of the UTF-32-LE one.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_STRONG_HASHES = ("sha256", "sha384", "sha512")
#: The most text a requirements file and the files it includes may hold together:
#: real ones, hashes and all, stay far below it, and reading stops there rather than
#: filling memory from an endless pipe.
MAX_REQUIREMENTS_BYTES = 16 * 1024 * 1024
#: How deep ``-r``/``-c`` files may include each other: real projects nest a few
#: levels, and each level takes several Python frames, so thousands would overflow.
MAX_INCLUDE_DEPTH = 64
#: How many files one parse may read (a file included twice counts twice): a few
#: files that each include the next several times would otherwise multiply.
MAX_FILES_READ = 1000
_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_FLAGS = ("no-index", "pre", "prefer-binary", "require-hashes", "no-require-hashes")
_LISTS = (
    "extra_index_urls", "trusted_hosts", "no_binary", "only_binary",
    "all_releases", "only_final", "use_feature",
)  # fmt: skip


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
    #: A ``--require-hashes`` line itself: pip's error beside ``--no-require-hashes``,
    #: where a ``--hash`` alone is not.
    require_hashes_line: bool = False
    #: Other pip options, by long name without dashes: ``no-binary``, ``only-binary``,
    #: ``all-releases``, ``only-final``, ``use-feature`` map to their values in order;
    #: the flags ``prefer-binary`` and ``no-require-hashes`` map to ``()`` when present.
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


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


def without_comment(line: str) -> str:
    """*line* up to the comment it has, if any, in one pass whatever its length."""
    found = _COMMENT_RE.search(line)
    return line if found is None else line[: found.start()]


def _unopenable(origin: str, detail: str) -> NoReturn:
    """pip's error for a requirements (or constraints) file that cannot be read, which
    scripts grep for; for a file another one includes, the line that named it."""
    where, colon, number = origin.rpartition(":")
    if colon and where and number.isdigit():
        detail += f" (from line {number} of {where})"
    elif origin:
        detail += f" ({origin})"
    raise RequirementError(f"Could not open requirements file: {detail}")


def _unreadable_kind(mode: int) -> str | None:
    """What a file of *mode* is when it is neither a regular file nor a pipe."""
    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode):
        return None
    return next((kind for test, kind in _FILE_KINDS if test(mode)), "not a regular file")


def _logical_lines(content: str) -> Iterator[tuple[int, str]]:
    """Yield (first physical line number, joined line) with comments removed."""
    pending: list[str] = []
    start = 0
    for number, line in enumerate(content.splitlines(), start=1):
        is_comment = line.lstrip().startswith("#")
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
    bytes_read: int = 0
    files_read: int = 0

    def read(self, file: _File, origin: str) -> str:
        kind = "constraints" if file.constraint else "requirements"
        shown, path = redact_text(file.name), file.name
        self.files_read += 1
        if self.files_read > MAX_FILES_READ:
            fail(
                origin,
                f"not reading {kind} file {shown}: the -r and -c lines followed so far name "
                f"more than {MAX_FILES_READ} files, the most roost reads for one requirements "
                "file and the files it includes",
            )
        if path.lower().startswith("file:"):
            path = file_url_path(path)
        elif REMOTE_RE.match(path):
            if self.fetch is None:
                fail(origin, f"cannot fetch {kind} file {shown}: no fetcher given")
            return self.fetch(file.name).removeprefix("\ufeff")
        try:
            data = self.read_local(path, f"{kind} file {shown}", origin)
        except OSError as exc:
            _unopenable(origin, redact_text(str(exc)))
        except ValueError as exc:  # a path with a NUL in it, say
            _unopenable(origin, f"{shown}: {exc}")
        try:
            return _decode(data, shown)
        except (UnicodeDecodeError, LookupError) as exc:
            fail(origin, f"could not decode {kind} file {shown}: {exc}")

    def read_local(self, path: str, what: str, origin: str) -> bytes:
        """The bytes of a regular file or a pipe (``-r <(command)``), within what is left
        of :data:`MAX_REQUIREMENTS_BYTES`; devices and folders are refused unopened."""
        room = MAX_REQUIREMENTS_BYTES - self.bytes_read
        data = b""
        kind = _unreadable_kind(os.stat(path).st_mode)
        if kind is None:
            with open(path, "rb") as handle:
                # Asked again of what was opened: the path may have changed in between.
                kind = _unreadable_kind(os.fstat(handle.fileno()).st_mode)
                if kind is None:
                    data = handle.read(room + 1)
        if kind == "a directory":
            # What opening it would have said, as pip says it.
            folder = IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
            _unopenable(origin, redact_text(str(folder)))
        if kind is not None:
            _unopenable(origin, f"{redact_text(path)} is {kind}; give a file or a pipe")
        if len(data) > room:
            fail(
                origin,
                f"{what} is too large: with the files it is read with, it goes past "
                f"{MAX_REQUIREMENTS_BYTES // (1024 * 1024)} MiB, the most roost reads",
            )
        self.bytes_read += len(data)
        return data

    def parse(self, file: _File, origin: str) -> None:
        for number, raw in _logical_lines(self.read(file, origin)):
            written = without_comment(raw).strip()
            if not written:
                continue
            line = _ENV_VAR_RE.sub(lambda m: self.env.get(m.group(1)) or m.group(0), written)
            where = f"{redact_text(file.name)}:{number}"
            try:
                self.line(file, line, written, where)
            except (ValueError, LookupError) as exc:
                fail(where, f"{exc}: {redact_text(written)!r}")

    def line(self, file: _File, line: str, written: str, where: str) -> None:
        args, words = _split_line(line)
        try:
            opts, _ = _build_option_parser().parse_args(words, None)
        except _OptionError as exc:
            fail(where, f"{exc} in {redact_text(written)!r}")
        hashes: dict[str, list[str]] = {}
        for value in opts.hashes:
            algorithm, colon, digest = value.partition(":")
            if not colon or algorithm not in _STRONG_HASHES:
                fail(
                    where,
                    f"--hash must be an algorithm ({', '.join(_STRONG_HASHES)}), a colon and "
                    f"a hex digest, not {value!r}",
                )
            hashes.setdefault(algorithm, []).append(digest)

        if args or opts.editables:
            if args:
                parsed = parse_requirement_line(args, where)
            else:
                parsed = parse_editable(opts.editables[0], where)
            self.requirements.append(
                replace(
                    parsed,
                    line=redact_text(written),
                    constraint=file.constraint,
                    hashes={algorithm: tuple(v) for algorithm, v in hashes.items()},
                    config_settings=tuple(opts.config_settings),
                )
            )
            if hashes:
                self.flags.add("hashed")
        elif opts.requirements:
            self.include(file, opts.requirements[0], False, where)
        elif opts.constraints:
            self.include(file, opts.constraints[0], True, where)
        else:
            if hashes:
                logger.warning("%s has --hash but no requirement; ignored", where)
            self.options(file.name, opts)

    def include(self, parent: _File, nested: str, constraint: bool, where: str) -> None:
        if REMOTE_RE.match(parent.name):
            target = key = urllib.parse.urljoin(parent.name, nested)
        elif REMOTE_RE.match(nested):
            target = key = nested
        else:
            # Absolute, as pip makes it: requirements from it say "-r /abs/path (line N)".
            target = os.path.abspath(os.path.join(os.path.dirname(parent.name), nested))
            # The real path, so a loop through a symlink or another spelling is caught.
            key = os.path.realpath(target)
        if key in parent.chain:
            first = parent.chain[key]
            again = f" (first included from {redact_text(first)})" if first else ""
            fail(where, f"{redact_text(target)} includes itself recursively{again}")
        if len(parent.chain) >= MAX_INCLUDE_DEPTH:
            fail(
                where,
                f"{redact_text(target)} would be the {len(parent.chain) + 1}th file in a chain "
                f"of -r and -c includes; roost follows at most {MAX_INCLUDE_DEPTH} levels",
            )
        chain = {**parent.chain, key: parent.name}
        self.parse(_File(target, constraint, chain), where)

    def options(self, name: str, opts: optparse.Values) -> None:
        if opts.index_url:
            self.index_url = opts.index_url[-1]
        for link in opts.find_links:
            # pip prefers a find-links path beside the file when one exists there.
            if not REMOTE_RE.match(name):
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
            require_hashes=bool({"require-hashes", "hashed"} & self.flags),
            require_hashes_line="require-hashes" in self.flags,
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
    key = name if REMOTE_RE.match(name) else os.path.realpath(name)
    collector = _Collector(env=env, fetch=fetch)
    collector.parse(_File(name, constraint, {key: None}), "")
    return collector.result()
