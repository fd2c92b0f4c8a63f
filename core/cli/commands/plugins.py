"""``roost plugins``: every plugin, where it comes from, the hooks it implements and the
commands it adds."""

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
        # Filled by the group: the commands each plugin added (refused ones are not).
        commands: dict[str, tuple[str, ...]] = ctx.meta.get("roost.plugin_commands", {})
        width = max((len(info.name) for info in infos), default=4)
        for info in infos:
            click.echo(f"{info.name:<{width}}  {info.origin}")
            for hook in info.hooks:
                click.echo(f"{'':<{width}}    {hook}")
            for command in commands.get(info.name, ()):
                click.echo(f"{'':<{width}}    command: {command}")

    return plugins
