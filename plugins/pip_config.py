"""pip's configuration, read the way pip reads it, as settings layers below roost's own.

What pip does (``pip config debug`` shows the same files):

* Files, lowest precedence first: global (each ``$XDG_CONFIG_DIRS`` entry, default
  ``/etc/xdg``, ``/pip/pip.conf``, then ``/etc/pip.conf``), user (legacy
  ``~/.pip/pip.conf``, then ``$XDG_CONFIG_HOME/pip/pip.conf``), site
  (``$VIRTUAL_ENV/pip.conf``), then the file named by ``PIP_CONFIG_FILE``. Within a
  kind, a later file overrides an earlier one.
* An existing ``PIP_CONFIG_FILE`` suppresses the user files; ``PIP_CONFIG_FILE`` set
  to ``os.devnull`` suppresses every file.
* pip merges all files first and only then orders by section: ``PIP_*`` variables
  beat a ``[<command>]`` section in any file, which beats ``[global]`` in any file.
  So ``[install]`` in ``/etc/pip.conf`` wins over ``[global]`` in the user's file,
  and the layers below are ordered to give exactly that.
* Keys are normalised (lowercase, ``_`` to ``-``, a leading ``--`` dropped) and
  empty values are ignored. A key may be any of an option's names
  (``PIP_DEFAULT_TIMEOUT`` is ``timeout``); it becomes roost's name for the option.
* pip sets an option's *destination* from a value, which gives three surprises kept
  here (:func:`pip_values`): a ``--no-X`` switch whose destination is ``X``
  (``--no-build-isolation``, ``--no-compile``, ``--no-user``, ...) takes the value as
  the value of ``X``, so ``PIP_NO_BUILD_ISOLATION=0`` turns isolation *off*;
  ``PIP_NO_CACHE_DIR`` turns the cache off whatever its (valid) value; ``quiet`` and
  ``verbose`` are counts (read by :mod:`roost.cli.general_run`).
* ``--isolated`` (pip's and roost's) leaves out the variables and the user's files.

pip uses its own ``sys.prefix`` for the site file; roost may run from another
Python (pipx), so the active ``$VIRTUAL_ENV`` stands in for it.
"""

from __future__ import annotations

import configparser
import locale
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from roost.errors import ConfigError
from roost.hookspecs import hookimpl
from roost.types import SettingsLayer

WINDOWS = sys.platform == "win32"
CONFIG_BASENAME = "pip.ini" if WINDOWS else "pip.conf"
ENV_LAYER = "pip environment (PIP_*)"
#: ``PIP_*`` variables that are not options (pip ignores the first two itself).
_ENV_IGNORED = frozenset({"version", "help", "config-file"})
#: Set by roost for a run with ``--isolated`` (see roost.util.settings).
ISOLATED_MARKER = "_ROOST_ISOLATED"
#: pip's other names of options, and roost's name of each.
ALIASES = {
    "default-timeout": "timeout",
    "log-file": "log",
    "local-log": "log",
    "require-venv": "require-virtualenv",
    "no-dependencies": "no-deps",
    "only-dependencies": "only-deps",
    "pypi-url": "index-url",
    "source": "src",
    "source-dir": "src",
    "source-directory": "src",
    "destination-dir": "dest",
    "destination-directory": "dest",
}
#: pip's ``--no-X`` switches whose value pip stores as ``X``: key -> (roost's key,
#: whether roost's switch means the opposite of pip's destination).
STORE_FALSE = {
    "no-build-isolation": ("no-build-isolation", True),
    "no-warn-conflicts": ("no-warn-conflicts", True),
    "no-warn-script-location": ("no-warn-script-location", True),
    "no-compile": ("compile", False),
    "no-user": ("user", False),
}
#: The same, for one command only (``freeze --exclude-editable`` is a plain switch).
STORE_FALSE_IN = {"list": {"exclude-editable": ("exclude-editable", True)}}
_TRUE = frozenset({"y", "yes", "t", "true", "on", "1"})
_FALSE = frozenset({"n", "no", "f", "false", "off", "0"})


def _normalize(name: str) -> str:
    name = name.lower().replace("_", "-")
    return name[2:] if name.startswith("--") else name


def _global_dirs(env: Mapping[str, str], etc_dir: Path) -> list[Path]:
    if WINDOWS:  # pragma: no cover - exercised on Windows only
        import platformdirs

        return [Path(platformdirs.site_config_dir("pip", appauthor=False))]
    if sys.platform == "darwin":  # pragma: no cover - exercised on macOS only
        return [Path("/Library/Application Support/pip")]
    xdg = env.get("XDG_CONFIG_DIRS", "")
    if not xdg.strip():
        xdg = str(etc_dir / "xdg")
    return [Path(entry) / "pip" for entry in xdg.split(os.pathsep) if entry] + [etc_dir]


def _user_dir(env: Mapping[str, str], home: Path) -> Path:
    if WINDOWS:  # pragma: no cover - exercised on Windows only
        appdata = env.get("APPDATA", "").strip()
        return (Path(appdata) if appdata else home / "AppData" / "Roaming") / "pip"
    if sys.platform == "darwin":  # pragma: no cover - exercised on macOS only
        native = home / "Library" / "Application Support" / "pip"
        return native if native.is_dir() else home / ".config" / "pip"
    xdg = env.get("XDG_CONFIG_HOME", "")
    return (Path(xdg) if xdg.strip() else home / ".config") / "pip"


