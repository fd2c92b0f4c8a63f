"""``--group [PATH:]GROUP``: the requirements of PEP 735 dependency groups, as pip 26 reads them.

PATH is a ``pyproject.toml`` (the one in the working directory when no PATH is given)
or a lock file (``pylock.toml``, ``pylock.NAME.toml``); a group's ``{include-group =
"..."}`` entries are followed (``packaging.dependency_groups`` does that, with its cycle
and name checks). The requirements join the ones named on the command line, as if the
user had typed them. A lock file's groups select packages of that lock instead: they
go to :func:`lock_file_groups`, where installing from a lock takes over.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import click

from roost.errors import RequirementError

if TYPE_CHECKING:
    from roost.resolve.requirement_line import ParsedRequirement

#: The option's name, in messages.
OPTION = "--group"
#: A pyproject.toml larger than this is no project file (bounded read).
MAX_PYPROJECT_BYTES = 4 * 1024 * 1024
DEFAULT_PATH = "pyproject.toml"


@dataclass(frozen=True)
class GroupRequest:
    """One ``--group`` value: a group of the file at *path*."""

    path: str
    group: str

    @property
    def is_lock_file(self) -> bool:
        from packaging.pylock import is_valid_pylock_path

        return is_valid_pylock_path(Path(self.path))


def read_group_option(value: str) -> GroupRequest:
    """``[PATH:]GROUP``, split at the last colon (a group name has none; a Windows
    path may). PATH must name a pyproject.toml or a lock file, as pip requires.

    :raises click.BadParameter: PATH names some other file, or GROUP is no valid name.
    """
    from packaging.pylock import is_valid_pylock_path
    from packaging.utils import InvalidName, canonicalize_name

    path, colon, group = value.rpartition(":")
    if not colon:
        path = DEFAULT_PATH
    elif not path or (
        PurePath(path).name != DEFAULT_PATH and not is_valid_pylock_path(Path(path))
    ):
        raise click.BadParameter(
            f"{value!r}: a group's file is a local pyproject.toml or a lock file "
            "(pylock.toml, pylock.NAME.toml), given as PATH:GROUP",
            param_hint=OPTION,
        )
    try:
        canonicalize_name(group, validate=True)
    except InvalidName:
        raise click.BadParameter(
            f"{group!r} is not a dependency group name (letters, digits, and '-', '_' or "
            "'.' between them)",
            param_hint=OPTION,
        ) from None
    return GroupRequest(path, group)


def group_requests(values: Iterable[str]) -> list[GroupRequest]:
    return [read_group_option(value) for value in values]


def group_requirements(values: Iterable[str]) -> list[ParsedRequirement]:
    """The requirements of every ``--group`` value of a pyproject.toml, in order.

    The groups of a lock file are a requirement source of their own: they are handed
    to :func:`lock_file_groups` first.
    """
    from roost.resolve.requirement_line import parse_requirement_line

    values = tuple(values)
    for path, groups in lock_groups(values).items():
        lock_file_groups(path, groups)
    found: list[ParsedRequirement] = []
    for request, texts in group_entries(values):
        origin = f"{request.path} [dependency-groups] {request.group}"
        found.extend(parse_requirement_line(text, origin) for text in texts)
    return found


def group_entries(values: Iterable[str]) -> list[tuple[GroupRequest, list[str]]]:
    """Each pyproject.toml ``--group`` value of *values* with its requirement strings,
    includes followed, in order (lock files' groups are left out)."""
    tables: dict[str, Any] = {}
    found: list[tuple[GroupRequest, list[str]]] = []
    for request in group_requests(values):
        if request.is_lock_file:
            continue
        if request.path not in tables:
            tables[request.path] = _resolver(request.path)
        found.append((request, _resolve(tables[request.path], request)))
    return found


def lock_groups(values: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The ``--group`` values naming a lock file: its path, with the groups asked of
    it in order (no repeats). Installing from a lock selects these groups."""
    found: dict[str, list[str]] = {}
    for request in group_requests(values):
        if request.is_lock_file:
            groups = found.setdefault(request.path, [])
            if request.group not in groups:
                groups.append(request.group)
    return {path: tuple(groups) for path, groups in found.items()}


def lock_file_groups(path: str, groups: Sequence[str]) -> None:
    """A lock file's groups reaching a command that resolves: refused, as a lock is
    installed as it is (``roost install`` takes ``--group LOCK:GROUP`` before it gets
    here, in :func:`roost.flows.lock_install.lock_to_install`)."""
    shown = ", ".join(groups)
    raise RequirementError(
        f"{path}: --group {shown} selects packages of a lock file, which only roost "
        f"install installs (roost install --group {path}:GROUP); this command resolves "
        "requirements, so give a pyproject.toml group"
    )


def _load(path: str) -> Mapping[str, Any]:
    """The TOML document at *path*, or a :class:`RequirementError` saying why not."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

    file = Path(path)
    try:
        with file.open("rb") as stream:
            data = stream.read(MAX_PYPROJECT_BYTES + 1)
    except FileNotFoundError:
        raise RequirementError(
            f"{path} not found: {OPTION} reads dependency groups from it (give "
            f"PATH:GROUP for another file)"
        ) from None
    except IsADirectoryError:
        raise RequirementError(f"{path} is a directory, not a pyproject.toml") from None
    except OSError as exc:
        raise RequirementError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_PYPROJECT_BYTES:
        raise RequirementError(
            f"{path} is larger than {MAX_PYPROJECT_BYTES // (1024 * 1024)} MiB: not a "
            "pyproject.toml roost reads"
        )
    try:
        document: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RequirementError(f"{path} is not UTF-8 text: {exc.reason}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RequirementError(f"{path} is not valid TOML: {exc}") from None
    return document


def _resolver(path: str) -> Any:
    """packaging's resolver of the ``[dependency-groups]`` table of *path*."""
    from packaging.dependency_groups import DependencyGroupResolver
    from packaging.errors import ExceptionGroup

    document = _load(path)
    table = document.get("dependency-groups")
    if table is None:
        raise RequirementError(
            f"{path} has no [dependency-groups] table, so {OPTION} has no group to take"
        )
    if not isinstance(table, dict):
        raise RequirementError(f"{path}: [dependency-groups] is not a table")
    try:
        return DependencyGroupResolver(table)
    except ExceptionGroup as group:
        raise RequirementError(
            f"{path}: [dependency-groups] is invalid: {_messages(group.exceptions)}"
        ) from None


def _resolve(resolver: Any, request: GroupRequest) -> list[str]:
    """The requirement strings of the group, includes followed."""
    from packaging.errors import ExceptionGroup
    from packaging.utils import canonicalize_name

    known = resolver.dependency_groups
    if canonicalize_name(request.group) not in known:
        names = ", ".join(sorted(known)) or "none"
        raise RequirementError(
            f"{request.path} has no dependency group {request.group!r} (its groups: {names})"
        )
    try:
        return [str(requirement) for requirement in resolver.resolve(request.group)]
    except ExceptionGroup as group:
        errors: Sequence[BaseException] = group.exceptions
    except ValueError as error:
        # packaging before 26.2 raises the first invalid entry's error on its own.
        errors = [error]
    raise RequirementError(
        f"{request.path}: dependency group {request.group!r} cannot be read: {_messages(errors)}"
    )


def _messages(errors: Sequence[BaseException]) -> str:
    # One line each: an invalid requirement's message spans lines with a caret.
    return "; ".join(" ".join(str(error).split()) for error in errors)


def only_deps(params: Mapping[str, Any]) -> bool:
    """``--only-deps``, refused beside the options pip refuses it with: what it leaves
    out is the projects named on the command line, which those options do not name."""
    from roost.errors import RoostError

    if not params.get("only_deps"):
        return False
    clashes = [
        option
        for option, key in (
            ("--no-deps", "no_deps"),
            ("--requirement", "requirement_files"),
            (OPTION, "groups"),
        )
        if params.get(key)
    ]
    if clashes:
        raise RoostError(
            f"--only-deps cannot be combined with {' or '.join(clashes)}: it installs the "
            "dependencies of the requirements named on the command line, and nothing else"
        )
    return True
