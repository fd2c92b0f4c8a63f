"""Apply pip's general options to one run: output levels, log, isolation, refusals.

Values come from the command line (:func:`roost.cli.argv.normalize` took them out)
and, below it, from the settings (``PIP_QUIET=2``, ``quiet = 1`` in a config file),
read the way pip reads them. Options whose effect is process-wide are applied
here, before the command runs; the others reach the command through its settings
(the command line's values join the settings' command-line layer).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from roost.cli.argv import Found
from roost.cli.general_options import BY_KEY, GeneralOption
from roost.errors import RoostError

if TYPE_CHECKING:
    from roost.manager import Manager
    from roost.types import Settings
    from roost.util.output import Output

_TRUE = frozenset({"y", "yes", "t", "true", "on", "1"})
_FALSE = frozenset({"n", "no", "f", "false", "off", "0"})
#: What --no-proxy-env hides from roost and what it starts.
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")

#: The switches that change the run (the others reach the command through its settings).
_SWITCHES = ("debug", "require-virtualenv", "no-proxy-env")

CliValue = str | tuple[str, ...] | bool


class GeneralOptionError(RoostError):
    """A general option roost refuses, or a value it cannot read (pip exits 2 too)."""

    exit_code = 2


def parse_bool(text: str, what: str) -> bool:
    """pip's strtobool: yes/no, true/false, on/off, 1/0 (any case); else an error."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise GeneralOptionError(
        f"{text!r} is not a valid value for {what}: use a boolean such as yes/no, "
        "true/false or 1/0"
    )


def parse_count(text: str, what: str) -> int:
    """pip's rule for -v/-q from a variable or a file: a boolean, or a count >= 0."""
    value = text.strip().lower()
    if value in _TRUE or value in _FALSE:
        return int(value in _TRUE)
    if value.isdigit():
        return int(value)
    raise GeneralOptionError(
        f"{text!r} is not a valid value for {what}: use a count (0, 1, 2, ...) or a "
        "boolean such as yes/no, which counts as 1/0"
    )


def check_value(option: GeneralOption, value: str, where: str) -> str:
    """*value* checked as pip checks it, then against roost's refusals.

    :param where: how the user gave it, for messages (``--retries``,
        ``retries (set in pip environment (PIP_*))``).
    """
    if option.value == "int":
        try:
            int(value)
        except ValueError:
            raise GeneralOptionError(f"{where}: {value!r} is not a whole number") from None
    elif option.value == "float":
        try:
            float(value)
        except ValueError:
            raise GeneralOptionError(f"{where}: {value!r} is not a number") from None
    elif option.value == "choice" and value not in option.choices:
        raise GeneralOptionError(f"{where}: {value!r} is not one of {', '.join(option.choices)}")
    reason = option.refusal(value)
    if reason is not None:
        raise GeneralOptionError(f"{where} {value} is not supported: {reason}")
    return value


@dataclass
class GeneralRun:
    """The general options of one run, resolved."""

    command: str | None
    #: The command line's values by settings key, for the settings' top layer.
    cli: dict[str, CliValue] = field(default_factory=dict)
    verbose: int = 0
    quiet: int = 0
    isolated: bool = False
    require_virtualenv: bool = False
    #: pip's verbosity: -v count minus -q count (2 with --debug), settings included.
    verbosity: int = 0
    _undo: list[Callable[[], None]] = field(default_factory=list)

    def finish(self) -> None:
        """Undo what the run changed in the process (variables), newest first."""
        while self._undo:
            self._undo.pop()()


def from_command_line(command: str | None, found: Sequence[Found]) -> GeneralRun:
    """Check the general options typed, and count -v and -q."""
    run = GeneralRun(command)
    lists: dict[str, list[str]] = {}
    for each in found:
        option = each.option
        if option.value == "count":
            setattr(run, option.key, getattr(run, option.key) + 1)
        elif option.value is None:
            run.cli[option.key] = True
        else:
            value = check_value(option, each.value or "", each.spelling)
            if option.multiple:
                lists.setdefault(option.key, []).append(value)
            else:
                run.cli[option.key] = value
    run.cli.update((key, tuple(values)) for key, values in lists.items())
    run.isolated = bool(run.cli.get("isolated"))
    return run


