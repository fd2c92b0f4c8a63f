"""What every resolving command (install, download, wheel, lock) collects before
resolving: settings (with requirements files' options), requirements (with a script's
inline metadata), constraints, index sources, and one HTTP client, finder and fetcher
for the run."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roost.errors import ConfigError, NoIndexConfigured, RoostError
from roost.types import IndexSource, Settings, SettingsLayer, Target, redact_text

if TYPE_CHECKING:
    from roost.flows.invocation import Invocation
    from roost.index.finder import Finder
    from roost.manager import Manager
    from roost.net.client import Client
    from roost.resolve.reqfile import RequirementsFile
    from roost.resolve.requirement_line import ParsedRequirement
    from roost.store.fetch import Fetcher
    from roost.util.output import Output


@dataclass
class Gathered:
    """A command's inputs, with every settings layer applied."""

    settings: Settings
    params: dict[str, Any]
    requirements: list[ParsedRequirement]
    constraints: list[ParsedRequirement]
    files: list[RequirementsFile] = field(default_factory=list)


def reqfile_layer(files: list[RequirementsFile], settings: Settings) -> SettingsLayer | None:
    """Index options written in requirements files, above the command line, as pip has it.

    An index URL in a file replaces the configured one; extra indexes, find-links and
    trusted hosts from files are added to the configured ones.
    """
    values: dict[str, str | tuple[str, ...]] = {}
    for parsed in files:
        if parsed.index_url:
            values["index-url"] = parsed.index_url
        for key, items in (
            ("extra-index-url", parsed.extra_index_urls),
            ("find-links", parsed.find_links),
            ("trusted-host", parsed.trusted_hosts),
        ):
            if items:
                current = values.get(key) or settings.get_list(key)
                values[key] = tuple(current) + tuple(items)
        if parsed.no_index:
            values["no-index"] = "1"
        if parsed.pre:
            values["pre"] = "1"
        # A file's own --require-hashes line (pip's error beside --no-require-hashes);
        # the mode a --hash turns on is decided later (require_hashes), since
        # --no-require-hashes can keep that one off.
        if parsed.require_hashes_line:
            values["require-hashes"] = "1"
        if "no-require-hashes" in parsed.options:
            values["no-require-hashes"] = "1"
    return SettingsLayer("requirements files", values) if values else None


def gather(invocation: Invocation) -> Gathered:
    """Settings, requirements and constraints of the command, as the user gave them."""
    from roost.flows.groups import group_requirements, only_deps
    from roost.resolve.reqfile import parse_requirements_file
    from roost.resolve.requirement_line import parse_editable, parse_requirement_line
    from roost.resolve.script_metadata import only_one_script

    settings = invocation.settings()
    params = invocation.params_for(settings)
    script = only_one_script(tuple(params.get("requirements_from_script") or ()))
    if script is not None and params.get("only_deps"):
        raise RoostError(
            "--only-deps cannot be combined with --requirements-from-script: it installs "
            "the dependencies of the requirements named on the command line, and nothing else"
        )
    only_deps(params)  # refused beside -r and --group before either is read, as pip does
    asked = params
    # Requirements files can carry index options, so read them before the sources.
    files = [parse_requirements_file(path) for path in params.get("requirement_files", ())]
    layer = reqfile_layer(files, settings)
    if layer is not None:
        settings = Settings((layer, *settings.layers))
        params = invocation.params_for(settings)
    params = with_file_selection(asked, params, files)
    requirements = [
        parse_requirement_line(text, "command line") for text in params.get("requirements", ())
    ]
    # PEP 735 groups (--group) join the command line's requirements, as in pip.
    requirements.extend(group_requirements(params.get("groups", ())))
    requirements.extend(
        parse_editable(text, "command line") for text in params.get("editables", ())
    )
    for parsed in files:
        requirements.extend(r for r in parsed.requirements if not r.constraint)
    if script is not None:
        requirements.extend(script_requirements(script))
    constraints = [r for parsed in files for r in parsed.requirements if r.constraint]
    for path in tuple(params.get("constraint_files", ())) + settings.get_list("constraint"):
        constraints.extend(parse_requirements_file(path, constraint=True).requirements)
    if not (requirements or params.get("requirement_files") or script):
        raise nothing_named(invocation.command, params.get("find_links") or ())
    return Gathered(settings, params, requirements, constraints, files)


def with_file_selection(
    asked: dict[str, Any], params: dict[str, Any], files: list[RequirementsFile]
) -> dict[str, Any]:
    """*params* with the selection options requirements files give (``--no-binary``,
    ``--only-binary``, ``--prefer-binary``, ``--all-releases``, ``--only-final``) added
    after the command line's, as pip adds a file's to its finder's.

    *asked* are the options before the files were read: ``--pre`` beside
    ``--all-releases``/``--only-final`` there is pip's error (left for the release
    policy to raise); a ``--pre`` that meets the other two only through a file is read
    as ``--all-releases :all:``, as pip reads it.
    """
    from roost.resolve.release_policy import ALL

    merged = dict(params)
    for parsed in files:
        for key in ("no-binary", "only-binary", "all-releases", "only-final"):
            dest = key.replace("-", "_")
            if parsed.options.get(key):
                merged[dest] = tuple(merged.get(dest) or ()) + tuple(parsed.options[key])
        if "prefer-binary" in parsed.options:
            merged["prefer_binary"] = True
    per_project = ("all_releases", "only_final")
    clash = asked.get("pre") and any(asked.get(key) for key in per_project)
    if merged.get("pre") and any(merged.get(key) for key in per_project) and not clash:
        merged["pre"] = False
        merged["all_releases"] = (*tuple(merged.get("all_releases") or ()), ALL)
    return merged


