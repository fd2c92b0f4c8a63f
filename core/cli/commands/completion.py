"""``roost completion SHELL``: the shell completion script, from click."""

from __future__ import annotations

import click


def completion_command() -> click.Command:
    @click.command("completion")
    @click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
    @click.pass_context
    def completion(ctx: click.Context, shell: str) -> None:
        """Print the completion script for SHELL.

        \b
        bash:  eval "$(roost completion bash)"      (in ~/.bashrc)
        zsh:   eval "$(roost completion zsh)"       (in ~/.zshrc)
        fish:  roost completion fish > ~/.config/fish/completions/roost.fish
        """
        from click.shell_completion import get_completion_class

        cls = get_completion_class(shell)
        assert cls is not None  # click ships all three
        root = ctx.find_root().command
        click.echo(cls(root, {}, "roost", "_ROOST_COMPLETE").source())

    return completion
