"""Durations as a policy writes them: ``7d``, ``36h``, ``1w 2d``, ``7 days``, or ISO 8601
(``P7D``, ``PT36H``, ``P1W``, ``P1DT12H``), the spellings uv's ``--exclude-newer`` and
pip's ``--uploaded-prior-to`` users already know.

Years and months are refused: their length depends on the calendar, and a release-age
rule must mean the same number of seconds every day.
"""

from __future__ import annotations

import datetime
import re

#: Seconds in each unit, by every spelling accepted.
_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    # Not "m": minutes to some, months to others.
    **dict.fromkeys(("min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 7 * 86400),
}
_FRIENDLY_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*,?", re.IGNORECASE)
_ISO = re.compile(
    r"P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)
#: Longer text is no duration anyone meant; bounding it keeps the regexes cheap.
_MAX_TEXT = 100
#: Ten years: enough for any policy, and far from datetime's limits.
_MAX_SECONDS = 10 * 366 * 86400
HINT = 'write it like "7d", "36h", "1w 2d", "7 days" or an ISO 8601 duration such as "P7D"'


class DurationError(ValueError):
    """A duration that cannot be read; the message says why."""


def parse_duration(text: str) -> datetime.timedelta:
    """*text* as a :class:`datetime.timedelta`; :class:`DurationError` when unreadable."""
    stripped = text.strip()
    if not stripped:
        raise DurationError(f"an empty string is not a duration: {HINT}")
    if len(stripped) > _MAX_TEXT:
        raise DurationError(f"{len(stripped)} characters is too long for a duration: {HINT}")
    seconds = _iso_seconds(stripped) if stripped[0] in "Pp" else _friendly_seconds(stripped)
    if seconds > _MAX_SECONDS:
        raise DurationError(f"{stripped!r} is longer than ten years")
    return datetime.timedelta(seconds=seconds)


def _iso_seconds(text: str) -> float:
    date_part = text[1:].upper().partition("T")[0]
    if "Y" in date_part or "M" in date_part:
        raise DurationError(
            f"{text!r} counts years or months, whose length depends on the calendar: "
            "use weeks or days (P30D)"
        )
    match = _ISO.fullmatch(text)
    if match is None or not any(match.groupdict().values()) or text.upper().endswith("T"):
        raise DurationError(f"{text!r} is not an ISO 8601 duration: {HINT}")
    parts = match.groupdict()
    return sum(
        float(parts[name] or 0) * scale
        for name, scale in (
            ("weeks", 7 * 86400),
            ("days", 86400),
            ("hours", 3600),
            ("minutes", 60),
            ("seconds", 1),
        )
    )


def _friendly_seconds(text: str) -> float:
    total = 0.0
    position = 0
    while position < len(text):
        match = _FRIENDLY_PART.match(text, position)
        if match is None:
            raise DurationError(f"{text!r} is not a duration: {HINT}")
        unit = match.group(2).lower()
        if unit == "m":
            raise DurationError(
                f"{text!r}: 'm' could mean minutes or months: write 'min' for minutes"
            )
        if unit not in _UNITS:
            if unit in {"y", "yr", "yrs", "year", "years", "mo", "month", "months"}:
                raise DurationError(
                    f"{text!r} counts years or months, whose length depends on the calendar: "
                    "use weeks or days (30d)"
                )
            raise DurationError(f"{text!r}: {match.group(2)!r} is not a unit of time: {HINT}")
        total += float(match.group(1)) * _UNITS[unit]
        position = match.end()
    return total


def describe(delta: datetime.timedelta) -> str:
    """A short, readable length of time, rounded down: ``7 days``, ``36 hours``,
    ``1 day`` (also for a day and a few minutes), ``5 minutes``."""
    seconds = int(delta.total_seconds())
    for unit, size, smaller in (("day", 86400, 3600), ("hour", 3600, 60), ("minute", 60, 1)):
        # Whole units from two up; a single one only when less than one of the next
        # smaller unit is left over (1 day, but 36 hours rather than 1 day).
        if seconds >= 2 * size or (seconds >= size and seconds % size < smaller):
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