def script_requirements(script: str) -> list[ParsedRequirement]:
    """The dependencies of *script*'s inline metadata (``--requirements-from-script``),
    read as requirements named on the command line (pip's: no file and line)."""
    from roost.resolve.requirement_line import parse_requirement_line
    from roost.resolve.script_metadata import read_script_metadata

    metadata = read_script_metadata(script)
    origin = f"{redact_text(script)} (inline script metadata)"
    return [parse_requirement_line(text, origin) for text in metadata.dependencies]


def check_script_python(params: Any, target: Target) -> None:
    """Refuse a ``--requirements-from-script`` script whose ``requires-python`` leaves
    out the Python resolved for (unless ``--ignore-requires-python``), as pip does.

    :raises RoostError: it does.
    """
    from roost.resolve.script_metadata import read_script_metadata, script_python_problem

    scripts = tuple(params.get("requirements_from_script") or ())
    if not scripts or params.get("ignore_requires_python"):
        return
    problem = script_python_problem(read_script_metadata(scripts[0]), target.full_version)
    if problem is not None:
        raise RoostError(problem[0].upper() + problem[1:])


def nothing_named(command: str, find_links: Sequence[str]) -> RoostError:
    """pip's error (exit status 1) for a command given no requirement at all.

    Requirements files that name nothing (only comments) are not this: as with pip,
    the command then does nothing and succeeds.
    """
    if find_links:
        hint = f'maybe you meant "roost {command} {" ".join(find_links)}"?'
    else:
        hint = f'see "roost help {command}"'
    return RoostError(f"You must give at least one requirement to {command} ({hint})")


def index_sources(
    manager: Manager,
    settings: Settings,
    requirements: list[ParsedRequirement],
    out: Output,
    *,
    target: Target | None = None,
) -> list[IndexSource]:
    """The sources to ask; a clear error when a named project has nowhere to come from.

    With no ``index-url`` configured (and no ``no-index``), pip's default index is asked
    after the configured ones, read from roost's own pip, else from *target*'s.
    """
    from roost.index.pip_default import with_pip_default
    from roost.net.urls import url_problem
    from roost.util.cache import cache_root

    sources, search = with_pip_default(
        manager.index_sources(settings), settings, target, cache_root(settings)
    )
    if search is not None and search.found is not None:
        default = search.found
        out.detail(
            f"no index-url is configured: asking pip's default index last, read from "
            f"pip {default.version} at {default.location} ({default.found_in})"
        )
    elif search is not None and sources:
        out.warning(
            "no index-url is configured and no pip was found to take pip's default "
            f"index from ({search.explain()}): only the configured sources are asked. "
            "Set --index-url URL, or --no-index to ask only find-links locations."
        )
    for source in sources:
        problem = url_problem(source.url)
        if problem is not None:
            # Said here, naming where the URL was set, not as a traceback from the client.
            raise ConfigError(
                f"the {source.kind} URL {source.display} (from {source.origin or 'a plugin'}) "
                f"is not a valid URL: {redact_text(problem)}"
            )
        out.detail(f"source: {source.kind} {source.display} (from {source.origin})")
    needs_index = any(r.url is None for r in requirements)
    if not sources and needs_index:
        if settings.get_bool("no-index"):
            raise NoIndexConfigured(
                f"--no-index is set (from {settings.origin('no-index')}) and no --find-links "
                "location is configured, so there is nowhere to find packages. Add "
                "-f DIR (a folder of wheels) or drop --no-index."
            )
        from roost.index.finder import no_index_configured_message

        raise NoIndexConfigured(
            no_index_configured_message(None if search is None else search.explain())
        )
    return sources


@dataclass
class Session:
    """The network side of one resolving run."""

    client: Client
    finder: Finder
    fetcher: Fetcher
    downloads: Path


def wheel_cache(settings: Settings, out: Output) -> Any:
    """The wheel cache, or None with ``--no-cache-dir``."""
    from roost.store.wheel_cache import WheelCache
    from roost.util.cache import cache_root

    root = cache_root(settings)
    return None if root is None else WheelCache(root, out.warning)


@contextmanager
def session(
    manager: Manager,
    settings: Settings,
    sources: list[IndexSource],
    target: Target,
    *,
    params: Any,
    out: Output,
) -> Iterator[Session]:
    """One client, finder and fetcher, closed (and their scratch folder removed) after."""
    import tempfile

    from roost.flows.policy import download_check
    from roost.index.finder import Finder, revalidate_pages
    from roost.net.client import Client
    from roost.store.fetch import Fetcher
    from roost.types import Options
    from roost.util.malloc_arenas import limit_malloc_arenas

    check_script_python(params, target)
    limit_malloc_arenas()  # before the look-up, download and unpack threads start
    downloads = Path(tempfile.mkdtemp(prefix="roost-"))
    try:
        with Client(manager, settings) as client:
            # -U asks for what is newest: releases published within a cached page's
            # max-age count.
            if params.get("upgrade"):
                client.refresh = True
            revalidate_pages(client, params.get("refresh_package") or ())
            for source in sources:
                client.remember_credentials(source.url)
            # The options every hook of a resolving run sees (InstallRequest's).
            check = download_check(manager, Options("install", params))
            fetcher = Fetcher(
                client, downloads, wheel_cache(settings, out), warn=out.warning, check=check
            )
            try:
                finder = Finder(
                    manager,
                    client,
                    sources,
                    target,
                    strategy=params.get("index_strategy") or "first-index",
                    ignore_requires_python=bool(params.get("ignore_requires_python")),
                )
                yield Session(client, finder, fetcher, downloads)
            finally:
                fetcher.close()
    finally:
        shutil.rmtree(downloads, ignore_errors=True)
