"""``roost config``: edit pip's config files and roost's own, and show where settings come from.

``SECTION.KEY`` of one of pip's options (``global.index-url``, ``install.user``) goes to
a pip config file, the one ``pip config`` would write (``--user``, ``--global``,
``--site``), which roost reads below its own settings. A bare ``KEY``, or
``COMMAND.KEY`` of a roost-only option (``install.link-mode``), goes to roost's TOML file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from roost.errors import ConfigError

if TYPE_CHECKING:
    import configparser
    from collections.abc import Mapping

#: pip 26.3's long option names: the keys pip's files can hold (any command's).
_PIP_OPTIONS = """abi algorithm all all-releases bash break-system-packages build-constraint
    cache-dir cert check-build-dependencies client-cert compile config-settings constraint debug
    default-timeout dest destination-dir destination-directory disable-pip-version-check
    dry-run editable editor exclude exclude-editable exists-action extra-index-url files
    find-links fish force-reinstall format global group ignore-installed
    ignore-requires-python implementation include-editable index index-url isolated json
    keyring-provider local local-log log log-file no-binary no-build-isolation no-cache-dir
    no-clean no-color no-compile no-dependencies no-deps no-index no-input no-proxy-env
    no-python-version-warning no-require-hashes no-user no-verify no-warn-conflicts
    no-warn-script-location not-required only-binary only-dependencies only-deps only-final
    outdated output path platform powershell pre prefer-binary prefix progress-bar proxy
    pypi-url python python-version quiet refresh-package report require-hashes
    require-venv require-virtualenv requirement requirements-from-script resume-retries
    retries root root-user-action site source source-dir source-directory src target
    timeout trusted-host upgrade upgrade-strategy uploaded-prior-to uptodate use-deprecated
    use-feature use-pep517 user verbose wheel-dir yes zsh"""
PIP_OPTION_NAMES = frozenset(_PIP_OPTIONS.split())
#: The sections pip reads: ``global`` and its commands'.
_PIP_SECTIONS = """global cache check completion config debug download freeze hash help index
    inspect install list lock search show uninstall wheel"""
PIP_SECTIONS = frozenset(_PIP_SECTIONS.split())


def _load(path: Path) -> dict[str, Any]:
    """roost's TOML file as a table (empty when it does not exist)."""
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

    from roost.util.cache import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, tomli_w.dumps(data).encode("utf-8"))


def _value(key: str, raw: tuple[str, ...], *, toml: bool) -> Any:
    """VALUE as stored: several words for list options; for TOML, switches as booleans."""
    from roost.util.settings import LIST_KEYS

    if key in LIST_KEYS:
        words = [item for value in raw for item in value.split()]
        return words if toml else " ".join(words)
    if len(raw) != 1:
        raise click.BadParameter(f"{key} takes one value", param_hint="VALUE")
    lowered = raw[0].lower()
    if toml and lowered in {"true", "yes", "on", "false", "no", "off"}:
        return lowered in {"true", "yes", "on"}
    return raw[0]


def parse_name(name: str) -> tuple[str | None, str]:
    """``install.no-deps`` -> ``("install", "no-deps")``; a bare key has no section."""
    from roost.util.settings import normalize_key

    section, dot, key = name.strip().rpartition(".")
    if not dot:
        return None, normalize_key(name)
    if not section or "." in section or not key:
        raise click.BadParameter(f"{name!r}: use KEY, or SECTION.KEY", param_hint="NAME")
    return section.lower(), normalize_key(key)


