"""Build the plugin manager for one invocation, and call hooks through a typed facade.

Rules (DESIGN.md): built-ins are registered by import under short names, then the
``roost`` entry points; a plugin that fails to import or implements an unknown hook
is dropped with a warning, because a broken plugin must not brick the tool that
repairs environments. ``system_guard`` cannot be blocked.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pluggy

from roost import hookspecs
from roost.errors import BuildError, ConfigError, PluginError

if TYPE_CHECKING:
    import ssl

    import click

    from roost.types import (
        BuildRequest,
        BuildResult,
        Credentials,
        HttpClient,
        IndexSource,
        InstalledDistribution,
        InstallEvent,
        NormalizedName,
        Options,
        ProjectLinks,
        Refusal,
        Scheme,
        Settings,
        SettingsLayer,
        Target,
    )

#: Built-in plugins in registration order; each is ``roost.plugins.<name>``.
BUILTIN_PLUGINS = (
    "pip_config",
    "index_sources",
    "simple_index",
    "find_links",
    "default_scheme",
    "user_scheme",
    "target_scheme",
    "system_guard",
    "truststore_tls",
    "keyring_auth",
    "netrc_auth",
    "bytecode",
    "progress",
    "pep517_build",
)
#: Plugins whose protection a user must relax with their own flags, not by blocking.
ESSENTIAL_PLUGINS = frozenset({"system_guard"})

Warn = Callable[[str], None]


@dataclass(frozen=True)
class PluginInfo:
    """One registered plugin, for ``roost plugins``."""

    name: str
    #: ``built-in``, ``-p option`` or ``<distribution> <version>``.
    origin: str
    hooks: tuple[str, ...]


def _drop_unknown_hooks(pm: pluggy.PluginManager, name: str, plugin: object, warn: Warn) -> bool:
    """Unregister *plugin* if it implements a hook roost has no spec for."""
    unknown = sorted(
        caller.name for caller in pm.get_hookcallers(plugin) or () if not caller.has_spec()
    )
    if not unknown:
        return True
    pm.unregister(plugin)
    warn(f"plugin {name!r} was not loaded: it implements unknown hook(s) {', '.join(unknown)}")
    return False


class Manager:
    """The plugin manager of one roost invocation, with one typed method per hook."""

    def __init__(self, pm: pluggy.PluginManager, origins: dict[str, str]) -> None:
        self.pm = pm
        self._origins = origins

    @classmethod
    def build(
        cls,
        *,
        plugin_args: Iterable[str] = (),
        autoload: bool = True,
        warn: Warn,
        builtins: Sequence[str] = BUILTIN_PLUGINS,
    ) -> Manager:
        """Register built-ins, ``-p`` modules and (unless *autoload* is off) entry points.

        :param plugin_args: values of ``-p``: ``no:NAME`` blocks, anything else is a
            module to import and register.
        """
        pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        pm.add_hookspecs(hookspecs)
        origins: dict[str, str] = {}
        to_import: list[str] = []
        for arg in plugin_args:
            if arg.startswith("no:"):
                name = arg[3:]
                if name in ESSENTIAL_PLUGINS:
                    raise PluginError(
                        f"the plugin {name!r} cannot be blocked: it protects system Pythons. "
                        "Relax it with its own flags instead (--user, --system, "
                        "--break-system-packages)."
                    )
                pm.set_blocked(name)
            else:
                to_import.append(arg)

        def register(name: str, load: Callable[[], object], origin: str) -> None:
            if pm.is_blocked(name):
                return
            if pm.has_plugin(name):
                warn(f"plugin {name!r} from {origin} was not loaded: the name is already taken")
                return
            try:
                plugin = load()
                pm.register(plugin, name=name)
            except Exception as exc:  # a broken plugin must not stop roost
                warn(f"plugin {name!r} ({origin}) failed to load and was skipped: {exc}")
                return
            if _drop_unknown_hooks(pm, name, plugin, warn):
                origins[name] = origin

        for name in builtins:
            register(name, _importer(f"roost.plugins.{name}"), "built-in")
        for module in to_import:
            register(module, _importer(module), "-p option")
        if autoload:
            for ep in metadata.entry_points(group=hookspecs.PROJECT_NAME):
                dist = ep.dist
                origin = f"{dist.name} {dist.version}" if dist is not None else ep.value
                register(ep.name, ep.load, origin)
        pm.check_pending()
        return cls(pm, origins)

    # -- introspection ---------------------------------------------------------

    def implementers(self, hook: str) -> list[str]:
        """The names of the plugins implementing *hook*."""
        caller = getattr(self.pm.hook, hook)
        return [impl.plugin_name for impl in caller.get_hookimpls()]

    def plugins(self) -> list[PluginInfo]:
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:  # pluggy's placeholder for a blocked name
                continue
            hooks = tuple(sorted(c.name for c in self.pm.get_hookcallers(plugin) or ()))
            infos.append(PluginInfo(name, self._origins.get(name, "registered"), hooks))
        return infos

    # -- hooks -----------------------------------------------------------------

    @property
    def _hook(self) -> Any:
        return self.pm.hook

    def add_options(self, command: str) -> list[click.Option]:
        options: list[click.Option] = []
        for group in self._hook.roost_add_options(command=command):
            options.extend(group)
        return options

    def settings_layers(self, command: str) -> list[SettingsLayer]:
        layers: list[SettingsLayer] = []
        # pluggy calls later-registered plugins first; reverse so built-in order holds
        # and a third-party layer lands after pip's (lower precedence).
        for group in reversed(self._hook.roost_settings_layers(command=command)):
            layers.extend(group)
        return layers

    def ssl_context(self, settings: Settings) -> ssl.SSLContext:
        context: ssl.SSLContext | None = self._hook.roost_ssl_context(settings=settings)
        if context is not None:
            return context
        import ssl

        # Documented fallback when truststore_tls is blocked: Python's default
        # context (OpenSSL's default CA locations) plus --cert/--client-cert.
        from roost.tls import apply_tls_settings

        return apply_tls_settings(ssl.create_default_context(), settings)

    def http_auth(
        self, url: str, settings: Settings, *, challenged: bool = False
    ) -> Credentials | None:
        result: Credentials | None = self._hook.roost_http_auth(
            url=url, settings=settings, challenged=challenged
        )
        return result

    def index_sources(self, settings: Settings) -> list[IndexSource]:
        sources: list[IndexSource] = []
        for group in reversed(self._hook.roost_index_sources(settings=settings)):
            for source in group:
                if source not in sources:
                    sources.append(source)
        return sources

    def index_lookup(
        self, project: NormalizedName, source: IndexSource, client: HttpClient
    ) -> ProjectLinks | None:
        result: ProjectLinks | None = self._hook.roost_index_lookup(
            project=project, source=source, client=client
        )
        return result

    def select_scheme(self, target: Target, options: Options) -> Scheme:
        scheme: Scheme | None = self._hook.roost_select_scheme(target=target, options=options)
        if scheme is None:
            raise ConfigError(
                "no plugin chose where to install (is 'default_scheme' blocked with -p no:?)"
            )
        return scheme

    def check_install(self, target: Target, scheme: Scheme, options: Options) -> list[Refusal]:
        refusals: list[Refusal] = []
        for group in self._hook.roost_check_install(target=target, scheme=scheme, options=options):
            refusals.extend(group)
        return refusals

    def post_install(
        self,
        target: Target,
        scheme: Scheme,
        installed: Sequence[InstalledDistribution],
        options: Options,
    ) -> None:
        self._hook.roost_post_install(
            target=target, scheme=scheme, installed=list(installed), options=options
        )

    def install_event(self, event: InstallEvent, options: Options) -> None:
        self._hook.roost_install_event(event=event, options=options)

    def prepare_metadata(self, request: BuildRequest) -> BuildResult | None:
        result: BuildResult | None = self._hook.roost_prepare_metadata(request=request)
        return result

    def build_wheel(self, request: BuildRequest) -> BuildResult:
        result: BuildResult | None = self._hook.roost_build_wheel(request=request)
        if result is None:
            raise BuildError(
                f"no plugin built {request.display or request.source_dir} "
                "(is 'pep517_build' blocked with -p no:?)"
            )
        return result


def _importer(module: str) -> Callable[[], object]:
    def load() -> object:
        return importlib.import_module(module)

    return load
