"""``roost plugins``: every plugin, where it comes from, and the hooks it implements."""

from __future__ import annotations

import click

from roost.manager import Manager


def plugins_command() -> click.Command:
    @click.command("plugins")
    @click.pass_context
    def plugins(ctx: click.Context) -> None:
        """List the loaded plugins."""
        manager: Manager = ctx.meta["roost.manager"]
        infos = manager.plugins()
        width = max((len(info.name) for info in infos), default=4)
        for info in infos:
            click.echo(f"{info.name:<{width}}  {info.origin}")
            for hook in info.hooks:
                click.echo(f"{'':<{width}}    {hook}")

    return plugins
