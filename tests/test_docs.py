"""The docs name every command and every option roost has."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest

from roost.cli.main import build_group
from roost.manager import Manager

DOCS = Path(__file__).resolve().parent.parent / "docs"


def all_commands() -> dict[str, click.Command]:
    group = build_group(Manager.build(autoload=False, warn=lambda _: None), None)
    return dict(group.commands)


def test_every_option_of_every_command_is_in_commands_md() -> None:
    text = (DOCS / "commands.md").read_text()
    sections = dict(re.findall(r"^## (\S+)\n(.*?)(?=^## |\Z)", text, re.S | re.M))
    missing = []
    for name, command in all_commands().items():
        assert name in sections, f"docs/commands.md has no section for {name}"
        commands = [command]
        if isinstance(command, click.Group):
            commands = list(command.commands.values())
        for each in commands:
            for param in each.params:
                for opt in getattr(param, "opts", []):
                    long = opt if opt.startswith("--") else None
                    if long and long not in sections[name] and long != "--help":
                        missing.append(f"{name} {long}")
    assert not missing, f"undocumented options: {missing}"


PIP_OPTIONS = Path(__file__).resolve().parent / "data" / "pip_26_3_options.json"


def _roost_names(command: click.Command) -> set[str]:
    """Every option name of *command* (and of its subcommands), with pip's spellings
    that roost reads as one of them."""
    from roost.cli.general_options import PIP_SPELLINGS

    names: set[str] = set()
    commands = [command]
    if isinstance(command, click.Group):
        commands += list(command.commands.values())
    for each in commands:
        for param in each.params:
            names |= set(getattr(param, "opts", [])) | set(getattr(param, "secondary_opts", []))
    spellings = PIP_SPELLINGS.get(str(command.name), {})
    return names | {pip for pip, ours in spellings.items() if ours in names}


def _pip_tables() -> dict[str, dict[tuple[str, ...], str]]:
    """docs/commands.md's "pip's options, command by command": per pip command, each
    row's option names -> what roost does."""
    text = (DOCS / "commands.md").read_text()
    section = text.split("\n## pip's options, command by command\n", 1)[1].split("\n## ", 1)[0]
    tables: dict[str, dict[tuple[str, ...], str]] = {}
    for name, body in re.findall(r"^### pip (\S+)\n(.*?)(?=^### |\Z)", section, re.S | re.M):
        rows = tables.setdefault(name, {})
        for first, what in re.findall(r"^\| (`-.*?) \| (.*) \|$", body, re.M):
            rows[tuple(re.findall(r"`(-[^`]*)`", first))] = what
    return tables


def test_every_pip_option_is_in_the_table_with_what_roost_does() -> None:
    """Each option of each pip 26.3 command (but the general ones, which have their own
    table) has a row; a row saying *same* names an option roost's command has, and a
    row saying *refused* one it does not (so the table cannot drift from the code)."""
    pip = json.loads(PIP_OPTIONS.read_text())["commands"]
    tables = _pip_tables()
    roost = all_commands()
    wrong = []
    for command, options in sorted(pip.items()):
        rows = tables.get(command)
        assert rows is not None, f"no table for pip {command}"
        have = _roost_names(roost[command]) if command in roost else set()
        listed = set()
        for option in options:
            if option["group"] == "General Options" or option["action"] == "help":
                continue
            names = tuple(option["names"])
            listed.add(names)
            what = rows.get(names)
            if what is None:
                wrong.append(f"pip {command} {names[-1]}: no row")
            elif what.startswith("same") and not set(names) & have:
                wrong.append(f"pip {command} {names[-1]}: says same, roost lacks it")
            elif what.startswith("refused") and set(names) & have:
                wrong.append(f"pip {command} {names[-1]}: says refused, roost has it")
            elif what.startswith("general option") and not names[0].startswith("--root"):
                wrong.append(f"pip {command} {names[-1]}: not a general option")
            elif not what.startswith(("same", "refused", "general option")):
                wrong.append(f"pip {command} {names[-1]}: says neither same nor refused")
        assert set(rows) == listed, f"pip {command}: rows for options pip lacks"
    assert not wrong, "\n".join(wrong)


def test_a_refused_pip_option_is_refused_by_roost() -> None:
    """The table's "refused" is what happens: click stops with a usage error (2)."""
    from roost.cli.argv import normalize
    from roost.cli.main import build_group

    group = build_group(Manager.build(autoload=False, warn=lambda _: None), None)
    refused = [
        (command, names[-1])
        for command, rows in _pip_tables().items()
        for names, what in rows.items()
        if what.startswith("refused") and command in group.commands
    ]
    assert refused
    for command, name in refused:
        norm = normalize([command, name], group)
        sub = group.commands[command]
        with pytest.raises(click.UsageError):
            sub.make_context(command, norm.args[1:])


def test_readme_opens_with_the_two_commands() -> None:
    readme = (DOCS.parent / "README.md").read_text().splitlines()
    block = readme[readme.index("```sh") + 1 : readme.index("```", readme.index("```sh") + 1)]
    assert block == [
        "python3 -m pip install -q nox && python3 -m nox -s demo",
        "python3 -m pip install -q nox && python3 -m nox",
    ]
    ci = (DOCS.parent / ".ci" / "run").read_text()
    assert block[1] in ci.splitlines()


def test_no_registry_host_is_named_anywhere() -> None:
    root = DOCS.parent
    hosts = ("pypi" + ".org", "pythonhosted" + ".org", "test." + "pypi")
    for path in root.rglob("*"):
        if any(part in {".git", ".nox", ".bench", "__pycache__"} for part in path.parts):
            continue
        if path.is_file() and path.suffix in {".py", ".md", ".toml", ".txt", ""}:
            text = path.read_text(errors="replace").lower()
            for host in hosts:
                assert host not in text, f"{path} names {host}"
