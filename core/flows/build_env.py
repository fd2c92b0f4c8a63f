"""Filling build environments with roost's own install stages, and checking them.

What a build asks for (``build-system.requires``, then ``get_requires_for_build_*``)
is resolved from the run's indexes, with its credentials, TLS and proxies, and
installed into the build's venv from the unpacked store, so a build environment costs
a few hard links once the backend has been fetched. ``--build-constraint`` lines (never
``-c``) constrain it, and their ``--hash`` values check it; in hash-checking mode the
builder builds only archives a ``--hash`` vouched for. A build dependency with no
fitting wheel is built from its sdist, in a build environment of its own (pip's
nested builds; :mod:`roost.flows.sdists` bounds the nesting and refuses cycles).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roost.build.builder import Builder, BuiltWheel
from roost.build.sources import SourceTree, public_url
from roost.errors import BuildError
from roost.flows.request import InstallRequest
from roost.flows.stages import Helpers, resolve_and_install
from roost.types import Options, Target
from roost.util.output import Output

if TYPE_CHECKING:
    from roost.flows.gather import Session
    from roost.manager import Manager
    from roost.resolve.candidates import Candidate
    from roost.resolve.requirement_line import ParsedRequirement
    from roost.store.fetch import Fetcher


class RunBuilder(Builder):
    """A builder that holds sources to the run's ``--hash`` lines.

    The wheel built from an archive a ``--hash`` vouched for is vouched for in turn, by
    its own sha256, so hash-checking mode installs it. In hash-checking mode a source
    no ``--hash`` vouched for is neither built nor has its metadata prepared: its
    backend is code nobody vouched for.
    """

    def __init__(self, manager: Manager, *, fetcher: Fetcher, hashed: bool, **kw: Any) -> None:
        super().__init__(manager, **kw)
        self._fetcher = fetcher
        self._hashed = hashed

    def _vouched(self, tree: SourceTree) -> bool:
        info = tree.direct_url.get("archive_info")
        if not isinstance(info, Mapping):
            return False
        sha256 = str(info.get("hashes", {}).get("sha256", "")).lower()
        url = tree.direct_url.get("url")
        for key, hashes in list(self._fetcher.pinned.items()):
            if sha256 in {v.lower() for v in hashes.get("sha256", ())}:
                return True
            # The fetcher held the file to these hashes as it arrived from that URL.
            if public_url(key.partition("#")[0]) == url:
                return True
        return False

    def _guard(self, tree: SourceTree) -> None:
        if self._hashed and not self._vouched(tree):
            from roost.resolve.hash_mode import unvouched_source

            info = tree.direct_url.get("archive_info")
            sha256 = info.get("hashes", {}).get("sha256") if isinstance(info, Mapping) else None
            raise unvouched_source(tree.display, None if sha256 is None else str(sha256))

    def prepare_metadata(self, tree: SourceTree, folder: Path) -> str | None:
        self._guard(tree)
        return super().prepare_metadata(tree, folder)

    def cached(
        self,
        direct: Mapping[str, object],
        kind: str,
        settings: Mapping[str, str | tuple[str, ...]],
    ) -> BuiltWheel | None:
        # In hash-checking mode a wheel is vouched for only through the archive it was
        # built from, once that is checked: never taken from the cache by a page's word.
        return None if self._hashed else super().cached(direct, kind, settings)

    def build_source(
        self,
        tree: SourceTree,
        folder: Path,
        *,
        kind: str,
        config: Mapping[str, str | tuple[str, ...]],
        cacheable: bool,
    ) -> BuiltWheel:
        self._guard(tree)
        built = super().build_source(tree, folder, kind=kind, config=config, cacheable=cacheable)
        if self._vouched(tree):
            from roost.net.hashing import file_hashes

            digest = file_hashes(built.wheel)["sha256"]
            self._fetcher.pinned[built.wheel.resolve().as_uri()] = {"sha256": (digest,)}
        return built


def make_builder(
    request: InstallRequest,
    *,
    manager: Manager,
    target: Target,
    net: Session,
    out: Output,
    scratch: Path,
) -> Builder:
    """A builder for *target*'s interpreter whose environments roost fills itself."""

    def installer(python: str, requirements: Sequence[str], why: str) -> None:
        install_for_build(
            python,
            requirements,
            why,
            request=request,
            manager=manager,
            net=net,
            out=out,
            scratch=scratch,
        )

    from roost.build.wheel_cache import BuiltWheelCache
    from roost.util.cache import cache_root

    root = cache_root(request.settings)
    return RunBuilder(
        manager,
        fetcher=net.fetcher,
        hashed=request.hashed,
        python=target.executable,
        scratch=scratch,
        installer=installer,
        check=lambda python, reqs, why: check_installed(python, reqs, why, request),
        options=request.build,
        log=out.detail,
        cache=None if root is None else BuiltWheelCache(root / "built"),
        tag=target.tags[0] if target.tags else "",
    )