def _setting(settings: Settings, key: str) -> tuple[str, str] | None:
    """A general option's value from below the command line, with where it was set."""
    found = settings.lookup(key)
    if found is None or found[1].name == "command line":
        return None
    value = found[0]
    return (value if isinstance(value, str) else " ".join(value)), found[1].name


def _from_settings(run: GeneralRun, settings: Settings) -> dict[str, bool]:
    """Counts and switches that the settings set (the command line adds to counts)."""
    switches: dict[str, bool] = {}
    for key in ("verbose", "quiet"):
        found = _setting(settings, key)
        if found is not None:
            count = parse_count(found[0], f"{key} (set in {found[1]})")
            setattr(run, key, getattr(run, key) + count)
    for key in _SWITCHES:
        if key in run.cli:
            switches[key] = True
            continue
        found = _setting(settings, key)
        if found is not None:
            switches[key] = parse_bool(found[0], f"{key} (set in {found[1]})")
    for key in ("keyring-provider", "exists-action", "use-deprecated", "use-feature"):
        found = _setting(settings, key)
        if found is not None and key not in run.cli:
            option = BY_KEY[key]
            values = found[0].split() if option.multiple else [found[0]]
            for value in values:
                check_value(option, value, f"{key} (set in {found[1]})")
    return switches


def _set_variables(run: GeneralRun, changes: Mapping[str, str | None]) -> None:
    saved = {name: os.environ.get(name) for name in changes}
    for name, value in changes.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

    def undo() -> None:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old

    run._undo.append(undo)


def start(
    command: str | None, found: Sequence[Found], manager: Manager, out: Output
) -> GeneralRun:
    """Resolve the general options of a run of *command* and apply the process-wide ones."""
    run = from_command_line(command, found)
    if run.isolated:
        from roost.util.settings import ISOLATED_MARKER

        _set_variables(run, {ISOLATED_MARKER: "1"})
    switches = {key: True for key in _SWITCHES if key in run.cli}
    log = run.cli.get("log")
    if command is not None:
        settings = _settings(command, run, manager)
        if settings is not None:
            switches.update(_from_settings(run, settings))
            if log is None:
                found_log = _setting(settings, "log")
                log = found_log[0] if found_log else None
            provider = run.cli.get("keyring-provider") or settings.get("keyring-provider")
            if provider == "disabled":
                manager.pm.set_blocked("keyring_auth")
    run.require_virtualenv = switches.get("require-virtualenv", False)
    if switches.get("no-proxy-env"):
        names = [n for v in _PROXY_VARIABLES for n in (v, v.upper()) if n in os.environ]
        _set_variables(run, dict.fromkeys(names))
    verbose = max(run.verbose, 2) if switches.get("debug") else run.verbose
    run.verbosity = verbose - run.quiet
    if isinstance(log, str) and log:
        out.open_log(log)
        run._undo.append(out.close_log)
    # pip's verbosity is -v minus -q: one of each cancels out.
    out.set_levels(verbose=max(verbose - run.quiet, 0), quiet=max(run.quiet - verbose, 0))
    return run


def _settings(command: str, run: GeneralRun, manager: Manager) -> Settings | None:
    """The command's settings; None when they cannot be read (the command says why,
    if it reads them: ``roost config edit`` must still work on a broken file)."""
    from roost.errors import ConfigError
    from roost.util.settings import build_settings

    try:
        return build_settings(command, dict(run.cli), manager)
    except ConfigError:
        return None


class NotInVirtualenv(RoostError):
    """--require-virtualenv, and the target is no virtual environment."""

    exit_code = 3  # pip's VIRTUALENV_NOT_FOUND


def require_virtualenv_error(python: str) -> NotInVirtualenv:
    return NotInVirtualenv(
        f"--require-virtualenv: the target interpreter {python} is not a virtual "
        "environment; activate one, or name one with --python"
    )
