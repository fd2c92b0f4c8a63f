"""``roost uninstall``: remove distributions by their RECORD, all or nothing (the steps
are :mod:`roost.flows.uninstall`)."""

from __future__ import annotations

from typing import Any

import click

from roost.cli.options import python_option, requirement_file_options


def uninstall_command() -> click.Command:
    @click.command("uninstall")
    @click.argument("names", nargs=-1)
    @requirement_file_options(
        "Uninstall every project named in FILE (repeatable).", constraints=False
    )
    @click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
    @python_option
    @click.pass_context
    def uninstall(ctx: click.Context, /, **_: Any) -> None:
        """Uninstall distributions from the target environment."""
        from roost.cli.invocation import invocation
        from roost.flows.uninstall import run_uninstall

        run_uninstall(invocation(ctx, "uninstall"))

    return uninstall
