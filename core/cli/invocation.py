"""Turn click's context into the typed :class:`~roost.flows.invocation.Invocation` flows take."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from roost.cli.options import apply_setting_defaults, explicit_values
from roost.flows.invocation import CommandLineValue, Invocation
from roost.util.output import Output

if TYPE_CHECKING:
    from roost.types import Settings


def invocation(ctx: click.Context, command: str) -> Invocation:
    """The invocation of *command* as the user typed it (read once, here).

    The general options typed (``--no-input``, ``--exists-action``, ...) join the
    command's own in the settings' command-line layer; ``--require-virtualenv`` is
    checked here, before the command does anything.
    """
    from roost.cli.general_run import GeneralRun

    run = ctx.meta.get("roost.general")
    general: dict[str, CommandLineValue] = {}
    verbosity = 0
    if isinstance(run, GeneralRun):
        general.update(run.cli)
        verbosity = run.verbosity

    def params_for(settings: Settings) -> dict[str, Any]:
        # "verbosity" (pip's: -v count minus -q count) lets plugins, which see these
        # values as their Options, follow -q and -v (pip's --progress-bar auto).
        return {"verbosity": verbosity, **apply_setting_defaults(ctx, settings)}

    made = Invocation(
        command=command,
        manager=ctx.meta["roost.manager"],
        out=ctx.find_object(Output) or Output(),
        command_line={**general, **explicit_values(ctx)},
        params_for=params_for,
        on_close=functools.partial(_call_on_close, ctx),
        default_python=ctx.meta.get("roost.default_python"),
    )
    if isinstance(run, GeneralRun) and run.require_virtualenv:
        _require_virtualenv(made)
    return made


def _require_virtualenv(made: Invocation) -> None:
    """pip's --require-virtualenv, for the commands pip checks it on: roost's target
    interpreter (not roost's own) must be a virtual environment."""
    from roost.cli.general_options import REQUIRE_VENV_COMMANDS
    from roost.cli.general_run import require_virtualenv_error
    from roost.flows.environment import load_target

    if made.command not in REQUIRE_VENV_COMMANDS:
        return
    settings = made.settings()
    target = load_target(made, made.params_for(settings), settings)
    if not target.is_venv:
        raise require_virtualenv_error(target.executable)


def _call_on_close(ctx: click.Context, callback: Callable[[], None]) -> None:
    ctx.call_on_close(callback)
