"""Every hook roost calls, and the marker pair plugins use.

Plugins are registered under the entry-point group ``roost``. Built-in defaults
are ``trylast`` so a third-party implementation runs first and can override them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

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

PROJECT_NAME = "roost"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def roost_add_options(command: str) -> Sequence[click.Option]:
    """Return extra click options for a command.

    :param command: the command's name, e.g. ``"install"``.

    The values arrive in the ``options`` argument of the other hooks under the
    options' parameter names.
    """
    raise NotImplementedError  # pragma: no cover  (spec only)


@hookspec
def roost_add_commands() -> Sequence[click.Command]:
    """Return click commands this plugin adds to ``roost``.

    Called on every start, while roost builds its CLI: build the command objects
    here and keep heavy imports inside their callbacks. A name a built-in command
    has, or one an earlier plugin added, is refused with a warning.
    """
    raise NotImplementedError  # pragma: no cover


@hookspec
def roost_settings_layers(command: str) -> Sequence[SettingsLayer]:
    """Return settings layers with lower precedence than roost's own.

    :param command: the running command, for per-command config sections.

    roost's own layers (command line, ``ROOST_*`` variables, roost's config file)
    always win; layers from this hook follow in the order plugins answer.
    ``pip_config`` returns pip's variables and pip's config files here.
    """
    raise NotImplementedError  # pragma: no cover


@hookspec(firstresult=True)
def roost_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """Return the SSL context every HTTPS connection (and HTTPS proxy) uses.

    :param settings: the merged settings (``cert``, ``client-cert``, ...).

    Stops at first non-None result.
    """
    raise NotImplementedError  # pragma: no cover


@hookspec(firstresult=True)
def roost_http_auth(url: str, settings: Settings, challenged: bool) -> Credentials | None:
    """Return credentials for a request to *url*, or None to send none.

    :param url: the URL about to be requested, without credentials.
    :param settings: the merged settings.
    :param challenged: False when asked before the first request to *url*'s origin;
        True when that origin has answered 401 to a request sent without credentials
        (the request is then sent again with what this returns). Sources that are slow
        to ask, or may prompt, answer only when challenged, as pip and uv ask a keyring
        only after a 401.

    Stops at first non-None result. An implementation may leave out *challenged*.
    """
    raise NotImplementedError  # pragma: no cover


@hookspec
def roost_index_sources(settings: Settings) -> Sequence[IndexSource]:
    """Return the index and find-links sources to look projects up in.

    :param settings: the merged settings.

    Sources are asked in the order returned, plugin by plugin.
    """
    raise NotImplementedError  # pragma: no cover


@hookspec(firstresult=True)
def roost_index_lookup(
    project: NormalizedName, source: IndexSource, client: HttpClient
) -> ProjectLinks | None:
    """Return what *source* lists for *project*, or None if this plugin cannot read it.

    :param project: the normalised project name.
    :param source: the source to ask.
    :param client: roost's HTTP client (TLS, auth, proxies, retries already set up).

    A source that does not know the project answers ``ProjectLinks(found=False)``.
    Stops at first non-None result.
    """
    raise NotImplementedError  # pragma: no cover


@hookspec(firstresult=True)
def roost_select_scheme(target: Target, options: Options) -> Scheme | None:
    """Return where files go for this install.

    :param target: the interpreter installed into.
    :param options: the command's options (``--user``, ``--target``, ...).

    ``--root`` is applied by the core afterwards. Stops at first non-None result.
    """
    raise NotImplementedError  # pragma: no cover


@hookspec
def roost_check_install(target: Target, scheme: Scheme, options: Options) -> Sequence[Refusal]:
    """Return reasons to refuse this install (empty when fine).

    :param target: the interpreter installed into.
    :param scheme: the scheme chosen by ``roost_select_scheme``.
    :param options: the command's options.

    The core collects every guard's refusals and reports all of them at once.
    """
    raise NotImplementedError  # pragma: no cover


@hookspec
def roost_post_install(
    target: Target,
    scheme: Scheme,
    installed: Sequence[InstalledDistribution],
    options: Options,
) -> None:
    """Act after a successful install (warnings, bytecode, an SBOM, ...).

    :param target: the interpreter installed into.
    :param scheme: the scheme files went to.
    :param installed: what this command installed.
    :param options: the command's options.
    """
    raise NotImplementedError  # pragma: no cover


@hookspec
def roost_install_event(event: InstallEvent, options: Options) -> None:
    """Observe one step of an install (progress bars, audit logs).

    :param event: what is happening, to which distribution, and how far along.
    :param options: the command's options.

    Called from the installing thread; an exception raised here aborts the
    install, which is then rolled back like any other failure.
    """
    raise NotImplementedError  # pragma: no cover


@hookspec(firstresult=True)
def roost_prepare_metadata(request: BuildRequest) -> BuildResult | None:
    """Write a source tree's core metadata without building its wheel.

    :param request: the tree, the output folder and the build environment.

    Return the ``.dist-info`` directory written under ``request.output_dir``, or
    None when this plugin cannot tell without building (roost then builds the
    wheel and reads its metadata). Raise :class:`~roost.errors.BuildError` for a
    project that cannot be prepared. Stops at first non-None result.
    """
    raise NotImplementedError  # pragma: no cover


@hookspec(firstresult=True)
def roost_build_wheel(request: BuildRequest) -> BuildResult | None:
    """Build a wheel (or, for ``kind="editable"``, a PEP 660 editable wheel).

    :param request: the tree, the output folder, the build environment, the config
        settings.

    Return the wheel written under ``request.output_dir``, or None to let the next
    plugin build it (a remote build service may decline some projects). Raise
    :class:`~roost.errors.BuildError` when the build fails. Builds never run
    under the environment's lock. Stops at first non-None result.
    """
    raise NotImplementedError  # pragma: no cover


@hookspec
def roost_filter_candidates(
    project: NormalizedName, candidates: Sequence[CandidateInfo], options: Options
) -> Sequence[Exclusion] | None:
    """Return the candidates of *project* the resolver must not use, with reasons.

    :param project: the normalised project name.
    :param candidates: every file the sources offer for it that suits the target
        (yanked ones included), best first.
    :param options: the command's options.

    Called once per project, when the resolver first looks at its candidates. Every
    implementation is asked; their exclusions add up.
    """
    raise NotImplementedError  # pragma: no cover


@hookspec
def roost_check_download(link: Link, path: str, options: Options) -> Refusal | None:
    """Refuse a file before anything reads it, or return None to let it through.

    :param link: the file as its source listed it.
    :param path: the file on disk, its hashes verified.
    :param options: the command's options.

    Called for every wheel, sdist and archive once it is fetched (or taken from the
    cache), before it is unpacked, built or installed; possibly from several threads.
    Any refusal stops the command.
    """
    raise NotImplementedError  # pragma: no cover


@hookspec
def roost_check_plan(plan: Plan, target: Target, options: Options) -> Sequence[Refusal]:
    """Return reasons to refuse a plan (empty when fine).

    :param plan: every distribution to install, upgrade, downgrade, reinstall or
        remove, with its metadata.
    :param target: the interpreter whose environment changes.
    :param options: the command's options.

    Called once the plan is final and before anything is written; any refusal stops
    the command with the environment untouched.
    """
    raise NotImplementedError  # pragma: no cover
