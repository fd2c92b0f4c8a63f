"""Read a command line as pip's parser would, before click parses it.

click knows each command's own options; pip also accepts, on every command and on
either side of its name, the general options (:mod:`roost.cli.general_options`),
any unambiguous prefix of a long option (optparse's rule), short options run
together (``-qr FILE``, ``-Uq``, ``-vvv``) and a few other spellings of command
options (``-t`` for ``--target``). :func:`normalize` takes the general options out
of the command line, puts every option a command defines itself after that
command's name, and writes out prefixes and pip's spellings in full, so that click
sees only what it knows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import click

from roost.cli.general_options import BY_NAME, PIP_SPELLINGS, GeneralOption

HELP_NAMES = ("-h", "--help")


@dataclass(frozen=True)
class Found:
    """A general option taken out of the command line."""

    option: GeneralOption
    #: Its value; None for a switch or a count.
    value: str | None
    #: As typed (a prefix, an alias), for messages.
    spelling: str


@dataclass
class Normalized:
    """The command line for click, and the general options taken out of it."""

    args: list[str]
    #: The command path (``["cache", "dir"]``); empty when no command was named.
    path: list[str] = field(default_factory=list)
    general: list[Found] = field(default_factory=list)

    @property
    def command(self) -> str | None:
        return self.path[0] if self.path else None


class _Known:
    """The options one click command defines: whether each name takes a value."""

    def __init__(self, commands: Iterable[click.Command]) -> None:
        #: name -> "flag", "value" or "optional" (click's flag_value options).
        self.kinds: dict[str, str] = {name: "flag" for name in HELP_NAMES}
        #: name -> what it means: two names of one option mean the same thing
        #: (``--no-cache``/``--no-cache-dir``), a ``--no-x`` of ``--x/--no-x`` does not.
        self.meaning: dict[str, str] = {name: "--help" for name in HELP_NAMES}
        for command in commands:
            for param in command.params:
                if not isinstance(param, click.Option):
                    continue
                if param.is_flag or param.count:
                    kind = "flag"
                elif getattr(param, "_flag_needs_value", False):
                    kind = "optional"
                else:
                    kind = "value"
                for names in (param.opts, param.secondary_opts):
                    for name in names:
                        self.kinds.setdefault(name, kind)
                        self.meaning.setdefault(name, names[0])

    def __contains__(self, name: str) -> bool:
        return name in self.kinds


def _ambiguous(typed: str, names: Sequence[str]) -> click.UsageError:
    listed = ", ".join(sorted(names))
    return click.UsageError(f"option {typed} is ambiguous: it could be any of {listed}")


def _resolve_long(
    typed: str, own: _Known, general: Mapping[str, GeneralOption], spellings: Mapping[str, str]
) -> str | None:
    """The full name *typed* stands for (itself, or the one option it is a prefix of)."""
    if typed in own or typed in general or typed in spellings:
        return typed
    meanings: dict[str, str] = {}
    for name in own.kinds:
        if name.startswith(typed) and name.startswith("--"):
            meanings.setdefault(own.meaning[name], name)
    for name, option in general.items():
        if name.startswith(typed) and name.startswith("--") and name not in own:
            meanings.setdefault(option.names[0], option.names[0])
    for name, target in spellings.items():
        if name.startswith(typed) and name.startswith("--") and target in own:
            meanings.setdefault(own.meaning[target], target)
    if len(meanings) > 1:
        raise _ambiguous(typed, list(meanings.values()))
    return next(iter(meanings.values()), None)


class _Reader:
    """Walk one command's part of the command line."""

    def __init__(
        self,
        own: _Known,
        general: Mapping[str, GeneralOption],
        spellings: Mapping[str, str],
        stay: _Known | None = None,
    ) -> None:
        self.own = own
        self.general = general
        self.spellings = spellings
        #: The options that stay where they are (a group's own, before its subcommand).
        self.stay = stay
        self.kept: list[str] = []
        self.stayed: list[str] = []
        self.found: list[Found] = []

    def _take_value(self, tokens: list[str], name: str, attached: str | None) -> str:
        if attached is not None:
            return attached
        if not tokens:
            raise click.UsageError(f"option {name} requires an argument")
        return tokens.pop(0)

    def _own(self, tokens: list[str], name: str, attached: str | None) -> None:
        kind = self.own.kinds[name]
        into = self.stayed if self.stay is not None and name in self.stay else self.kept
        if attached is not None:
            into.append(f"{name}={attached}")
        elif tokens and (
            kind == "value" or (kind == "optional" and not tokens[0].startswith("-"))
        ):
            into += [name, tokens.pop(0)]
        else:
            into.append(name)

    def _general(self, tokens: list[str], name: str, typed: str, attached: str | None) -> None:
        option = self.general[name]
        if option.value in (None, "count"):
            if attached is not None:
                raise click.UsageError(f"option {name} does not take a value")
            self.found.append(Found(option, None, typed))
        else:
            self.found.append(Found(option, self._take_value(tokens, name, attached), typed))

    def long(self, tokens: list[str], token: str) -> None:
        typed, eq, rest = token.partition("=")
        attached = rest if eq else None
        name = _resolve_long(typed, self.own, self.general, self.spellings)
        if name is None:
            self.kept.append(token)  # click says it does not know it
            return
        spelled = self.spellings.get(name)
        if name not in self.own and spelled is not None and spelled in self.own:
            name = spelled
        if name in self.own:
            self._own(tokens, name, attached)
            return
        if name not in self.general:  # pip's spelling of an option roost lacks
            self.kept.append(token)
            return
        # pip's other name of an option the command has (``--default-timeout``).
        same = next((n for n in self.general[name].names if n in self.own), None)
        if same is not None:
            self._own(tokens, same, attached)
        else:
            self._general(tokens, name, typed, attached)

    def short(self, tokens: list[str], token: str) -> None:
        """``-qr FILE``: each letter an option; one taking a value takes the rest."""
        cluster = ""
        letters = token[1:]
        while letters:
            name, letters = f"-{letters[0]}", letters[1:]
            target = name if name in self.own else self.spellings.get(name)
            if target is not None and target in self.own:
                if self.own.kinds[target] == "flag":
                    if target == name:
                        cluster += name[1]
                    else:
                        self.kept.append(target)
                    continue
                if cluster:
                    self.kept.append(f"-{cluster}")
                    cluster = ""
                value = letters or self._take_value(tokens, name, None)
                self.kept += [target, value]
                return
            if name in self.general:
                option = self.general[name]
                if option.value not in (None, "count"):  # no general short option does
                    raise click.UsageError(f"option {name} requires an argument")
                self.found.append(Found(option, None, name))
                continue
            cluster += name[1] + letters  # unknown: click names it
            break
        if cluster:
            self.kept.append(f"-{cluster}")

    def read(
        self, tokens: list[str], *, stop_at: Mapping[str, click.Command] | None
    ) -> str | None:
        """Read options off *tokens*; return the subcommand name met (groups only)."""
        while tokens:
            token = tokens.pop(0)
            if token == "--":
                self.kept += [token, *tokens]
                tokens.clear()
            elif token.startswith("--"):
                self.long(tokens, token)
            elif token.startswith("-") and len(token) > 1:
                self.short(tokens, token)
            elif stop_at is not None:
                if token in stop_at:
                    return token
                self.kept += [token, *tokens]  # click says there is no such command
                tokens.clear()
            else:
                self.kept.append(token)
        return None


