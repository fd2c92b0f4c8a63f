"""``roost check``: installed distributions whose requirements are missing or conflict.

The logic is :mod:`roost.flows.check`'s, shared with the warning after an install.
"""

from __future__ import annotations

from typing import Any

import click

from roost.cli.options import python_option


def check_command() -> click.Command:
    @click.command("check")
    @python_option
    @click.pass_context
    def check(ctx: click.Context, /, **_: Any) -> None:
        """Check that every installed distribution has compatible dependencies."""
        from roost.cli.invocation import invocation
        from roost.flows.check import find_problems
        from roost.flows.environment import distributions, exit_quietly, load_context

        context = load_context(invocation(ctx, "check"))
        problems = find_problems(distributions(context.target, skip=()), context.target)
        for problem in problems:
            click.echo(problem.message)
        if problems:
            exit_quietly(1)
        click.echo("No broken requirements found.")

    return check
