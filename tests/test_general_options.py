"""pip's general options on every command, in every position, with pip's meaning.

The matrix comes from pip 26.3's own option parsers (tests/data/pip_26_3_options.json,
written by tests/data/make_pip_options.py: CI has no pip 26.3). Each general option of
each pip command roost has is tried before and after the command name: roost reads it
as pip does, or refuses the value with the reason docs/commands.md gives. Then pip's
prefixes, short options run together, pip's spellings and the values refused. Real
runs of the options that change what roost does: tests/test_general_options_runs.py
(PIP_* variables: tests/test_pip_variables.py).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from roost.cli.argv import Normalized, normalize
from roost.cli.general_options import BY_NAME, GENERAL_OPTIONS
from roost.cli.general_run import GeneralOptionError, from_command_line
from roost.cli.main import build_group
from roost.cli.options import long_name
from roost.manager import Manager

DATA = json.loads((Path(__file__).parent / "data" / "pip_26_3_options.json").read_text())
PIP: dict[str, list[dict[str, Any]]] = DATA["commands"]
DOCS = Path(__file__).resolve().parent.parent / "docs" / "commands.md"
#: The subcommand tried for roost's command groups.
SUBCOMMAND = {"cache": "dir", "config": "list"}
#: Commands every roost must have (the matrix below skips none of them).
CORE = {"install", "uninstall", "list", "freeze", "show", "check", "download", "wheel"}


@pytest.fixture(scope="module")
def group() -> click.Group:
    return build_group(Manager.build(autoload=False, warn=lambda _: None), None)


def general_of(command: str) -> list[dict[str, Any]]:
    """pip's general options of *command* (and --root-user-action where pip has it)."""
    return [
        o
        for o in PIP[command]
        if o["group"] == "General Options" or "--root-user-action" in o["names"]
    ]


def parse(group: click.Group, argv: list[str]) -> tuple[Normalized, click.Context]:
    """Normalise *argv* as main() does and let click parse the command's part."""
    norm = normalize(argv, group)
    assert norm.args[: len(norm.path)] == norm.path, norm.args
    command: click.Command = group
    for name in norm.path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return norm, command.make_context(norm.path[-1], norm.args[len(norm.path) :])


def sample(option: dict[str, Any], tmp: Path) -> list[str]:
    """A value pip would accept for *option*; every choice for choice options."""
    names = option["names"]
    if not option["takes_value"]:
        return [""]
    if option["choices"]:
        return list(option["choices"])
    if any(n in names for n in ("--retries", "--resume-retries")):
        return ["3"]
    if "--timeout" in names:
        return ["7.5"]
    if "--python" in names:
        return [sys.executable]
    if "--proxy" in names:
        return ["http://127.0.0.1:9"]
    if "--trusted-host" in names:
        return ["127.0.0.1:9"]
    return [str(tmp / "file")]


def matrix() -> Iterator[Any]:
    for command in sorted(PIP):
        for option in general_of(command):
            if option["action"] == "help":
                continue
            for spelling in option["names"]:
                for where in ("before", "after"):
                    yield pytest.param(
                        (command, option, spelling, where), id=f"{command}-{spelling}-{where}"
                    )


def test_the_table_has_every_general_option_of_pip() -> None:
    pip_names = {n for c in PIP for o in general_of(c) for n in o["names"]} - {"-h", "--help"}
    assert pip_names == set(BY_NAME)
    # and the same commands as pip for the ones pip has on some commands only
    for option in GENERAL_OPTIONS:
        having = {c for c in PIP if any(option.names[0] in o["names"] for o in PIP[c])}
        assert having == (set(option.commands) if option.commands else set(PIP)), option


def test_the_matrix_covers_the_core_commands(group: click.Group) -> None:
    assert set(group.commands) >= CORE


