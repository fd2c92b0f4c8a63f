"""The policy file: read, checked key by key, and turned into a :class:`Policy`.

Every mistake is a :class:`PolicyError` naming the file and the key (``deny[2].versions``),
raised before roost looks anything up, so a policy that says something else than its
author meant never half-applies. Unknown tables and keys are mistakes too: a typo such
as ``[release_age]`` must not silently switch a rule off.
"""

from __future__ import annotations

import datetime
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from roost.errors import ConfigError
from roost_policy.durations import DurationError, parse_duration
from roost_policy.spdx import ExpressionError, single_term

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

#: A policy is a page or two of TOML; anything this big is the wrong file.
MAX_POLICY_BYTES = 1 << 20
# PEP 508's rule for a project name.
_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
_TABLES = ("release-age", "deny", "allow", "licenses")
UNKNOWN_CHOICES = ("refuse", "warn")


class PolicyError(ConfigError):
    """The policy file cannot be used; the message names the file and the key."""

    def __init__(self, path: Path, key: str | None, problem: str) -> None:
        where = f"{path}: {key}:" if key else f"{path}:"
        super().__init__(f"roost-policy: policy file {where} {problem}")


@dataclass(frozen=True)
class ReleaseAge:
    """``[release-age]``: files younger than ``minimum`` are not used."""

    minimum: datetime.timedelta
    #: As the file wrote it, for messages.
    minimum_text: str
    exempt: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ProjectRule:
    """One ``[[deny]]`` or ``[[allow]]`` entry."""

    project: str  # normalized
    #: None: every version.
    versions: SpecifierSet | None
    reason: str
    #: ``deny[2]``: where it is in the file, for messages.
    key: str

    def matches(self, version: str) -> bool:
        """Whether *version* (a PEP 440 version string) falls under this rule."""
        if self.versions is None:
            return True
        try:
            parsed = Version(version)
        except InvalidVersion:
            return False
        # Pre-releases count: "<2" denies 1.5rc1 as much as 1.5.
        return self.versions.contains(parsed, prereleases=True)

    @property
    def display(self) -> str:
        """``alpha <2`` or ``alpha``, as messages show the rule."""
        return f"{self.project} {self.versions}" if self.versions else self.project


@dataclass(frozen=True)
class LicenseRules:
    """``[licenses]``: the licences a distribution may have."""

    #: Canonical SPDX terms (``MIT``, ``GPL-2.0-only WITH Classpath-exception-2.0``).
    allowed: tuple[str, ...]
    exempt: frozenset[str] = frozenset()
    #: What to do when a distribution's licence cannot be read: refuse or warn.
    unknown: str = "refuse"


@dataclass(frozen=True)
class Policy:
    """A whole policy file."""

    path: Path
    release_age: ReleaseAge | None = None
    deny: tuple[ProjectRule, ...] = ()
    #: None when the file has no ``[[allow]]``: every project may be installed.
    allow: tuple[ProjectRule, ...] | None = None
    licenses: LicenseRules | None = None

    @property
    def filters(self) -> bool:
        """Whether any rule applies to candidates (not only to plans)."""
        return bool(self.release_age or self.deny or self.allow is not None)