def _general_for(command: str | None) -> dict[str, GeneralOption]:
    return {
        name: option
        for name, option in BY_NAME.items()
        if command is None or option.applies_to(command)
    }


def normalize(args: Sequence[str], group: click.Group) -> Normalized:
    """*args* with the general options taken out and everything else where click wants it.

    :raises click.UsageError: an ambiguous prefix, or a general option without its value.
    """
    tokens = list(args)
    top = _Reader(_Known([group]), _general_for(None), {})
    name = top.read(tokens, stop_at=group.commands)
    if name is None:
        return Normalized(top.kept, [], list(top.found))
    head, path, pending, deferred = [*top.kept, name], [name], list(top.found), []
    general = _general_for(name)
    spellings = PIP_SPELLINGS.get(name, {})
    command: click.Command = group.commands[name]
    while isinstance(command, click.Group):
        # Between a group and its subcommand (``cache -q dir``): the group's own
        # options stay there; the subcommands' move after the subcommand's name.
        known = _Known([command, *command.commands.values()])
        reader = _Reader(known, general, spellings, stay=_Known([command]))
        sub = reader.read(tokens, stop_at=command.commands)
        head += reader.stayed
        deferred += reader.kept
        pending += reader.found
        if sub is None:
            return Normalized([*head, *deferred], path, pending)
        head.append(sub)
        path.append(sub)
        command = command.commands[sub]
    own = _Known([command])
    leaf = _Reader(own, general, spellings)
    moved: list[str] = []
    for found in pending:
        # A general option typed before the name, which this command defines itself
        # (``--python X install``): handed to the command.
        own_name = next((n for n in found.option.names if n in own), None)
        if own_name is None:
            leaf.found.append(found)
        else:
            moved += [own_name] if found.value is None else [own_name, found.value]
    leaf.read(tokens, stop_at=None)
    return Normalized([*head, *moved, *deferred, *leaf.kept], path, leaf.found)
