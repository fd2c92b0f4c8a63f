"""``roost config``: read and edit roost's TOML config file; show where each value comes from.

Keys are option names (``index-url``); ``install.no-deps`` names a key in the
``[install]`` table, which applies to that command only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from roost.errors import ConfigError


def _load(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

    try:
        return dict(tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"roost's config file {path} is not valid TOML: {exc}") from None


def _save(path: Path, data: dict[str, Any]) -> None:
    import tomli_w

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(tomli_w.dumps(data), encoding="utf-8")
    os.replace(temporary, path)


def _split(name: str) -> tuple[str | None, str]:
    from roost.util.settings import normalize_key

    section, dot, key = name.rpartition(".")
    if not dot:
        return None, normalize_key(name)
    if not section or "." in section:
        raise click.BadParameter(f"{name!r}: use KEY or COMMAND.KEY", param_hint="NAME")
    return section, normalize_key(key)


def _parse_value(key: str, raw: tuple[str, ...]) -> Any:
    from roost.util.settings import LIST_KEYS

    if key in LIST_KEYS:
        return [item for value in raw for item in value.split()]
    if len(raw) != 1:
        raise click.BadParameter(f"{key} takes one value", param_hint="VALUE")
    value = raw[0]
    lowered = value.lower()
    if lowered in {"true", "yes", "on"}:
        return True
    if lowered in {"false", "no", "off"}:
        return False
    return value


def config_command() -> click.Group:
    @click.group("config")
    def config() -> None:
        """Show and edit configuration (roost's file; pip's is shown, never edited)."""

    def path_now() -> Path:
        from roost.util.settings import roost_config_path

        return roost_config_path()

    @config.command("list")
    @click.option(
        "--command",
        "command",
        default="install",
        show_default=True,
        help="Show the values as this command sees them.",
    )
    @click.option("--all", "show_all", is_flag=True, help="Also show values that are overridden.")
    @click.pass_context
    def list_(ctx: click.Context, command: str, show_all: bool) -> None:
        """Every setting, its value, and the file or variable it comes from."""
        from roost.types import redact_text
        from roost.util.settings import build_settings

        settings = build_settings(command, {}, ctx.meta["roost.manager"])
        seen: set[str] = set()
        for layer in settings.layers:
            for key in sorted(layer.values):
                shadowed = key in seen
                if shadowed and not show_all:
                    continue
                seen.add(key)
                value = layer.values[key]
                text = value if isinstance(value, str) else " ".join(value)
                # A listing is for reading and pasting into reports: index URLs lose
                # their passwords here as everywhere else (``config get`` shows them).
                text = redact_text(text)
                note = " (overridden)" if shadowed else ""
                click.echo(f"{key}={text!r}  # {layer.name}{note}")

    @config.command("get")
    @click.argument("name")
    @click.option("--command", "command", default="install", show_default=True)
    @click.pass_context
    def get(ctx: click.Context, name: str, command: str) -> None:
        """The effective value of NAME and where it comes from; exit 1 if unset."""
        from roost.util.settings import build_settings, normalize_key

        settings = build_settings(command, {}, ctx.meta["roost.manager"])
        found = settings.lookup(normalize_key(name))
        if found is None:
            raise ConfigError(f"{name} is not set anywhere roost looks")
        value, layer = found
        click.echo(value if isinstance(value, str) else " ".join(value))
        click.echo(f"# from {layer.name}", err=True)

    @config.command("set")
    @click.argument("name")
    @click.argument("value", nargs=-1, required=True)
    def set_(name: str, value: tuple[str, ...]) -> None:
        """Set NAME (KEY or COMMAND.KEY) in roost's config file."""
        section, key = _split(name)
        path = path_now()
        data = _load(path)
        table = data if section is None else data.setdefault(section, {})
        table[key] = _parse_value(key, value)
        _save(path, data)
        click.echo(f"Writing to {path}")

    @config.command("unset")
    @click.argument("name")
    def unset(name: str) -> None:
        """Remove NAME from roost's config file."""
        section, key = _split(name)
        path = path_now()
        data = _load(path)
        table = data if section is None else data.get(section, {})
        if key not in table:
            raise ConfigError(f"{name} is not set in {path}")
        del table[key]
        if section is not None and not table:
            del data[section]
        _save(path, data)
        click.echo(f"Writing to {path}")

    @config.command("edit")
    def edit() -> None:
        """Open roost's config file in $VISUAL or $EDITOR, and check it afterwards."""
        path = path_now()
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text("# roost configuration: option = value, [command] tables\n")
        click.edit(filename=str(path))
        _load(path)

    @config.command("path")
    def path() -> None:
        """Print the path of roost's config file."""
        click.echo(str(path_now()))

    return config