@pytest.mark.parametrize("case", list(matrix()))
def test_general_option_in_every_position(
    group: click.Group, tmp_path: Path, case: tuple[str, dict[str, Any], str, str]
) -> None:
    command, option, spelling, where = case
    if command not in group.commands:
        return  # a pip command roost does not have (lock, search): nothing to accept
    path = [command, *([SUBCOMMAND[command]] if command in SUBCOMMAND else [])]
    entry = BY_NAME[spelling]
    for value in sample(option, tmp_path):
        given = [spelling, value] if value else [spelling]
        argv = [*given, *path] if where == "before" else [*path, *given]
        reason = entry.refusal(value) if value else None
        norm, ctx = parse(group, argv)
        if reason is not None:
            with pytest.raises(GeneralOptionError, match=re.escape(reason)):
                from_command_line(command, norm.general)
            continue
        run = from_command_line(command, norm.general)
        own = [p for p in ctx.command.params if set(getattr(p, "opts", [])) & set(entry.names)]
        if own:  # the command's own option (install --proxy): click has the value
            assert own[0].name is not None
            got = ctx.params[own[0].name]
            expected: Any = value or True
            if isinstance(got, tuple):
                assert value in got
            elif isinstance(got, float):
                assert got == float(value)
            else:
                assert str(got) == str(expected), (got, expected)
        elif entry.value == "count":
            assert getattr(run, entry.key) == 1
        elif entry.multiple:
            assert run.cli[entry.key] == (value,)
        else:
            assert run.cli[entry.key] == (value or True)


def test_every_refused_value_is_documented() -> None:
    text = DOCS.read_text()
    section = text.split("## General options", 1)[1].split("\n## ", 1)[0]
    for option in GENERAL_OPTIONS:
        assert f"`{option.names[0]}" in section, option.names[0]
        for alias in option.names[1:]:
            assert alias in section, alias
        for value, _ in option.refused:
            assert f"{option.names[0]} {value}" in section, (option.names[0], value)


def pip_prefix(name: str, names: list[str]) -> str:
    """The shortest prefix of *name* that pip (optparse) takes for it."""
    for end in range(3, len(name) + 1):
        if [n for n in names if n.startswith(name[:end])] == [name]:
            return name[:end]
    return name


def prefix_cases() -> Iterator[Any]:
    for command in sorted(PIP):
        names = [n for o in PIP[command] for n in o["names"] if n.startswith("--")]
        for option in PIP[command]:
            for name in option["names"]:
                if name.startswith("--") and name != "--help":
                    yield pytest.param(
                        command, name, option["takes_value"], names, id=f"{command}-{name}"
                    )


@pytest.mark.parametrize(("command", "name", "takes_value", "names"), list(prefix_cases()))
def test_pip_prefixes(
    group: click.Group, command: str, name: str, takes_value: bool, names: list[str]
) -> None:
    """Every prefix pip accepts means what the full name means; when roost's own extra
    options make it ambiguous, the error lists them."""
    if command not in group.commands or command in SUBCOMMAND:
        return
    value = ["v"] if takes_value else []
    full = normalize([command, name, *value], group)
    if full.args == [command, name, *value] and not full.general:
        known = {n for p in group.commands[command].params for n in getattr(p, "opts", [])}
        if name not in known:
            return  # an option roost's command does not have: click refuses it, as it says
    prefix = pip_prefix(name, names)
    try:
        short = normalize([command, prefix, *value], group)
    except click.UsageError as exc:
        listed = re.findall(r"--[\w-]+", str(exc))[1:]
        assert set(listed) - set(names), f"{prefix}: ambiguous only among pip's names: {exc}"
        return
    assert short.args == full.args
    assert [f.option for f in short.general] == [f.option for f in full.general]