def config_files(
    env: Mapping[str, str], home: Path, etc_dir: Path = Path("/etc"), *, isolated: bool = False
) -> list[Path]:
    """Every file pip would read, lowest precedence first (existing or not).

    :param home: the user's home directory (pip's ``~``).
    :param etc_dir: where ``pip.conf`` and the default ``xdg`` directory live.
    :param isolated: pip's ``--isolated``: skip the user's files.
    """
    explicit = env.get("PIP_CONFIG_FILE")
    if explicit is not None and explicit == os.devnull:
        return []
    files = [directory / CONFIG_BASENAME for directory in _global_dirs(env, etc_dir)]
    if not isolated and not (explicit and os.path.exists(explicit)):
        legacy = home / ("pip" if WINDOWS else ".pip") / CONFIG_BASENAME
        files += [legacy, _user_dir(env, home) / CONFIG_BASENAME]
    venv = env.get("VIRTUAL_ENV", "").strip()
    if venv:
        files.append(Path(venv) / CONFIG_BASENAME)
    if explicit:
        files.append(Path(explicit))
    return files


def read_pip_file(path: Path) -> dict[str, dict[str, str]]:
    """Sections of one pip config file as ``{section: {key: value}}`` (empty if absent)."""
    parser = configparser.RawConfigParser()
    encoding = locale.getpreferredencoding(False)
    try:
        with open(path, encoding=encoding) as handle:
            parser.read_file(handle)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return {}
    except UnicodeDecodeError as exc:
        raise ConfigError(f"pip's config file {path} has invalid {encoding} text: {exc}") from exc
    except configparser.Error as exc:
        raise ConfigError(f"pip's config file {path} cannot be parsed: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read pip's config file {path}: {exc}") from exc
    return {
        section: {_normalize(key): value for key, value in parser.items(section) if value}
        for section in parser.sections()
    }


def env_values(env: Mapping[str, str]) -> dict[str, str | tuple[str, ...]]:
    """``PIP_INDEX_URL`` -> ``index-url``, as pip reads its variables (raw values)."""
    values: dict[str, str | tuple[str, ...]] = {}
    for name, value in env.items():
        if name.startswith("PIP_") and value:
            key = _normalize(name[4:])
            if key and key not in _ENV_IGNORED:
                values[key] = value
    return values


def _truth(value: str) -> bool | None:
    text = value.strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def pip_values(values: Mapping[str, str], command: str) -> dict[str, str | tuple[str, ...]]:
    """One source's values with pip's meaning, under roost's keys.

    A value pip would refuse (``PIP_NO_BUILD_ISOLATION=maybe``) is kept under its own
    key, so that roost's error names the variable or file it came from.
    """
    out: dict[str, str | tuple[str, ...]] = {}
    inverted = {**STORE_FALSE, **STORE_FALSE_IN.get(command, {})}
    for key, value in values.items():
        key = ALIASES.get(key, key)
        truth = _truth(value)
        if key in inverted and truth is not None:
            roost_key, opposite = inverted[key]
            if roost_key != key and roost_key in values:
                continue  # PIP_COMPILE beats PIP_NO_COMPILE in one source
            out[roost_key] = "1" if truth != opposite else "0"
        elif key == "no-cache-dir" and truth is not None:
            out[key] = "1"  # pip: any valid value turns the cache off
        else:
            out.setdefault(key, value)
    return out


def pip_settings_layers(
    command: str,
    *,
    env: Mapping[str, str],
    home: Path,
    etc_dir: Path = Path("/etc"),
    isolated: bool = False,
) -> list[SettingsLayer]:
    """pip's variables and files as layers, highest precedence first.

    Layers are named for messages: ``pip environment (PIP_*)``,
    ``pip config /etc/pip.conf [install]``, ``pip config /etc/pip.conf``.
    """
    layers: list[SettingsLayer] = []
    if not isolated:
        raw = {key: str(value) for key, value in env_values(env).items()}
        layers.append(SettingsLayer(ENV_LAYER, pip_values(raw, command)))
    files = [
        (path, read_pip_file(path)) for path in config_files(env, home, etc_dir, isolated=isolated)
    ]
    sections = [command] if command and command != "global" else []
    for section, suffix in [*((s, f" [{s}]") for s in sections), ("global", "")]:
        for path, parsed in reversed(files):
            values = parsed.get(section)
            if values:
                layers.append(
                    SettingsLayer(f"pip config {path}{suffix}", pip_values(values, command))
                )
    return [layer for layer in layers if layer.values]


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME", "").strip()
    return Path(home) if home else Path.home()


@hookimpl(trylast=True)
def roost_settings_layers(command: str) -> Sequence[SettingsLayer]:
    """pip's configuration for *command*, read from the real environment and files."""
    return pip_settings_layers(
        command,
        env=os.environ,
        home=_home(os.environ),
        isolated=bool(os.environ.get(ISOLATED_MARKER)),
    )
