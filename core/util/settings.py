"""roost's settings: command line > ``ROOST_*`` variables > roost's config file > plugins.

Each source becomes one :class:`~roost.types.SettingsLayer`, named for messages
("command line", "environment (ROOST_*)", "roost config /path/config.toml"), so an
error can say where a bad value came from. Layers below roost's own come from the
``roost_settings_layers`` hook (pip's variables and files, via ``pip_config``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from roost.errors import ConfigError
from roost.types import Settings, SettingsLayer

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

if TYPE_CHECKING:
    from roost.manager import Manager

#: Options that take several values; a string value of these is split on whitespace.
LIST_KEYS = frozenset(
    {
        "extra-index-url",
        "find-links",
        "trusted-host",
        "constraint",
        "requirement",
        "build-constraint",
        "config-settings",
    }
)

CLI_LAYER = "command line"
ENV_LAYER = "environment (ROOST_*)"
ENV_PREFIX = "ROOST_"
#: ``ROOST_*`` variables that steer roost itself rather than set an option.
_NOT_OPTIONS = frozenset({"config-file", "disable-plugin-autoload"})
#: Set for a run with ``--isolated`` (by :mod:`roost.cli.general_run`); pip_config
#: reads the same variable.
ISOLATED_MARKER = "_ROOST_ISOLATED"

LayerValues = dict[str, str | tuple[str, ...]]


def normalize_key(name: str) -> str:
    """``--Index_URL`` -> ``index-url``: the one spelling every layer uses."""
    name = name.strip().lower().replace("_", "-")
    return name[2:] if name.startswith("--") else name


def roost_config_path(env: Mapping[str, str] = os.environ) -> Path:
    """Where roost's own config file is: ``$ROOST_CONFIG_FILE`` or the user config dir."""
    explicit = env.get("ROOST_CONFIG_FILE", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    return platformdirs.user_config_path("roost") / "config.toml"


def isolated(env: Mapping[str, str] = os.environ) -> bool:
    """Whether this run is ``--isolated``: no variables, no user config file."""
    return bool(env.get(ISOLATED_MARKER))


def cli_layer(cli: Mapping[str, str | tuple[str, ...] | bool | None]) -> SettingsLayer:
    """The command-line layer: unset flags and empty values say nothing."""
    values: LayerValues = {}
    for name, value in cli.items():
        if value is None or value is False or value in ("", ()):
            continue
        if value is True:
            values[normalize_key(name)] = "1"
        elif isinstance(value, str):
            values[normalize_key(name)] = value
        else:
            values[normalize_key(name)] = tuple(str(item) for item in value)
    return SettingsLayer(CLI_LAYER, values)


def env_layer(env: Mapping[str, str]) -> SettingsLayer:
    """``ROOST_INDEX_URL`` -> ``index-url``; list options split on whitespace."""
    values: LayerValues = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or not value.strip():
            continue
        key = normalize_key(name[len(ENV_PREFIX) :])
        if not key or key in _NOT_OPTIONS:
            continue
        values[key] = tuple(value.split()) if key in LIST_KEYS else value
    return SettingsLayer(ENV_LAYER, values)


def _toml_value(path: Path, key: str, value: Any) -> str | tuple[str, ...]:
    if isinstance(value, bool):
        # An explicit false must be able to override a lower layer's true.
        return "1" if value else "0"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return tuple(str(item) for item in value)
    raise ConfigError(
        f"{path}: the value of {key!r} must be a string, a number, a boolean or an "
        f"array of strings, not {type(value).__name__}"
    )


def file_layer(path: Path, command: str) -> SettingsLayer | None:
    """roost's TOML config: top-level keys for every command, ``[command]`` overriding.

    Returns None when the file does not exist.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read roost's config file {path}: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The decoder's message already ends with "(at line N, column M)".
        raise ConfigError(f"roost's config file {path} is not valid TOML: {exc}") from exc
    values: LayerValues = {}
    for key, value in data.items():
        if not isinstance(value, dict):  # other tables are other commands' sections
            values[normalize_key(key)] = _toml_value(path, key, value)
    section = data.get(command)
    if isinstance(section, dict):
        for key, value in section.items():
            values[normalize_key(key)] = _toml_value(path, f"{command}.{key}", value)
    return SettingsLayer(f"roost config {path}", values)


def build_settings(
    command: str,
    cli: Mapping[str, str | tuple[str, ...] | bool | None],
    manager: Manager,
    *,
    env: Mapping[str, str] = os.environ,
) -> Settings:
    """Merge every settings source for *command*, highest precedence first.

    :param cli: option values from the command line keyed by long option name;
        None, False and empty values are treated as not given.
    :param manager: asked for lower layers through ``roost_settings_layers``.
    :param env: the environment to read ``ROOST_*`` and ``ROOST_CONFIG_FILE`` from.

    With ``--isolated`` (pip's meaning) the ``ROOST_*`` variables are left out, and so
    is roost's config file unless ``ROOST_CONFIG_FILE`` names it: pip too still reads
    the file ``PIP_CONFIG_FILE`` names.
    """
    alone = isolated(env)
    layers = [cli_layer(cli)]
    if not alone:
        layers.append(env_layer(env))
    if not alone or env.get("ROOST_CONFIG_FILE", "").strip():
        config = file_layer(roost_config_path(env), command)
        if config is not None:
            layers.append(config)
    layers.extend(manager.settings_layers(command))
    return Settings(tuple(layer for layer in layers if layer.values))