def _pip_key(name: str, section: str | None, key: str) -> tuple[str, str]:
    """(section, key) of a name for pip's files, or the error saying how to spell it."""
    if key not in PIP_OPTION_NAMES:
        raise ConfigError(
            f"{key!r} is not one of pip's options, so pip's files do not hold it; it is "
            f"roost's own: roost config set {key} VALUE (roost's config file, without "
            "--user, --global or --site)"
        )
    if section is None:
        raise ConfigError(
            f"{name!r} has no section: pip's files take SECTION.KEY, e.g. 'global.{key}' "
            f"(every command) or 'install.{key}'"
        )
    if section not in PIP_SECTIONS:
        raise ConfigError(
            f"{section!r} is not a section pip reads: use 'global' or a command name "
            f"('install', 'download', ...), e.g. global.{key}"
        )
    return section, key


def pip_files(env: Mapping[str, str], home: Path) -> dict[str, list[Path]]:
    """The pip config files roost (and pip) read, by kind: ``global``, ``user`` (none
    with ``--isolated``, or when ``PIP_CONFIG_FILE`` names an existing file: it replaces
    them), ``site`` (the active virtual environment's), ``env`` (``PIP_CONFIG_FILE``)."""
    from roost.plugins.pip_config import CONFIG_BASENAME, config_files
    from roost.util.settings import isolated

    explicit = env.get("PIP_CONFIG_FILE")
    bare = {k: v for k, v in env.items() if k not in {"PIP_CONFIG_FILE", "VIRTUAL_ENV"}}
    # With neither a venv nor an explicit file, the list ends with the two user files
    # (the legacy one, then the XDG one); the files before them are the global ones.
    every = config_files(bare, home)
    kinds = {"global": every[:-2], "user": every[-2:], "site": [], "env": []}
    if isolated(env) or (explicit and os.path.exists(explicit)):
        kinds["user"] = []
    if env.get("VIRTUAL_ENV", "").strip():
        kinds["site"] = [Path(env["VIRTUAL_ENV"].strip()) / CONFIG_BASENAME]
    if explicit:
        kinds["env"] = [Path(explicit)]
    return {kind: [] for kind in kinds} if explicit == os.devnull else kinds


def _encoding() -> str:
    import locale

    return "utf-8" if sys.flags.utf8_mode else locale.getpreferredencoding(False)


def read_parser(path: Path) -> configparser.RawConfigParser:
    """One pip config file, keys normalised as pip normalises them."""
    import configparser

    from roost.util.settings import normalize_key

    parser = configparser.RawConfigParser()
    parser.optionxform = normalize_key  # type: ignore[assignment, method-assign]
    try:
        with open(path, encoding=_encoding()) as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise ConfigError(f"cannot read pip's config file {path}: {exc}") from None
    return parser


def _write_parser(path: Path, parser: configparser.RawConfigParser) -> None:
    import io

    from roost.util.cache import write_atomic

    text = io.StringIO()
    parser.write(text)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text.getvalue().encode(_encoding()))
    except OSError as exc:
        raise ConfigError(f"cannot write pip's config file {path}: {exc}") from None


def file_values(path: Path) -> dict[str, str]:
    """``{"section.key": value}`` of one pip file, in file order (empty when absent)."""
    parser = read_parser(path)
    return {f"{s}.{k}": v for s in parser.sections() for k, v in parser.items(s)}


