"""The ``roost`` command: a click group whose commands plugins can extend.

``-p`` and ``ROOST_DISABLE_PLUGIN_AUTOLOAD`` are read from argv and the environment
*before* any plugin loads, because the plugins decide which options exist. Then the
command line is read as pip reads it (:mod:`roost.cli.argv`): pip's general options
anywhere, long-option prefixes, short options run together; click parses the rest.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from roost import __version__

if TYPE_CHECKING:
    import click

    from roost.manager import Manager

#: Each command's factory, imported when the group is built. Command modules keep
#: their heavy imports inside the callback so ``roost --version`` stays fast.
COMMANDS = {
    "install": "roost.cli.commands.install:install_command",
    "sync": "roost.cli.commands.sync:sync_command",
    "uninstall": "roost.cli.commands.uninstall:uninstall_command",
    "list": "roost.cli.commands.list:list_command",
    "freeze": "roost.cli.commands.freeze:freeze_command",
    "show": "roost.cli.commands.show:show_command",
    "check": "roost.cli.commands.check:check_command",
    "download": "roost.cli.commands.download:download_command",
    "lock": "roost.cli.commands.lock:lock_command",
    "wheel": "roost.cli.commands.wheel:wheel_command",
    "cache": "roost.cli.commands.cache:cache_command",
    "config": "roost.cli.commands.config:config_command",
    "plugins": "roost.cli.commands.plugins:plugins_command",
    "completion": "roost.cli.commands.completion:completion_command",
    "inspect": "roost.cli.commands.inspect:inspect_command",
    "index": "roost.cli.commands.index:index_command",
    "hash": "roost.cli.commands.hash:hash_command",
    "debug": "roost.cli.commands.debug:debug_command",
    "help": "roost.cli.commands.help:help_command",
}


def load_commands() -> list[click.Command]:
    import importlib

    commands = []
    for spec in COMMANDS.values():
        module, _, factory = spec.partition(":")
        commands.append(getattr(importlib.import_module(module), factory)())
    return commands


def prescan(argv: Sequence[str]) -> tuple[list[str], int]:
    """Pull ``-p`` values and the ``-v`` count out of *argv* without parsing it fully."""
    plugins: list[str] = []
    verbose = 0
    args = iter(argv)
    for arg in args:
        if arg == "--":
            break
        if arg in ("-p", "--plugin"):
            value = next(args, None)
            if value is not None:
                plugins.append(value)
        elif arg.startswith("--plugin="):
            plugins.append(arg.split("=", 1)[1])
        elif arg.startswith("-p") and not arg.startswith("--"):
            plugins.append(arg[2:])
        elif arg == "--verbose":
            verbose += 1
        elif arg.startswith("-") and not arg.startswith("--") and set(arg[1:]) == {"v"}:
            verbose += len(arg) - 1
    return plugins, verbose


def plugin_commands(
    manager: Manager, builtin: Sequence[click.Command], warn: Callable[[str], None]
) -> tuple[list[click.Command], dict[str, tuple[str, ...]]]:
    """The commands plugins add (``roost_add_commands``), and their names by plugin.

    A built-in keeps its name, and the first plugin registered keeps a name two
    plugins want; each refused command is a warning naming both sides.
    """
    taken: dict[str, str | None] = {str(command.name): None for command in builtin}
    added: list[click.Command] = []
    owners: dict[str, tuple[str, ...]] = {}
    for plugin, command in manager.add_commands(warn):
        name = str(command.name)
        if name in taken:
            holder = taken[name]
            if holder is None:
                warn(
                    f"plugin {plugin!r} adds a command {name!r}, the name of a built-in "
                    f"command: the built-in {name!r} is kept, the plugin's is not added"
                )
            else:
                warn(
                    f"plugin {plugin!r} adds a command {name!r}, which plugin {holder!r} "
                    f"added first: the one of {holder!r} is kept, the one of {plugin!r} "
                    "is not added"
                )
            continue
        taken[name] = plugin
        added.append(command)
        owners[plugin] = (*owners.get(plugin, ()), name)
    return added, owners


def build_group(
    manager: Manager,
    default_python: str | None,
    warn: Callable[[str], None] | None = None,
    *,
    meta: dict[str, object] | None = None,
) -> click.Group:
    """The ``roost`` group with every command and every plugin's options.

    :param meta: put into the context's ``meta`` when the group runs (``main`` passes
        the run's general options there).
    """
    import click

    from roost.cli.commands.help import version_line
    from roost.cli.general_options import help_epilog
    from roost.util.output import Output

    @click.group(
        context_settings={"help_option_names": ["-h", "--help"]},
        epilog=help_epilog("roost"),
    )
    @click.version_option(
        __version__,
        "-V",
        "--version",
        prog_name="roost",
        message=version_line().replace("%", "%%"),
    )
    @click.option(
        "-p",
        "--plugin",
        "plugin_args",
        multiple=True,
        metavar="NAME",
        help="Load plugin module NAME, or block a plugin with no:NAME.",
    )
    @click.pass_context
    def group(ctx: click.Context, plugin_args: tuple[str, ...]) -> None:
        """roost: install Python packages, with plugins."""
        if not isinstance(ctx.obj, Output):
            ctx.obj = Output()
        ctx.meta.update(meta or {})
        ctx.meta["roost.manager"] = manager
        ctx.meta["roost.default_python"] = default_python
        ctx.meta["roost.plugin_commands"] = owners

    builtin = load_commands()
    added, owners = plugin_commands(manager, builtin, warn or Output().warning)
    for command in [*builtin, *added]:
        assert command.name is not None
        command.params.extend(manager.add_options(command.name))
        _add_epilog(command, help_epilog(command.name))
        group.add_command(command)
    return group


def _add_epilog(command: click.Command, text: str) -> None:
    """End the --help of *command* (and of its subcommands) with *text*."""
    import click

    command.epilog = f"{command.epilog}\n\n{text}" if command.epilog else text
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_epilog(sub, text)


def main(
    argv: Sequence[str] | None = None,
    *,
    prog_name: str = "roost",
    default_python: str | None = None,
) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-V"]):
        # Plugins cannot change the version: answer before importing any of them.
        from roost.cli.commands.help import version_line

        sys.stdout.write(version_line() + "\n")
        return 0
    import click

    from roost.cli.argv import normalize
    from roost.cli.general_run import GeneralRun, start
    from roost.errors import RoostError
    from roost.manager import Manager
    from roost.util.output import Output

    plugin_args, verbose = prescan(args)
    out = Output(verbose=verbose)
    run: GeneralRun | None = None
    try:
        manager = Manager.build(
            plugin_args=plugin_args,
            autoload=not os.environ.get("ROOST_DISABLE_PLUGIN_AUTOLOAD"),
            warn=out.warning,
        )
        meta: dict[str, object] = {}
        group = build_group(manager, default_python, out.warning, meta=meta)
        command_line = normalize(args, group)
        run = meta["roost.general"] = start(
            command_line.command, command_line.general, manager, out
        )
        # Without standalone mode click returns the code a command exits with
        # (ctx.exit(n)); pass it on.
        code = group.main(command_line.args, prog_name=prog_name, standalone_mode=False, obj=out)
        if isinstance(code, int):
            return code
    except RoostError as exc:
        if out.verbose:
            import traceback  # only here: 3 ms of every start-up otherwise

            traceback.print_exc()
        out.error(exc.format_message())
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        out.error("aborted")
        return 1
    except click.ClickException as exc:
        # click's usage errors quote what was typed: escaped like every other message.
        import io

        from roost.util.output import escape_controls

        shown = io.StringIO()
        exc.show(file=shown)
        click.echo(escape_controls(shown.getvalue()), err=True, nl=False)
        return exc.exit_code
    except KeyboardInterrupt:
        out.error("interrupted")
        return 130
    finally:
        if run is not None:
            run.finish()
    return 0
