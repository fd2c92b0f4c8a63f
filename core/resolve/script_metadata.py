"""A script's inline metadata (PEP 723): the ``# /// script`` comment block's
``dependencies`` and ``requires-python``, for ``--requirements-from-script``.

A block opens with a line ``# /// TYPE`` and closes with the last ``# ///`` line
before the first line that is not part of the comment (PEP 723's reference regex,
which pip uses, says the same). Every line in between is ``#`` alone or ``#``, a
space and text; the text, less that prefix, is TOML. Blocks of other types are read
past; a script must have exactly one ``script`` block. The lines are scanned once
(not by the reference regex, which is quadratic on many unclosed openers), and the
file is read up to :data:`MAX_SCRIPT_BYTES`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from roost.errors import RequirementError
from roost.types import redact_text

#: The most a script may hold: real scripts are a few KB, and reading stops here
#: rather than filling memory from an endless pipe.
MAX_SCRIPT_BYTES = 16 * 1024 * 1024
#: The block type ``--requirements-from-script`` reads.
SCRIPT_TYPE = "script"

_OPENER_RE = re.compile(r"# /// ([a-zA-Z0-9-]+)")
_CLOSER = "# ///"


@dataclass(frozen=True)
class ScriptMetadata:
    """What a script's ``script`` block says."""

    path: str
    #: The ``dependencies`` array, each a PEP 508 string, in order.
    dependencies: tuple[str, ...]
    #: ``requires-python``, or None when the block has none.
    requires_python: SpecifierSet | None


def _is_content(line: str) -> bool:
    return line == "#" or line.startswith("# ")


def metadata_blocks(text: str) -> list[tuple[str, str]]:
    """Every metadata block of *text*, as (type, TOML text), in order."""
    # Python's text mode reads \r\n and \r as \n; so does pip, so the same here.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # Per line: the index of the last closer in the run of comment lines it is in.
    last_closer: list[int] = [-1] * len(lines)
    start = 0
    while start < len(lines):
        if not _is_content(lines[start]):
            start += 1
            continue
        end = start
        closer = -1
        while end < len(lines) and _is_content(lines[end]):
            if lines[end] == _CLOSER:
                closer = end
            end += 1
        for index in range(start, end):
            last_closer[index] = closer
        start = end
    blocks: list[tuple[str, str]] = []
    index = 0
    # The opener must be followed by a line break, and the content must end in one:
    # the last line of a file without a final newline cannot be an opener.
    while index < len(lines) - 1:
        opened = _OPENER_RE.fullmatch(lines[index])
        closer = last_closer[index]
        if opened is None or closer < index + 2:
            index += 1
            continue
        body = "".join(line[2:] + "\n" for line in lines[index + 1 : closer])
        blocks.append((opened.group(1), body))
        index = closer + 1
    return blocks


def _read(path: str) -> str:
    shown = redact_text(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SCRIPT_BYTES + 1)
    except OSError as exc:
        raise RequirementError(
            f"cannot read the script {shown} (--requirements-from-script): {exc.strerror or exc}"
        ) from None
    except ValueError as exc:  # a NUL in the path
        raise RequirementError(f"cannot read the script {shown!r}: {exc}") from None
    if len(data) > MAX_SCRIPT_BYTES:
        raise RequirementError(
            f"the script {shown} is larger than {MAX_SCRIPT_BYTES // (1024 * 1024)} MiB, "
            "the most roost reads for its inline metadata"
        )
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise RequirementError(f"the script {shown} is not UTF-8 text: {exc}") from None


def read_script_metadata(path: str | os.PathLike[str]) -> ScriptMetadata:
    """The ``script`` block of the file at *path*, checked.

    :raises RequirementError: the file cannot be read, has no ``script`` block or
        more than one, its TOML is invalid, or a value is not what PEP 723 says.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

    name = os.fspath(path)
    shown = redact_text(name)
    found = [body for kind, body in metadata_blocks(_read(name)) if kind == SCRIPT_TYPE]
    if not found:
        raise RequirementError(
            f"{shown} has no inline script metadata: no '# /// script' block closed by "
            "'# ///' (PEP 723)"
        )
    if len(found) > 1:
        raise RequirementError(
            f"{shown} has {len(found)} '# /// script' blocks; PEP 723 allows one"
        )
    try:
        table = tomllib.loads(found[0])
    except tomllib.TOMLDecodeError as exc:
        raise RequirementError(
            f"the '# /// script' block of {shown} is not valid TOML: {exc}"
        ) from None
    return ScriptMetadata(
        path=name,
        dependencies=_dependencies(table.get("dependencies", []), shown),
        requires_python=_requires_python(table.get("requires-python"), shown),
    )


def _dependencies(value: object, shown: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RequirementError(
            f"'dependencies' in the script metadata of {shown} must be an array of "
            "requirement strings"
        )
    for item in value:
        try:
            Requirement(item)
        except InvalidRequirement as exc:
            raise RequirementError(
                f"Invalid requirement: {redact_text(item)!r}: {exc} (from the script "
                f"metadata of {shown})"
            ) from None
    return tuple(value)


def _requires_python(value: object, shown: str) -> SpecifierSet | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RequirementError(
            f"'requires-python' in the script metadata of {shown} must be a string"
        )
    try:
        return SpecifierSet(value)
    except InvalidSpecifier as exc:
        raise RequirementError(
            f"'requires-python' in the script metadata of {shown} is not a version "
            f"specifier: {exc}"
        ) from None


def script_python_problem(metadata: ScriptMetadata, python_version: str) -> str | None:
    """Why the target's Python (*python_version*, like ``3.12.1``) cannot run the
    script, or None when it can (pre-releases of Python count, as pip has it)."""
    wanted = metadata.requires_python
    if wanted is None or wanted.contains(python_version, prereleases=True):
        return None
    return (
        f"the script {redact_text(metadata.path)} requires Python {wanted}, and the "
        f"target's is {python_version} (--ignore-requires-python skips this check)"
    )


def only_one_script(values: Sequence[str]) -> str | None:
    """The one script given, or None; pip takes the option once per command.

    :raises RequirementError: more than one was given.
    """
    if len(values) > 1:
        raise RequirementError("--requirements-from-script can be given only once")
    return values[0] if values else None