def env_values(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """``PIP_*`` variables as pip reads them: (the name after ``PIP_``, lowercase; the
    value), sorted; none with ``--isolated``."""
    from roost.util.settings import isolated

    found = [(name[4:].lower(), value) for name, value in env.items() if name.startswith("PIP_")]
    return [] if isolated(env) else sorted(i for i in found if i[0] not in {"version", "help"})


def scope_files(scope: str, kinds: Mapping[str, list[Path]]) -> list[Path]:
    """The files a scope reads: the user's are replaced by ``PIP_CONFIG_FILE``'s, as in pip."""
    return kinds[scope] or (kinds["env"] if scope == "user" else [])


def choose_file(
    scope: str | None, kinds: Mapping[str, list[Path]], env: Mapping[str, str], *, key: str = ""
) -> tuple[Path, str | None]:
    """The file a change goes to (for *key* ``section.name``, the strongest file of the
    scope that sets it, else the strongest), and a warning to show, if any. Without a
    scope: the site file when it exists, else the user's (pip's rule)."""
    scope = scope or ("site" if any(p.exists() for p in kinds["site"]) else "user")
    explicit = env.get("PIP_CONFIG_FILE")
    if explicit == os.devnull:
        raise ConfigError(
            "PIP_CONFIG_FILE is os.devnull, so neither pip nor roost reads any pip config "
            "file: a change would never be read; unset PIP_CONFIG_FILE first"
        )
    files = kinds[scope]
    if not files and scope in ("user", "global") and explicit:
        return Path(explicit), (
            f"PIP_CONFIG_FILE is set, so the change goes to {explicit}, not to the {scope} "
            "file (as pip does); unset PIP_CONFIG_FILE to change that file"
        )
    if not files:
        raise ConfigError(
            "--isolated leaves the user's files out: there is none to change"
            if scope == "user"
            else "no site config file: no virtual environment is active ($VIRTUAL_ENV)"
        )
    section, _, name = key.partition(".")
    holding = [path for path in files if key and read_parser(path).has_option(section, name)]
    return (holding or files)[-1], None


def scope_listing(scope: str, env: Mapping[str, str], home: Path) -> list[str]:
    """``pip config --SCOPE list``: the scope's files, then the ``PIP_*`` variables."""
    from roost.util.settings import normalize_key

    named = [(str(path), file_values(path)) for path in scope_files(scope, pip_files(env, home))]
    named.append((":env:", {f":env:.{normalize_key(k)}": v for k, v in env_values(env)}))
    lines = []
    # pip sorts by file name (":env:" after "/..."), then each file's keys.
    for _, values in sorted(named, key=lambda item: item[0]):
        lines += [f"{key}={value!r}" for key, value in sorted(values.items())]
    return lines


def debug_listing(
    scope: str | None, env: Mapping[str, str], home: Path, roost_file: Path
) -> list[str]:
    """``pip config debug``'s lines for pip's sources, then roost's own file and variables."""
    from roost.util.settings import ENV_PREFIX, isolated

    kinds = pip_files(env, home)
    lines = ["env_var:"]
    lines += [f"  PIP_{key.upper()}={value!r}" for key, value in env_values(env)]
    for kind in sorted(kinds):
        if kind == "user" and not kinds["user"]:
            continue  # pip leaves out the user files it does not read
        lines.append(f"{kind}:")
        for path in kinds[kind]:
            lines.append(f"  {path}, exists: {path.exists()!r}")
            if path.exists() and scope in (None, kind):
                lines += [f"    {key}: {value}" for key, value in file_values(path).items()]
    lines.append("roost env_var:")
    own = [] if isolated(env) else [k for k in sorted(env) if k.startswith(ENV_PREFIX)]
    lines += [f"  {k}={env[k]!r}" for k in own]
    lines += ["roost:", f"  {roost_file}, exists: {roost_file.exists()!r}"]
    for key, value in _load(roost_file).items():
        pairs = value.items() if isinstance(value, dict) else [("", value)]
        lines += [f"    {key}{'.' if name else ''}{name}: {each}" for name, each in pairs]
    return lines


def _home() -> Path:
    return Path(os.environ.get("HOME", "").strip() or Path.home())


def _roost_path() -> Path:
    from roost.util.settings import roost_config_path  # platformdirs: not at start-up

    return roost_config_path()


#: pip's scopes, each with the help of its option.
SCOPES = {
    "site": "The pip config file of the active virtual environment.",
    "user": "The user's pip config file.",
    "global": "The system-wide pip config file.",
}


def _scope_options(f: Any) -> Any:
    for name, what in SCOPES.items():
        f = click.option(f"--{name}", f"{name}_file", is_flag=True, help=what)(f)
    return f


def _scope(ctx: click.Context) -> str | None:
    """The one of ``--user``, ``--global``, ``--site`` given, before or after the action."""
    contexts = [c for c in (ctx, ctx.parent) if c is not None]
    given = {s for c in contexts for s in SCOPES if c.params.get(f"{s}_file")}
    if len(given) > 1:
        raise click.UsageError("give only one of --user, --global and --site")
    return given.pop() if given else None


def _pip_target(ctx: click.Context, name: str, *, unset: bool = False) -> tuple[Path, str, str]:
    """The pip file a set or unset of *name* changes, with the section and key."""
    from roost.util.output import Output

    section, key = _pip_key(name, *parse_name(name))
    kinds = pip_files(os.environ, _home())
    where = f"{section}.{key}" if unset else ""
    path, warning = choose_file(_scope(ctx), kinds, os.environ, key=where)
    if warning:  # pip warns too, as the file is not the one asked for
        (ctx.find_object(Output) or Output()).warning(warning)
    return path, section, key


def _is_pip(ctx: click.Context, name: str) -> bool:
    """Whether *name* goes to pip's files: a scope flag, or SECTION.KEY of a pip option."""
    section, key = parse_name(name)
    return _scope(ctx) is not None or (section is not None and key in PIP_OPTION_NAMES)


def _roost_table(data: dict[str, Any], section: str | None, *, create: bool) -> Any:
    if section in (None, "global"):
        return data
    return data.setdefault(str(section), {}) if create else data.get(str(section), {})


def _layered_listing(ctx: click.Context, command: str, show_all: bool) -> None:
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
            # Listings get pasted into reports: no passwords (``config get`` shows them).
            text = redact_text(value if isinstance(value, str) else " ".join(value))
            note = " (overridden)" if shadowed else ""
            click.echo(f"{key}={text!r}  # {layer.name}{note}")


def config_command() -> click.Group:
    @click.group("config")
    @_scope_options
    @click.option("--editor", metavar="EDITOR", help="For edit: the editor to run.")
    def config(**_: Any) -> None:
        """Show and edit configuration: pip's files (SECTION.KEY names, --user, --global,
        --site) and roost's own file (bare KEY names)."""

    command_option = click.option(
        "--command", default="install", show_default=True, help="As this command sees it."
    )

    @config.command("list")
    @command_option
    @click.option("--all", "show_all", is_flag=True, help="Also show values that are overridden.")
    @_scope_options
    @click.pass_context
    def list_(ctx: click.Context, /, command: str, show_all: bool, **_: Any) -> None:
        """Every setting, its value, and the file or variable it comes from; with --user,
        --global or --site, that pip file's values and PIP_* variables, as pip lists them."""
        scope = _scope(ctx)
        if scope is None:
            _layered_listing(ctx, command, show_all)
            return
        for line in scope_listing(scope, os.environ, _home()):
            click.echo(line)

    @config.command("debug")
    @_scope_options
    @click.pass_context
    def debug(ctx: click.Context, /, **_: Any) -> None:
        """Every config file pip and roost read, whether it exists, and its values; the
        PIP_* and ROOST_* variables."""
        from roost.types import redact_text

        for line in debug_listing(_scope(ctx), os.environ, _home(), _roost_path()):
            click.echo(redact_text(line))

    @config.command("get")
    @click.argument("name")
    @command_option
    @_scope_options
    @click.pass_context
    def get(ctx: click.Context, /, name: str, command: str, **_: Any) -> None:
        """The value of NAME, exit 1 if unset: a bare KEY as --command sees it (its origin
        on stderr), SECTION.KEY from the pip file of the scope or from roost's file."""
        from roost.util.settings import build_settings

        section, key = parse_name(name)
        if section is None and _scope(ctx) is None:
            found = build_settings(command, {}, ctx.meta["roost.manager"]).lookup(key)
            if found is None:
                raise ConfigError(f"{name} is not set anywhere roost looks")
            click.echo(found[0] if isinstance(found[0], str) else " ".join(found[0]))
            click.echo(f"# from {found[1].name}", err=True)
            return
        value: Any = None
        if _is_pip(ctx, name):
            section, key = _pip_key(name, section, key)
            kinds = pip_files(os.environ, _home())
            scope = _scope(ctx) or ("site" if any(p.exists() for p in kinds["site"]) else "user")
            for path in scope_files(scope, kinds):
                value = file_values(path).get(f"{section}.{key}", value)
        else:
            table = _roost_table(_load(_roost_path()), section, create=False)
            value = table.get(key) if isinstance(table, dict) else None
        if value is None or isinstance(value, dict):
            raise ConfigError(f"No such key - {name}")
        click.echo(" ".join(map(str, value)) if isinstance(value, list) else str(value))

    @config.command("set")
    @click.argument("name")
    @click.argument("value", nargs=-1, required=True)
    @_scope_options
    @click.pass_context
    def set_(ctx: click.Context, /, name: str, value: tuple[str, ...], **_: Any) -> None:
        """Set NAME: SECTION.KEY of pip's options in pip's file (the user's, or --global,
        --site), a bare KEY or COMMAND.KEY of roost's own in roost's file."""
        if _is_pip(ctx, name):
            path, section, key = _pip_target(ctx, name)
            parser = read_parser(path)
            if not parser.has_section(section):
                parser.add_section(section)
            parser.set(section, key, _value(key, value, toml=False))
            _write_parser(path, parser)
        else:
            section_name, key = parse_name(name)
            path = _roost_path()
            data = _load(path)
            _roost_table(data, section_name, create=True)[key] = _value(key, value, toml=True)
            _save(path, data)
        click.echo(f"Writing to {path}")

    @config.command("unset")
    @click.argument("name")
    @_scope_options
    @click.pass_context
    def unset(ctx: click.Context, /, name: str, **_: Any) -> None:
        """Remove NAME from the file that `set` writes it to (a pip key that an older
        roost put in its own file's tables is removed from there)."""
        if _is_pip(ctx, name):
            path, section, key = _pip_target(ctx, name, unset=True)
            parser = read_parser(path)
            if parser.has_option(section, key):
                parser.remove_option(section, key)
                if not parser.items(section):
                    parser.remove_section(section)
                _write_parser(path, parser)
                click.echo(f"Writing to {path}")
                return
            if _scope(ctx) is not None:
                raise ConfigError(f"No such key - {name}")
        section_name, key = parse_name(name)
        path = _roost_path()
        data = _load(path)
        table = _roost_table(data, section_name, create=False)
        if _is_pip(ctx, name):  # an older roost's: in the table by that name, [global] too
            table = data.get(str(section_name))
        if not isinstance(table, dict) or key not in table:
            raise ConfigError(f"No such key - {name}")
        del table[key]
        if table is not data and not table:
            del data[str(section_name)]
        _save(path, data)
        click.echo(f"Writing to {path}")

    @config.command("edit")
    @click.option("--editor", metavar="EDITOR", help="The editor (default: $VISUAL, $EDITOR).")
    @_scope_options
    @click.pass_context
    def edit(ctx: click.Context, /, editor: str | None, **_: Any) -> None:
        """Open roost's config file in an editor, or with --user, --global or --site that
        pip file; the file is checked afterwards."""
        editor = editor or (ctx.parent.params.get("editor") if ctx.parent else None)
        scope = _scope(ctx)
        if scope is not None:
            path, warning = choose_file(scope, pip_files(os.environ, _home()), os.environ)
            if warning:
                click.echo(f"WARNING: {warning}", err=True)
        else:
            path = _roost_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        if scope is None and not path.exists():
            path.write_text("# roost configuration: option = value, [command] tables\n")
        click.edit(filename=str(path), editor=editor)
        read_parser(path) if scope is not None else _load(path)

    @config.command("path")
    def path() -> None:
        """Print the path of roost's config file."""
        click.echo(str(_roost_path()))

    return config
