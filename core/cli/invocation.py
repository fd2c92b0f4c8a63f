"""Turn click's context into the typed :class:`~roost.flows.invocation.Invocation` flows take."""

from __future__ import annotations

import functools
from collections.abc import Callable

import click

from roost.cli.options import apply_setting_defaults, explicit_values
from roost.flows.invocation import Invocation
from roost.util.output import Output


def invocation(ctx: click.Context, command: str) -> Invocation:
    """The invocation of *command* as the user typed it (read once, here)."""
    return Invocation(
        command=command,
        manager=ctx.meta["roost.manager"],
        out=ctx.find_object(Output) or Output(),
        command_line=explicit_values(ctx),
        params_for=lambda settings: apply_setting_defaults(ctx, settings),
        on_close=functools.partial(_call_on_close, ctx),
        default_python=ctx.meta.get("roost.default_python"),
    )


def _call_on_close(ctx: click.Context, callback: Callable[[], None]) -> None:
    ctx.call_on_close(callback)