def _target(python: str, request: InstallRequest) -> Target:
    from roost.target.interpreter import introspect
    from roost.util.cache import cache_root

    return introspect(python, cache_dir=cache_root(request.settings))


def install_for_build(
    python: str,
    requirements: Sequence[str],
    why: str,
    *,
    request: InstallRequest,
    manager: Manager,
    net: Session,
    out: Output,
    scratch: Path,
) -> None:
    """Install *requirements* into the build venv of *python*, quietly, as one install.

    Constrained by the build constraints, never by ``-c`` (pip 26.2's rule); the
    sub-request keeps them, so a build this install needs is constrained the same way.
    ``--no-binary``, ``--only-binary``, ``--prefer-binary``, the pre-release choices
    (``--pre``, ``--all-releases``, ``--only-final``) and the upload cut-off hold here
    too, as pip passes them on to its build environments; an sdist the resolution
    keeps is built in a nested build environment of its own.
    """
    import functools
    import tempfile

    from roost.flows.fetch_plan import unpacked_store
    from roost.flows.sdists import SourceDistributions
    from roost.resolve.candidates import Policy
    from roost.resolve.hash_mode import check_build_hashes
    from roost.resolve.plan import constraint_map
    from roost.resolve.requirement_line import parse_requirement_line

    out.detail(f"installing the build's {why}: {', '.join(requirements)}")
    target = _target(python, request)
    scheme = target.default_scheme
    quiet = Output(verbose=out.verbose, quiet=max(out.quiet, 1))
    constraints = _applicable(request.build_constraints, target)
    sub = replace(
        request,
        # The user's option values (a plugin's --policy-file, say) reach the hooks of
        # this install too; only the progress bars stay off for it.
        options=Options("install", {**request.options.values, "progress_bar": "off"}),
        requirements=[parse_requirement_line(text, why) for text in requirements],
        policy=Policy(
            constraints=constraint_map(constraints),
            no_binary=request.policy.no_binary,
            only_binary=request.policy.only_binary,
            prefer_binary=request.policy.prefer_binary,
            # pip hands its build installs --pre (as --all-releases :all:), the
            # --all-releases/--only-final choices and --uploaded-prior-to; the last two
            # also reach this install's candidate filter through the option values.
            pre=request.policy.pre,
            releases=request.policy.releases,
            uploaded_before=request.policy.uploaded_before,
        ),
        # In hash-checking mode nothing is fetched while resolving, and no earlier
        # resolution is reused: the files are checked first, below.
        hashed=request.hashed,
        dry_run=False,
        ignore_installed=False,
        report=None,
        explicit_location=False,
        root=None,
        direct_urls={},
    )
    helpers = Helpers(unpacked_store(request.settings), None)
    nested = Path(tempfile.mkdtemp(prefix="nested-", dir=scratch))

    @functools.cache
    def builder() -> Builder:
        # Made only when a build dependency has no fitting wheel.
        return make_builder(sub, manager=manager, target=target, net=net, out=out, scratch=nested)

    try:

        def checked(todo: list[Candidate]) -> bool:
            check_build_hashes(todo, constraints, net.fetcher, required=request.hashed, why=why)
            return True

        resolve_and_install(
            sub,
            net,
            target=target,
            scheme=scheme,
            helpers=helpers,
            manager=manager,
            out=quiet,
            sdists=SourceDistributions(builder, net.fetcher, nested),
            checked=checked,
        )
    finally:
        helpers.stop()


def _applicable(
    constraints: Sequence[ParsedRequirement], target: Target
) -> list[ParsedRequirement]:
    """The build constraints whose marker holds for *target* (a line without one does)."""
    markers = dict(target.markers)
    return [c for c in constraints if c.marker is None or c.marker.evaluate(markers)]


def check_installed(
    python: str, requirements: Sequence[str], why: str, request: InstallRequest
) -> None:
    """``--check-build-dependencies``: every requirement is met in *python* already."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    from roost.flows.environment import with_user_site
    from roost.target.installed import index, scan

    target = _target(python, request)
    found = index(scan(with_user_site(target)))
    missing = []
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            raise BuildError(f"the build's {why} holds an invalid requirement: {exc}") from None
        if requirement.marker is not None and not requirement.marker.evaluate(
            dict(target.markers)
        ):
            continue
        have = found.get(canonicalize_name(requirement.name))  # type: ignore[call-overload]
        if have is None or not requirement.specifier.contains(have.version, prereleases=True):
            missing.append(text if have is None else f"{text} (found {have.version})")
    if missing:
        raise BuildError(
            f"missing build dependencies ({why}): {', '.join(missing)}. Install them into "
            f"{python}, or drop --no-build-isolation."
        )
