"""``roost help [COMMAND [SUBCOMMAND]]`` and the ``-V``/``--version`` line.

``version_line`` imports nothing beyond the standard library: ``roost --version`` is
answered before click or any plugin loads, and it must stay that cheap.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click


def version_line() -> str:
    """``roost X from PATH (python Y.Z)``: the shape of pip's ``-V``, naming roost's
    package folder and the Python running roost (not the target)."""
    import roost
    from roost.version import __version__

    location = os.path.dirname(os.path.abspath(roost.__file__))
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return f"roost {__version__} from {location} (python {python})"


def help_command() -> click.Command:
    import click

    @click.command("help")
    @click.argument("names", nargs=-1, metavar="[COMMAND [SUBCOMMAND]]")
    @click.pass_context
    def help_(ctx: click.Context, names: tuple[str, ...]) -> None:
        """Show the help of COMMAND (or of roost itself)."""
        import difflib

        from roost.errors import RoostError

        parent = ctx.find_root()
        command: click.Command = parent.command
        context = parent
        for name in names:
            if not isinstance(command, click.Group):
                raise RoostError(f"{context.command_path} has no subcommands (asked: {name!r})")
            found = command.get_command(context, name)
            if found is None:
                known = command.list_commands(context)
                guess = difflib.get_close_matches(name, known, n=1)
                hint = f" - maybe you meant {guess[0]!r}" if guess else ""
                raise RoostError(f"unknown command {name!r}{hint}")
            context = click.Context(found, info_name=name, parent=context)
            command = found
        click.echo(command.get_help(context))

    return help_
