"""The readers behind the rules, on their own: durations, SPDX expressions, and the
licence a METADATA file declares (the end-to-end tests show them through roost)."""

from __future__ import annotations

import datetime

import pytest
from roost_policy.durations import DurationError, describe, parse_duration
from roost_policy.licenses import declared_license
from roost_policy.spdx import ExpressionError, canonical, evaluate, single_term

DAY = datetime.timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", 7 * DAY),
        ("P7D", 7 * DAY),
        ("p7d", 7 * DAY),
        ("P1W", 7 * DAY),
        ("PT36H", 1.5 * DAY),
        ("P1DT12H", 1.5 * DAY),
        ("PT90M", datetime.timedelta(minutes=90)),
        ("1w 2d", 9 * DAY),
        ("1 week, 2 days", 9 * DAY),
        ("7 days", 7 * DAY),
        (" 36h ", 1.5 * DAY),
        ("90 min", datetime.timedelta(minutes=90)),
        ("1.5d", 1.5 * DAY),
    ],
)
def test_durations_read_as_uv_and_iso_8601_write_them(
    text: str, expected: datetime.timedelta
) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("7", "is not a duration"),
        ("7 dayz", "'dayz' is not a unit of time"),
        ("3m", "minutes or months"),
        ("2 months", "years or months"),
        ("P1M", "years or months"),
        ("P1Y2D", "years or months"),
        ("P", "not an ISO 8601 duration"),
        ("P7DT", "not an ISO 8601 duration"),
        ("20000d", "longer than ten years"),
        ("1d" * 60, "too long"),
    ],
)
def test_unreadable_durations_say_why(text: str, message: str) -> None:
    with pytest.raises(DurationError, match=message):
        parse_duration(text)


def test_ages_are_described_in_whole_units() -> None:
    assert describe(7 * DAY) == "7 days"
    assert describe(DAY + datetime.timedelta(minutes=5)) == "1 day"
    assert describe(1.5 * DAY) == "36 hours"
    assert describe(datetime.timedelta(minutes=1)) == "1 minute"
    assert describe(datetime.timedelta(seconds=30)) == "30 seconds"


ALLOWED = ("MIT", "BSD-3-Clause", "Apache-2.0")


@pytest.mark.parametrize(
    ("expression", "allowed", "refused"),
    [
        ("MIT", True, ()),
        ("mit", True, ()),
        ("GPL-3.0-only", False, ("GPL-3.0-only",)),
        ("MIT OR GPL-3.0-only", True, ()),
        ("MIT AND GPL-3.0-only", False, ("GPL-3.0-only",)),
        ("GPL-2.0-only OR GPL-3.0-only", False, ("GPL-2.0-only", "GPL-3.0-only")),
        # AND binds tighter than OR.
        ("MIT OR Apache-2.0 AND GPL-3.0-only", True, ()),
        ("(MIT OR Apache-2.0) AND GPL-3.0-only", False, ("GPL-3.0-only",)),
        ("Apache-2.0 WITH LLVM-exception", True, ()),
        ("GPL-2.0-only WITH Classpath-exception-2.0", False,
         ("GPL-2.0-only WITH Classpath-exception-2.0",)),
    ],
)  # fmt: skip
def test_or_needs_one_allowed_alternative_and_and_needs_every_part(
    expression: str, allowed: bool, refused: tuple[str, ...]
) -> None:
    verdict = evaluate(canonical(expression), ALLOWED)
    assert (verdict.allowed, verdict.refused) == (allowed, refused)


def test_a_listed_pair_with_an_exception_allows_just_that_pair() -> None:
    allowed = (single_term("GPL-2.0-only WITH Classpath-exception-2.0"),)
    assert evaluate("GPL-2.0-only WITH Classpath-exception-2.0", allowed).allowed
    assert not evaluate("GPL-2.0-only", allowed).allowed


@pytest.mark.parametrize("text", ["BSD", "MIT OR", "(MIT", "MIT AND AND BSD-3-Clause", "x" * 2000])
def test_what_is_no_spdx_expression_is_refused(text: str) -> None:
    with pytest.raises(ExpressionError):
        canonical(text)


def test_deep_brackets_are_bounded() -> None:
    deep = "(" * 30 + "MIT" + ")" * 30
    with pytest.raises(ExpressionError, match="nested deeper"):
        evaluate(canonical(deep), ALLOWED)


def metadata(*fields: str) -> str:
    return "Metadata-Version: 2.4\nName: demo\nVersion: 1.0\n" + "".join(
        f"{field}\n" for field in fields
    )


@pytest.mark.parametrize(
    ("fields", "expression", "source"),
    [
        # License-Expression first, even when the older fields say otherwise.
        (("License-Expression: mit OR apache-2.0", "License: GPL"), "MIT OR Apache-2.0",
         "License-Expression"),
        (("License: MIT License",), "MIT", "License"),
        (("License: Apache License, Version 2.0",), "Apache-2.0", "License"),
        (("License: BSD-3-Clause",), "BSD-3-Clause", "License"),
        (("License: UNKNOWN", "Classifier: License :: OSI Approved :: MIT License"), "MIT",
         "classifiers"),
        # Several classifiers are a choice between them.
        (("Classifier: License :: OSI Approved :: MIT License",
          "Classifier: License :: OSI Approved :: Apache Software License"),
         "MIT OR Apache-2.0", "classifiers"),
        (("Classifier: License :: OSI Approved",
          "Classifier: License :: OSI Approved :: ISC License (ISCL)"), "ISC", "classifiers"),
    ],
)  # fmt: skip
def test_the_declared_licence_is_read_in_order(
    fields: tuple[str, ...], expression: str, source: str
) -> None:
    declared = declared_license(metadata(*fields))
    assert (declared.expression, declared.source, declared.problem) == (expression, source, "")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ((), "no License-Expression, License or License classifier"),
        (("License-Expression: MIT OR",), "License-Expression 'MIT OR' is not a valid SPDX"),
        (("License: BSD",), "License 'BSD' names no SPDX licence"),
        (("License: Permission is hereby granted,\n  free of charge, to any person",),
         "License 'Permission is hereby granted, free of charge, to any person' names"),
        (("Classifier: License :: OSI Approved :: BSD License",),
         "the classifier 'License :: OSI Approved :: BSD License' names no single"),
    ],
)  # fmt: skip
def test_what_names_no_licence_is_unknown_with_a_reason(
    fields: tuple[str, ...], problem: str
) -> None:
    declared = declared_license(metadata(*fields))
    assert declared.expression is None
    assert problem in declared.problem
