"""``roost completion``: the shell completion script (bash, zsh, fish from click; PowerShell
from roost), chosen as ``roost completion bash`` or with pip's ``--bash``/``-b`` spellings.

Every script asks roost itself for the completions of the line being typed, through
click's protocol: ``_ROOST_COMPLETE=<shell>_complete`` in the environment, the words
so far in ``COMP_WORDS`` and the cursor's word in ``COMP_CWORD``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

SHELLS = ("bash", "zsh", "fish", "powershell")

# Registered with PowerShell for the roost command: it sends the line up to the cursor
# and turns each answer line into a completion result.
_POWERSHELL_SOURCE = """\
Register-ArgumentCompleter -Native -CommandName %(prog_name)s -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $line = $commandAst.ToString()
    if ($cursorPosition -lt $line.Length) { $line = $line.Substring(0, $cursorPosition) }
    $words = @($line -split '\\s+' | Where-Object { $_ -ne '' })
    $cword = $words.Count - 1
    if ($line -match '\\s$') { $cword = $words.Count }
    $env:COMP_WORDS = $line
    $env:COMP_CWORD = "$cword"
    $env:%(complete_var)s = 'powershell_complete'
    try {
        $answers = @(& %(prog_name)s 2>$null)
    } finally {
        Remove-Item Env:COMP_WORDS, Env:COMP_CWORD, Env:%(complete_var)s `
            -ErrorAction SilentlyContinue
    }
    foreach ($answer in $answers) {
        [System.Management.Automation.CompletionResult]::new(
            $answer, $answer, 'ParameterValue', $answer)
    }
}
"""


def register_powershell() -> None:
    """Teach click the PowerShell protocol; only done when completion is in play, so
    other runs do not import click's completion module."""
    from click.shell_completion import ShellComplete, add_completion_class, split_arg_string

    class PowerShellComplete(ShellComplete):
        """Completion for PowerShell (click has bash, zsh and fish only)."""

        name = "powershell"
        source_template = _POWERSHELL_SOURCE

        def get_completion_args(self) -> tuple[list[str], str]:
            words = split_arg_string(os.environ.get("COMP_WORDS", ""))
            try:
                cword = int(os.environ.get("COMP_CWORD", ""))
            except ValueError:
                cword = len(words)
            incomplete = words[cword] if 0 <= cword < len(words) else ""
            return words[1:cword], incomplete

        def format_completion(self, item: CompletionItem[Any]) -> str:
            return str(item.value)

    add_completion_class(PowerShellComplete)


def completion_command() -> click.Command:
    if os.environ.get("_ROOST_COMPLETE"):  # the shell asks roost for completions
        register_powershell()

    @click.command("completion")
    @click.argument("shell", type=click.Choice(SHELLS), required=False)
    @click.option("-b", "--bash", "flag", flag_value="bash", help="The bash script.")
    @click.option("-z", "--zsh", "flag", flag_value="zsh", help="The zsh script.")
    @click.option("-f", "--fish", "flag", flag_value="fish", help="The fish script.")
    @click.option(
        "-p", "--powershell", "flag", flag_value="powershell", help="The PowerShell script."
    )
    @click.pass_context
    def completion(ctx: click.Context, shell: str | None, flag: str | None) -> None:
        """Print the completion script for SHELL (or --bash, --zsh, --fish, --powershell).

        \b
        bash:        eval "$(roost completion --bash)"      (in ~/.bashrc)
        zsh:         eval "$(roost completion --zsh)"       (in ~/.zshrc)
        fish:        roost completion --fish > ~/.config/fish/completions/roost.fish
        PowerShell:  roost completion --powershell | Out-String | Invoke-Expression
                     (in $PROFILE)
        """
        from click.shell_completion import get_completion_class

        from roost.errors import RoostError

        if shell and flag and shell != flag:
            raise click.UsageError(f"two shells given: {shell} and --{flag}")
        chosen = shell or flag
        if chosen is None:
            raise RoostError(
                "name a shell: --bash, --zsh, --fish or --powershell (or roost completion "
                "bash|zsh|fish|powershell)"
            )
        register_powershell()
        cls = get_completion_class(chosen)
        assert cls is not None  # click ships three, this module registers the fourth
        root = ctx.find_root().command
        click.echo(cls(root, {}, "roost", "_ROOST_COMPLETE").source())

    return completion
