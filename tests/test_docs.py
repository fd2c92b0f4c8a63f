"""The docs name every command and every option roost has."""

from __future__ import annotations

import re
from pathlib import Path

import click

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