def read_policy(path: Path) -> Policy:
    """Read and check the policy file at *path*."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyError(path, None, f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(path, None, f"larger than {MAX_POLICY_BYTES // 1024} KiB")
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise PolicyError(path, None, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(path, None, f"not valid TOML: {exc}") from None
    return parse_policy(path, document)


def parse_policy(path: Path, document: Mapping[str, Any]) -> Policy:
    """The :class:`Policy` a parsed TOML *document* describes."""
    _no_other_keys(path, "", document, _TABLES)
    release_age = None
    if "release-age" in document:
        release_age = _release_age(path, _table(path, "release-age", document["release-age"]))
    deny = _rules(path, "deny", document.get("deny", []), reason_required=True)
    allow = None
    if "allow" in document:
        allow = _rules(path, "allow", document["allow"], reason_required=False)
    licenses = None
    if "licenses" in document:
        licenses = _licenses(path, _table(path, "licenses", document["licenses"]))
    return Policy(path, release_age, deny, allow, licenses)


def _release_age(path: Path, table: Mapping[str, Any]) -> ReleaseAge:
    _no_other_keys(path, "release-age.", table, ("minimum", "exempt"))
    if "minimum" not in table:
        raise PolicyError(path, "release-age.minimum", 'is missing (for example "7d")')
    text = table["minimum"]
    if not isinstance(text, str):
        raise PolicyError(
            path,
            "release-age.minimum",
            f'must be a string such as "7d" or "P7D", not {_kind(text)} {text!r}',
        )
    try:
        minimum = parse_duration(text)
    except DurationError as exc:
        raise PolicyError(path, "release-age.minimum", str(exc)) from None
    exempt = _names(path, "release-age.exempt", table.get("exempt", []))
    return ReleaseAge(minimum, text.strip(), exempt)


def _rules(path: Path, name: str, value: Any, *, reason_required: bool) -> tuple[ProjectRule, ...]:
    if not isinstance(value, list):
        raise PolicyError(
            path, name, f"must be an array of tables ([[{name}]] entries), not {_kind(value)}"
        )
    rules = []
    for number, entry in enumerate(value, start=1):
        key = f"{name}[{number}]"
        table = _table(path, key, entry)
        _no_other_keys(path, f"{key}.", table, ("project", "versions", "reason"))
        if "project" not in table:
            raise PolicyError(path, f"{key}.project", "is missing")
        project = _name(path, f"{key}.project", table["project"])
        versions = None
        if "versions" in table:
            versions = _specifier(path, f"{key}.versions", table["versions"])
        reason = table.get("reason", "")
        if not isinstance(reason, str):
            raise PolicyError(path, f"{key}.reason", f"must be a string, not {_kind(reason)}")
        if reason_required and not reason.strip():
            raise PolicyError(
                path, f"{key}.reason", "is missing: say why (an advisory, a ticket), users see it"
            )
        rules.append(ProjectRule(project, versions, " ".join(reason.split()), key))
    return tuple(rules)


def _licenses(path: Path, table: Mapping[str, Any]) -> LicenseRules:
    _no_other_keys(path, "licenses.", table, ("allowed", "exempt", "unknown"))
    if "allowed" not in table:
        raise PolicyError(path, "licenses.allowed", 'is missing (for example ["MIT"])')
    allowed = []
    for number, term in enumerate(_strings(path, "licenses.allowed", table["allowed"]), 1):
        try:
            allowed.append(single_term(term))
        except ExpressionError as exc:
            raise PolicyError(
                path, f"licenses.allowed[{number}]", f"{term!r} is not one SPDX licence: {exc}"
            ) from None
    unknown = table.get("unknown", "refuse")
    if unknown not in UNKNOWN_CHOICES:
        raise PolicyError(path, "licenses.unknown", f'must be "refuse" or "warn", not {unknown!r}')
    exempt = _names(path, "licenses.exempt", table.get("exempt", []))
    return LicenseRules(tuple(dict.fromkeys(allowed)), exempt, unknown)


def _specifier(path: Path, key: str, value: Any) -> SpecifierSet:
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(path, key, f'must be a version specifier such as "<2", not {value!r}')
    try:
        return SpecifierSet(value)
    except InvalidSpecifier:
        raise PolicyError(
            path, key, f'{value!r} is not a version specifier (PEP 440, like "<2" or ">=1,<1.4")'
        ) from None


def _names(path: Path, key: str, value: Any) -> frozenset[str]:
    return frozenset(
        _name(path, f"{key}[{number}]", item)
        for number, item in enumerate(_strings(path, key, value), 1)
    )


def _name(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise PolicyError(path, key, f"{value!r} is not a project name")
    return str(canonicalize_name(value))


def _strings(path: Path, key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise PolicyError(path, key, f"must be an array of strings, not {_kind(value)}")
    return list(value)


def _table(path: Path, key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise PolicyError(path, key, f"must be a table, not {_kind(value)}")
    return value


def _no_other_keys(
    path: Path, prefix: str, table: Mapping[str, Any], known: tuple[str, ...]
) -> None:
    for key in table:
        if key not in known:
            where = f"[{prefix.rstrip('.')}]" if prefix else "the top level"
            raise PolicyError(
                path,
                f"{prefix}{key}",
                f"is not a key roost-policy knows in {where} (known: {', '.join(known)})",
            )


def _kind(value: Any) -> str:
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    kinds.update({list: "an array", dict: "a table"})
    return kinds.get(type(value), type(value).__name__)
