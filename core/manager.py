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

    from roost.policy_types import CandidateInfo, Exclusion, Plan
    from roost.types import (
        BuildRequest,
        BuildResult,
        Credentials,
        HttpClient,
        IndexSource,
        InstalledDistribution,
        InstallEvent,
        Link,
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
        self._subsets: dict[tuple[str, str], Any] = {}

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

    def _each(
        self, hook: str, kwargs: dict[str, Any], *, failed: Warn | None = None
    ) -> list[tuple[str, Any]]:
        """Each plugin's answer to *hook*, with the plugin's name, in pluggy's call order
        (``None`` answers left out), for hooks whose messages must say which plugin
        answered what. Each plugin is called through a subset caller holding only it
        (and any wrappers), so pluggy's own calling rules still apply. With *failed*, a
        plugin that raises is reported there and skipped instead of stopping roost.
        """
        impls = [
            impl
            for impl in getattr(self.pm.hook, hook).get_hookimpls()
            if not (impl.hookwrapper or impl.wrapper)
        ]
        answers: list[tuple[str, Any]] = []
        for impl in reversed(impls):  # pluggy calls the last of the list first
            caller = self._subsets.get((hook, impl.plugin_name))
            if caller is None:
                others = [other.plugin for other in impls if other.plugin is not impl.plugin]
                caller = self._subsets[hook, impl.plugin_name] = self.pm.subset_hook_caller(
                    hook, others
                )
            try:
                results = caller(**kwargs)
            except Exception as exc:
                if failed is None:
                    raise
                failed(f"plugin {impl.plugin_name!r} failed in {hook} and was skipped: {exc}")
                continue
            answers.extend((impl.plugin_name, result) for result in results)
        return answers

    def _checked(self, name: str, hook: str, value: object, kind: type) -> Any:
        """*value*, when it is a *kind* (``list``: a list or tuple); else a clear error
        naming the plugin, not a traceback from deep inside the core."""
        if kind is list:
            if isinstance(value, (list, tuple)):
                return value
        elif isinstance(value, kind):
            return value
        raise PluginError(
            f"plugin {name!r} returned {type(value).__name__} from {hook}, "
            f"where roost takes a {kind.__name__}"
        )

    def add_options(self, command: str) -> list[click.Option]:
        options: list[click.Option] = []
        for group in self._hook.roost_add_options(command=command):
            options.extend(group)
        return options

    def add_commands(self, warn: Warn) -> list[tuple[str, click.Command]]:
        """Every plugin's commands with the plugin's name, in registration order (the
        first plugin registered comes first). A plugin whose hook raises is skipped
        with a warning: the command line must still come up, if only for ``-p no:``."""
        import click

        order = {name: number for number, (name, _) in enumerate(self.pm.list_name_plugin())}
        found: list[tuple[str, click.Command]] = []
        answers = self._each("roost_add_commands", {}, failed=warn)
        for name, group in sorted(answers, key=lambda answer: order.get(answer[0], 0)):
            if not isinstance(group, (list, tuple)):
                group = [group]
            for command in group:
                if not isinstance(command, click.Command) or not command.name:
                    warn(f"plugin {name!r} added {command!r}, which is not a named click command")
                    continue
                found.append((name, command))
        return found

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

    def filter_candidates(
        self, project: NormalizedName, candidates: Sequence[CandidateInfo], options: Options
    ) -> list[Exclusion]:
        """Every plugin's exclusions for *project*, each naming its plugin."""
        from dataclasses import replace

        from roost.policy_types import Exclusion

        hook = "roost_filter_candidates"
        kwargs = {"project": project, "candidates": tuple(candidates), "options": options}
        found: list[Exclusion] = []
        for name, group in self._each(hook, kwargs):
            for exclusion in self._checked(name, hook, group, list):
                self._checked(name, hook, exclusion, Exclusion)
                if exclusion.version is None and exclusion.filename is None:
                    raise PluginError(
                        f"plugin {name!r} returned an Exclusion from {hook} that names "
                        "neither a version nor a filename"
                    )
                found.append(replace(exclusion, plugin=name))
        return found

    def check_download(self, link: Link, path: str, options: Options) -> list[Refusal]:
        """Every plugin's refusal of the file at *path*, each naming its plugin."""
        from dataclasses import replace

        from roost.types import Refusal

        hook = "roost_check_download"
        kwargs = {"link": link, "path": path, "options": options}
        return [
            replace(self._checked(name, hook, refusal, Refusal), plugin=name)
            for name, refusal in self._each(hook, kwargs)
        ]

    def check_plan(self, plan: Plan, target: Target, options: Options) -> list[Refusal]:
        """Every plugin's refusals of *plan*, each naming its plugin."""
        from dataclasses import replace

        from roost.types import Refusal

        hook = "roost_check_plan"
        kwargs = {"plan": plan, "target": target, "options": options}
        return [
            replace(self._checked(name, hook, refusal, Refusal), plugin=name)
            for name, group in self._each(hook, kwargs)
            for refusal in self._checked(name, hook, group, list)
        ]

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
