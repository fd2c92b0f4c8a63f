"""Messages on stderr, in roost's style and at its verbosity (``-v``, ``-q``)."""

from __future__ import annotations

import re

import click

# Control characters but newline and tab: paths and URLs come from users and metadata.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escaped(text: str) -> str:
    return _CONTROL.sub(lambda match: repr(match.group(0))[1:-1], text)


def _count(name: str) -> int:
    """How often roost's ``-v`` or ``-q`` was given in this run.

    roost tells plugins nothing of its verbosity: its output object (the click
    context's ``obj``) knows, and older roosts also kept the counts as the group's
    parameters.
    """
    context = click.get_current_context(silent=True)
    if context is None:
        return 0
    value = getattr(context.obj, name, None)
    if not isinstance(value, int):
        value = context.find_root().params.get(name)
    return value if isinstance(value, int) else 0


def warn(message: str) -> None:
    """``WARNING: ...``, as roost prints its own (``-qq`` silences it)."""
    if _count("quiet") < 2:
        click.echo(f"WARNING: {_escaped(message)}", err=True)


def detail(message: str) -> None:
    """A line shown with ``-v`` only."""
    if _count("verbose") > 0:
        click.echo(_escaped(message), err=True)
