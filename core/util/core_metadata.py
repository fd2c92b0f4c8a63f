"""Reading core metadata (``METADATA``, PEP 566/643 fields) quickly."""

from __future__ import annotations

import functools

from packaging.requirements import Requirement


def header_fields(text: str) -> dict[str, list[str]]:
    """The header fields of a core metadata text, by lower-cased name, values in order.

    The resolver reads three fields of a hundred files; the email parser took as long
    as the rest of reading them. Same header block (up to the first empty line), with
    folded lines joined by a space; the body (a description) is not read.
    """
    fields: dict[str, list[str]] = {}
    values: list[str] | None = None
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if not line:
            break
        if line[0] in " \t":
            if values:
                values[-1] = f"{values[-1]} {line.strip()}"
            continue
        name, sep, value = line.partition(":")
        if not sep:
            break  # not a header: the email parser starts the body here too
        values = fields.setdefault(name.strip().lower(), [])
        values.append(value.strip())
    return fields


def first_field(fields: dict[str, list[str]], name: str) -> str:
    """The first value of the field *name* (lower-cased) in *fields*
    (:func:`header_fields`), or ``""`` when it is absent."""
    values = fields.get(name)
    return values[0] if values else ""


@functools.lru_cache(maxsize=4096)
def requirement(text: str) -> Requirement:
    """``Requirement(text)``, parsed once per run: many projects share requirement
    strings, and packaging's parser is slow. Callers must not change the result."""
    return Requirement(text)
