"""Which releases a resolution may take: pre-releases per project (``--pre``,
``--all-releases``, ``--only-final``) and how recent a file may be
(``--uploaded-prior-to``, pip's spelling, and ``--exclude-newer``, uv's).

Both are read once from a command's options, for every resolving command and for
``roost index versions``, so the same words mean the same thing everywhere. The upload
cut-off works on PEP 700 upload times, which only JSON index pages give: a remote file
without one is an error (as pip makes it), never silently kept or dropped.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import click
from packaging.utils import InvalidName, canonicalize_name

from roost.errors import RoostError
from roost.policy_types import CandidateInfo, Exclusion
from roost.types import Link

#: The value of ``--all-releases``/``--only-final`` that names every project.
ALL = ":all:"
#: The value that empties the option's list so far.
NONE = ":none:"
#: What the built-in filters sign their exclusions with in "no matching distribution".
UPLOAD_FILTER = "--uploaded-prior-to"
FINAL_FILTER = "--only-final"
#: A duration longer than this is a typo: nothing was uploaded before the year 1.
_MAX_DAYS = 365 * 200


@dataclass(frozen=True)
class ReleaseChoices:
    """Per project, whether pre-releases may be picked (pip's release control)."""

    #: Canonical names (or ``:all:``) whose pre-releases may be picked.
    all_releases: frozenset[str] = frozenset()
    #: Canonical names (or ``:all:``) limited to final releases.
    only_final: frozenset[str] = frozenset()

    def allows_prereleases(self, name: str) -> bool | None:
        """True or False when an option decides for *name*, None when the requirement's
        specifiers do (PEP 440: a specifier naming a pre-release opts in). A project
        named outright wins over ``:all:`` of the other option."""
        key = canonicalize_name(name)
        if key in self.all_releases:
            return True
        if key in self.only_final:
            return False
        if ALL in self.all_releases:
            return True
        if ALL in self.only_final:
            return False
        return None

    @property
    def restricts(self) -> bool:
        """Whether some project is limited to final releases."""
        return bool(self.only_final)


def _names(values: Iterable[str], option: str) -> set[str]:
    """One option's values read in order: comma lists, ``:all:`` and ``:none:``."""
    names: set[str] = set()
    for value in values:
        if value.startswith("-"):
            raise click.BadParameter(
                f"{value!r} looks like an option: {option} takes :all:, :none: or "
                "project names separated by commas",
                param_hint=option,
            )
        for item in value.split(","):
            item = item.strip()
            if item == ALL:
                names = {ALL}
            elif item == NONE:
                names = set()
            elif item:
                try:
                    names.add(canonicalize_name(item, validate=True))
                except InvalidName:
                    raise click.BadParameter(
                        f"{item!r} is not a project name (give :all:, :none: or names "
                        "separated by commas)",
                        param_hint=option,
                    ) from None
    return names


def release_choices(
    all_releases: Sequence[str] = (), only_final: Sequence[str] = (), *, pre: bool = False
) -> ReleaseChoices:
    """pip's ``--all-releases``/``--only-final``, with ``--pre`` as ``--all-releases :all:``.

    pip reads the two options in command-line order, and a later ``:all:`` of one
    clears the names of the other; click keeps each option's values apart, so here a
    project named outright always wins over the other option's ``:all:``, whatever the
    order, and naming one project in both is refused rather than guessed.
    """
    if pre and (all_releases or only_final):
        raise click.UsageError(
            "--pre cannot be combined with --all-releases or --only-final (--pre means "
            "--all-releases :all:): give one of them"
        )
    if pre:
        return ReleaseChoices(all_releases=frozenset({ALL}))
    allowed = _names(all_releases, "--all-releases")
    final = _names(only_final, "--only-final")
    both = sorted((allowed & final) - {ALL})
    if both:
        raise click.UsageError(
            f"{', '.join(both)}: named by both --all-releases and --only-final; name each "
            "project in one of them"
        )
    return ReleaseChoices(frozenset(allowed), frozenset(final))


def choices_from_params(params: Mapping[str, Any]) -> ReleaseChoices:
    """The release choices of a command's options (any of them may be missing)."""
    return release_choices(
        tuple(params.get("all_releases") or ()),
        tuple(params.get("only_final") or ()),
        pre=bool(params.get("pre")),
    )


# -- upload times ---------------------------------------------------------------------------

_UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
_CALENDAR_UNITS = ("mo", "mos", "month", "months", "y", "yr", "yrs", "year", "years")
_ISO_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?",
    re.ASCII | re.IGNORECASE,
)
_FRIENDLY_PART = re.compile(r"(\d+)\s*([a-z]+)", re.ASCII | re.IGNORECASE)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _iso_duration(text: str) -> datetime.timedelta | None:
    match = _ISO_DURATION.fullmatch(text)
    if match is None or text.upper().endswith(("P", "T")):
        return None
    parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
    return datetime.timedelta(**parts)


