"""What a command hands its flow: one typed invocation, made once from the command line.

Flows never see click's context: the command layer (:mod:`roost.cli.invocation`)
reads the command line once and passes down this object, whose callables apply
settings to the options the way the command line's types say.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from roost.manager import Manager
    from roost.types import Settings
    from roost.util.output import Output

#: A value as given on the command line, keyed by the option's long name.
CommandLineValue = str | tuple[str, ...] | bool | None


@dataclass(frozen=True)
class Invocation:
    """One run of one command: its plugins, what the user typed, and where output goes."""

    command: str
    manager: Manager
    out: Output
    #: Options given on the command line (not defaults), by long name, for settings.
    command_line: Mapping[str, CommandLineValue]
    #: Every option's value, with settings filling what the command line left out.
    params_for: Callable[[Settings], dict[str, Any]]
    #: Run a callable when the command ends, whatever the outcome.
    on_close: Callable[[Callable[[], None]], None]
    #: The interpreter ``python -m roost`` runs in (its own target), else None.
    default_python: str | None = None

    def settings(self) -> Settings:
        """roost's settings for this command: command line > ROOST_* > config > plugins."""
        from roost.util.settings import build_settings

        return build_settings(self.command, dict(self.command_line), self.manager)
