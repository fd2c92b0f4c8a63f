"""SPDX licence expressions against a list of allowed licences.

``packaging.licenses`` checks an expression against the SPDX licence list and writes it
canonically (``mit or apache-2.0`` -> ``MIT OR Apache-2.0``); this module decides what
that expression allows. ``OR`` offers a choice, so one allowed alternative is enough;
``AND`` means every part applies, so every part must be allowed. ``X WITH E`` is
allowed when exactly that pair is listed, or ``X`` alone is (an exception only grants
more).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

#: Metadata fields are short; a longer "expression" is licence text, not an expression.
MAX_EXPRESSION = 1000
#: Nested brackets deeper than this are no licence anyone ships.
MAX_DEPTH = 20
_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


class ExpressionError(ValueError):
    """Not a valid SPDX licence expression."""


@dataclass(frozen=True)
class Verdict:
    """Whether an expression is allowed and, when not, the licences that stand in the way."""

    allowed: bool
    #: The terms (``GPL-3.0-only``, ``GPL-2.0-only WITH Classpath-exception-2.0``) that
    #: were not allowed where they mattered, in the order they appear.
    refused: tuple[str, ...] = ()


def canonical(expression: str) -> str:
    """*expression* as SPDX writes it; :class:`ExpressionError` when it is not one."""
    if len(expression) > MAX_EXPRESSION:
        raise ExpressionError(f"longer than {MAX_EXPRESSION} characters")
    try:
        return str(canonicalize_license_expression(expression))
    except InvalidLicenseExpression as exc:
        raise ExpressionError(str(exc)) from None


def single_term(expression: str) -> str:
    """*expression* canonical, when it names one licence (``X`` or ``X WITH E``):
    what an allowed list holds."""
    text = canonical(expression)
    words = _tokens(text)
    if len(words) == 1 or (len(words) == 3 and words[1] == "WITH"):
        return text
    raise ExpressionError("names more than one licence: list each one on its own")


def evaluate(expression: str, allowed: Collection[str]) -> Verdict:
    """Whether the canonical *expression* is allowed by the canonical terms *allowed*."""
    folded = {term.casefold() for term in allowed}
    parser = _Parser(_tokens(expression), folded)
    verdict = parser.expression(0)
    if parser.position != len(parser.tokens):
        raise ExpressionError(f"unexpected {parser.tokens[parser.position]!r}")
    return verdict


def _tokens(text: str) -> list[str]:
    return [match.group(1) for match in _TOKEN.finditer(text)]


def _merge(*groups: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(group))
    return tuple(seen)


class _Parser:
    """Recursive descent over canonical tokens: OR binds loosest, then AND, then WITH."""

    def __init__(self, tokens: list[str], allowed: set[str]) -> None:
        self.tokens = tokens
        self.allowed = allowed
        self.position = 0

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise ExpressionError("ends too early")
        self.position += 1
        return token

    def expression(self, depth: int) -> Verdict:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"nested deeper than {MAX_DEPTH} brackets")
        verdict = self._conjunction(depth)
        while self._peek() == "OR":
            self._take()
            other = self._conjunction(depth)
            if verdict.allowed or other.allowed:
                verdict = Verdict(True)
            else:
                verdict = Verdict(False, _merge(verdict.refused, other.refused))
        return verdict

    def _conjunction(self, depth: int) -> Verdict:
        verdict = self._term(depth)
        while self._peek() == "AND":
            self._take()
            other = self._term(depth)
            verdict = Verdict(
                verdict.allowed and other.allowed, _merge(verdict.refused, other.refused)
            )
        return verdict

    def _term(self, depth: int) -> Verdict:
        token = self._take()
        if token == "(":
            verdict = self.expression(depth + 1)
            if self._take() != ")":
                raise ExpressionError("a bracket is not closed")
            return verdict
        if token in {")", "AND", "OR", "WITH"}:
            raise ExpressionError(f"unexpected {token!r}")
        if self._peek() == "WITH":
            self._take()
            exception = self._take()
            pair = f"{token} WITH {exception}"
            ok = pair.casefold() in self.allowed or token.casefold() in self.allowed
            return Verdict(ok, () if ok else (pair,))
        ok = token.casefold() in self.allowed
        return Verdict(ok, () if ok else (token,))