def _friendly_duration(text: str, option: str) -> datetime.timedelta | None:
    """``"1 week"``, ``"3 days 12 hours"``, ``"2h"``, optionally ending in ``ago``."""
    words = text.strip()
    if words.lower().endswith(" ago"):
        words = words[: -len(" ago")]
    words = words.replace(",", " ").strip()
    if not words or not words[0].isdigit():
        return None
    seconds = 0
    position = 0
    for match in _FRIENDLY_PART.finditer(words):
        if words[position : match.start()].strip():
            return None
        unit = match.group(2).lower()
        if unit in _CALENDAR_UNITS:
            raise click.BadParameter(
                f"{text!r}: months and years have no fixed length; give days instead "
                "(P30D, '30 days')",
                param_hint=option,
            )
        if unit not in _UNITS:
            return None
        seconds += int(match.group(1)) * _UNITS[unit]
        position = match.end()
    if position == 0 or words[position:].strip():
        return None
    return datetime.timedelta(seconds=seconds)


def _absolute(text: str, *, day_included: bool) -> datetime.datetime | None:
    """An ISO 8601 date and time (local time when it names no zone), or a date: its
    start, or with *day_included* (uv's reading) the start of the next day."""
    if _DATE.fullmatch(text):
        try:
            day = datetime.date.fromisoformat(text)
        except ValueError:
            return None
        if day_included:
            day += datetime.timedelta(days=1)
        return datetime.datetime(day.year, day.month, day.day).astimezone()
    stripped = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        moment = datetime.datetime.fromisoformat(stripped)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.astimezone()


def parse_cutoff(
    text: str, option: str = UPLOAD_FILTER, *, now: datetime.datetime | None = None
) -> datetime.datetime:
    """The moment *text* names, for ``--uploaded-prior-to`` or ``--exclude-newer``.

    Accepted: an ISO 8601 date and time (``2024-03-01T12:00:00Z``; local time when it
    names no zone), a date (``2024-03-01``: its start for ``--uploaded-prior-to`` as
    pip reads it, the end of that day for ``--exclude-newer`` as uv reads it), an ISO
    8601 duration in weeks, days, hours, minutes and seconds (``P7D``, ``PT12H``,
    ``P1DT6H``) or the same in words (``1 week``, ``3 days``, ``12 hours ago``), meaning
    that long before now. Months and years are refused: their length depends on when.
    """
    value = text.strip()
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if value[:1] in ("P", "p"):
        duration = _iso_duration(value)
        if duration is None:
            raise click.BadParameter(
                f"{text!r} is not an ISO 8601 duration roost reads: give weeks, days, "
                "hours, minutes or seconds, such as P7D, PT12H or P1DT6H (months and "
                "years have no fixed length)",
                param_hint=option,
            )
    else:
        duration = _friendly_duration(value, option)
    if duration is not None:
        if duration.days > _MAX_DAYS:
            raise click.BadParameter(f"{text!r} reaches back too far", param_hint=option)
        return now - duration
    moment = _absolute(value, day_included=option == "--exclude-newer")
    if moment is None:
        raise click.BadParameter(
            f"{text!r} is not a date and time roost reads: give an ISO 8601 date and time "
            "(2024-03-01T00:00:00Z, local time without a zone), a date (2024-03-01), or a "
            "duration before now (P7D, PT12H, '1 week')",
            param_hint=option,
        )
    return moment


def cutoff_from_params(params: Mapping[str, Any]) -> datetime.datetime | None:
    """The upload cut-off a command's options ask for, or None."""
    prior = params.get("uploaded_prior_to")
    newer = params.get("exclude_newer")
    if prior and newer:
        raise click.UsageError(
            "--uploaded-prior-to and --exclude-newer say the same thing: give one of them"
        )
    if prior:
        return parse_cutoff(str(prior), UPLOAD_FILTER)
    if newer:
        return parse_cutoff(str(newer), "--exclude-newer")
    return None


def uploaded_too_late(link: Link, cutoff: datetime.datetime) -> bool:
    """Whether *link* was uploaded at or after *cutoff*.

    Local files (``file:`` links of a folder or a local index) carry no upload time
    and are never held back, as pip has it. A remote file whose source gives no upload
    time is an error: the cut-off cannot be kept for it, and pip stops there too.
    """
    if link.url.startswith("file:"):
        return False
    uploaded = link.uploaded
    if uploaded is None:
        raise RoostError(
            f"--uploaded-prior-to needs upload times, and {link.source.display} gives none "
            f"for {link.filename} (PEP 700 upload-time, given only on the JSON pages of "
            "the simple API): use an index that gives them, or drop the cut-off"
        )
    return uploaded >= cutoff


def release_exclusions(
    candidates: Sequence[CandidateInfo],
    *,
    cutoff: datetime.datetime | None,
    choices: ReleaseChoices,
) -> list[Exclusion]:
    """The files the upload cut-off and ``--only-final`` take away, each with why."""
    from packaging.version import InvalidVersion, Version

    excluded: list[Exclusion] = []
    for info in candidates:
        uploaded = info.upload_time
        if cutoff is not None and uploaded_too_late(info.link, cutoff) and uploaded:
            excluded.append(
                Exclusion(
                    filename=info.filename,
                    reason=f"uploaded {_utc(uploaded)}, not before {_utc(cutoff)}",
                    plugin=UPLOAD_FILTER,
                )
            )
            continue
        if choices.allows_prereleases(info.name) is False:
            try:
                pre = Version(info.version).is_prerelease
            except InvalidVersion:
                pre = False
            if pre:
                excluded.append(
                    Exclusion(
                        filename=info.filename,
                        reason=f"{info.version} is a pre-release, and --only-final "
                        f"limits {info.name} to final releases",
                        plugin=FINAL_FILTER,
                    )
                )
    return excluded


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