@pytest.mark.parametrize(
    ("argv", "expected", "counts"),
    [
        (["install", "-qr", "reqs.txt"], ["install", "-r", "reqs.txt"], (0, 1)),
        (["install", "-Uq", "six"], ["install", "-U", "six"], (0, 1)),
        (["install", "-qqUr", "r.txt"], ["install", "-U", "-r", "r.txt"], (0, 2)),
        (["-vvv", "check"], ["check"], (3, 0)),
        (["uninstall", "-yq", "six"], ["uninstall", "-y", "six"], (0, 1)),
        (["uninstall", "-y", "-q", "six"], ["uninstall", "-y", "six"], (0, 1)),
        (["-q", "install", "-q", "-v", "x"], ["install", "x"], (1, 2)),
        (["install", "-rreqs.txt"], ["install", "-r", "reqs.txt"], (0, 0)),
        (["install", "-t", "out", "x"], ["install", "-t", "out", "x"], (0, 0)),
        (["install", "--no-dependencies", "x"], ["install", "--no-dependencies", "x"], (0, 0)),
        (["download", "--destination-dir", "d"], ["download", "--destination-dir", "d"], (0, 0)),
        (
            ["install", "--upgrade-strat", "eager"],
            ["install", "--upgrade-strategy", "eager"],
            (0, 0),
        ),
        (["--python", "py", "install"], ["install", "--python", "py"], (0, 0)),
        (["list", "--default-timeout=5"], ["list", "--timeout=5"], (0, 0)),
        (["install", "--", "-q"], ["install", "--", "-q"], (0, 0)),
        (["cache", "-q", "dir", "-v"], ["cache", "dir"], (1, 1)),
    ],
)
def test_short_clusters_spellings_and_positions(
    group: click.Group, argv: list[str], expected: list[str], counts: tuple[int, int]
) -> None:
    norm = normalize(argv, group)
    assert norm.args == expected
    run = from_command_line(norm.command, norm.general)
    assert (run.verbose, run.quiet) == counts


ALIASES = [
    (["install", "--no-dependencies"], "no_deps", True, "no-deps"),
    (["download", "--no-dependencies"], "no_deps", True, "no-deps"),
    (["download", "--destination-dir", "out"], "dest", "out", "dest"),
    (["download", "--destination-directory=out"], "dest", "out", "dest"),
]


@pytest.mark.parametrize(("argv", "param", "value", "key"), ALIASES)
def test_pips_aliases_are_the_commands_own_names(
    group: click.Group, argv: list[str], param: str, value: object, key: str
) -> None:
    """pip's aliases are the click option's own names; the settings key stays the first."""
    norm, ctx = parse(group, argv)
    assert norm.args == argv and ctx.params[param] == value
    (option,) = [p for p in ctx.command.params if p.name == param]
    assert argv[1].partition("=")[0] in option.opts and long_name(option) == key


def test_an_ambiguous_prefix_is_a_usage_error(group: click.Group) -> None:
    with pytest.raises(click.UsageError, match=r"--no-c is ambiguous.*--no-cache-dir.*--no-color"):
        normalize(["list", "--no-c"], group)
    assert normalize(["--isol", "list"], group).general[0].option.key == "isolated"
    assert normalize(["list", "--disable-pip"], group).general[0].option.key == (
        "disable-pip-version-check"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["uninstall", "--retries", "many"], "--retries: 'many' is not a whole number"),
        (["uninstall", "--timeout", "soon"], "--timeout: 'soon' is not a number"),
        (["list", "--keyring-provider", "vault"], "'vault' is not one of auto"),
        (["list", "--keyring-provider", "subprocess"], "never through a keyring command"),
        (["list", "--use-deprecated", "legacy-resolver"], "roost has one resolver"),
        (["list", "--exists-action", "w"], "it does not wipe it"),
        (["list", "--use-feature", "warp"], "'warp' is not one of fast-deps"),
    ],
)
def test_values_checked_and_refused(group: click.Group, argv: list[str], message: str) -> None:
    norm = normalize(argv, group)
    with pytest.raises(GeneralOptionError, match=re.escape(message)) as caught:
        from_command_line(norm.command, norm.general)
    assert caught.value.exit_code == 2
