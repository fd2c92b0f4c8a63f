"""Build one source (a directory, an archive, a VCS URL) into a wheel through the build hooks.

The source is obtained (:mod:`roost.build.sources`), given a build environment
(:mod:`roost.build.environment`), and handed to ``roost_build_wheel``; the wheel
that comes back is checked to be a wheel, of the project, in the output folder.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from roost.build import BuildOptions
from roost.build.environment import Installer, IsolatedEnvironment, TargetEnvironment
from roost.build.sources import SourceTree, obtain
from roost.build.vcs import is_vcs, parse_vcs_url
from roost.build.wheel_cache import BuiltWheelCache, cache_key
from roost.errors import BuildError
from roost.manager import Manager
from roost.types import BuildEnvironment, BuildRequest


def src_folder(given: str | None, *, prefix: str, is_venv: bool) -> Path:
    """Where ``-e`` checks VCS URLs out (pip's ``--src``): *given*, else
    ``<prefix>/src`` for a virtual environment, else ``./src``."""
    if given:
        return Path(os.path.abspath(os.path.expanduser(given)))
    return Path(prefix, "src") if is_venv else Path(os.path.abspath("src"))


@dataclass(frozen=True)
class BuiltWheel:
    """A wheel built from a source, and the ``direct_url.json`` of that source."""

    wheel: Path
    direct_url: Mapping[str, object]
    #: ``wheel`` or ``editable``.
    kind: str


class Builder:
    """Builds sources for one target interpreter; scratch folders live under *scratch*."""

    def __init__(
        self,
        manager: Manager,
        *,
        python: str,
        scratch: Path,
        installer: Installer,
        check: Callable[[str, Sequence[str], str], None] | None = None,
        options: BuildOptions | None = None,
        log: Callable[[str], None] = lambda _: None,
        cache: BuiltWheelCache | None = None,
        tag: str = "",
    ) -> None:
        self._manager = manager
        self._python = python
        self._scratch = scratch
        self._installer = installer
        self._check = check
        self._options = options or BuildOptions()
        self._log = log
        self._cache = cache
        self._tag = tag
        self._environments: dict[Path, BuildEnvironment] = {}

    def _environment(self, folder: Path) -> BuildEnvironment:
        # One environment per source folder: preparing metadata and then building the
        # same source install the build's requirements once.
        known = self._environments.get(folder)
        if known is not None:
            return known
        made: BuildEnvironment
        if self._options.isolation:
            made = IsolatedEnvironment(self._python, folder, self._installer)
        else:
            made = TargetEnvironment(
                self._python, self._check if self._options.check_build_dependencies else None
            )
        self._environments[folder] = made
        return made

    def prepare_metadata(self, tree: SourceTree, folder: Path) -> str | None:
        """The core metadata ``roost_prepare_metadata`` writes for *tree*, or None when no
        plugin can tell without building the wheel."""
        output = folder / "metadata"
        output.mkdir(parents=True, exist_ok=True)
        result = self._manager.prepare_metadata(
            BuildRequest(
                source_dir=str(tree.path),
                kind="wheel",
                output_dir=str(output),
                environment=self._environment(folder),
                # -C reaches only what the user named (pip's rule); an sdist the
                # resolver found is prepared with none.
                config_settings={},
                display=tree.display,
                timeout=self._options.timeout,
                settings=self._options.settings,
            )
        )
        if result is None:
            return None
        metadata = Path(result.path) / "METADATA"
        inside = os.path.realpath(metadata).startswith(os.path.realpath(output) + os.sep)
        if not inside or not metadata.is_file():
            raise BuildError(
                f"preparing the metadata of {tree.display}: the backend reported "
                f"{result.path}, which is not a .dist-info folder holding METADATA in {output}"
            )
        return metadata.read_text(encoding="utf-8", errors="replace")

    def build(
        self,
        url: str,
        *,
        editable: bool,
        download: Callable[[str], tuple[Path, str]],
        config_settings: Mapping[str, str | tuple[str, ...]] | None = None,
        name: str | None = None,
    ) -> BuiltWheel:
        """Obtain the source *url* names and build its wheel (editable with *editable*).

        A source that cannot change (an archive, by its sha256; a git or Mercurial URL
        pinned to a full commit id) is built once per target and config settings, then
        taken from the built-wheel cache. *name*, the project the requirement names,
        names the checkout folder of an editable VCS URL (else its ``#egg=``).
        """
        kind = "editable" if editable else "wheel"
        settings = dict(config_settings or {})
        pinned = self._pinned_vcs(url) if not editable else None
        if pinned is not None:
            hit = self.cached(pinned, kind, settings)
            if hit is not None:
                return hit
        self._scratch.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="build-", dir=self._scratch))
        src = self._options.src_dir
        tree = obtain(
            url,
            editable=editable,
            scratch=folder,
            download=download,
            src_dir=None if src is None else Path(src),
            name=name,
        )
        cacheable = pinned is not None or (not editable and "archive_info" in tree.direct_url)
        return self.build_source(tree, folder, kind=kind, config=settings, cacheable=cacheable)

    def build_source(
        self,
        tree: SourceTree,
        folder: Path,
        *,
        kind: str,
        config: Mapping[str, str | tuple[str, ...]],
        cacheable: bool,
    ) -> BuiltWheel:
        """Build *tree*, through the built-wheel cache when the source cannot change."""
        if cacheable:
            hit = self.cached(tree.direct_url, kind, config)
            if hit is not None:
                return hit
        built = self.build_tree(tree, folder, kind=kind, config=config)
        if cacheable and self._cache is not None:
            kept = self._cache.put(self._key(tree.direct_url, kind, config), built.wheel)
            return BuiltWheel(kept, built.direct_url, kind)
        return built

    def _pinned_vcs(self, url: str) -> dict[str, object] | None:
        """The direct_url.json of a VCS URL pinned to a revision that cannot move (a full
        git commit id or Mercurial node), known before anything is checked out."""
        if not is_vcs(url):
            return None
        try:
            source = parse_vcs_url(url)
        except BuildError:
            return None  # obtain() says what is wrong with it
        if not source.immutable or source.revision is None:
            return None
        return source.direct_url(source.revision)

    def _key(
        self,
        direct: Mapping[str, object],
        kind: str,
        settings: Mapping[str, str | tuple[str, ...]],
    ) -> str:
        # What the source *is*, not where it was found: an archive by its hash, a
        # checkout by its commit.
        identity: dict[str, object] = {"subdirectory": direct.get("subdirectory")}
        archive = direct.get("archive_info")
        vcs = direct.get("vcs_info")
        if isinstance(archive, Mapping):
            identity["archive_sha256"] = archive.get("hashes", {}).get("sha256")
        elif isinstance(vcs, Mapping):
            identity["commit"] = vcs.get("commit_id")
        return cache_key(identity, kind=kind, tag=self._tag, config_settings=settings)

    def cached(
        self,
        direct: Mapping[str, object],
        kind: str,
        settings: Mapping[str, str | tuple[str, ...]],
    ) -> BuiltWheel | None:
        """The wheel built before from the source *direct* describes (an archive by its
        sha256, a checkout by its commit), for this target and these settings."""
        if self._cache is None:
            return None
        wheel = self._cache.get(self._key(direct, kind, settings))
        if wheel is None:
            return None
        self._log(f"built before: {wheel.name} (from the built-wheel cache)")
        return BuiltWheel(wheel, direct, kind)

    def build_tree(
        self,
        tree: SourceTree,
        folder: Path,
        *,
        kind: str,
        config: Mapping[str, str | tuple[str, ...]] | None = None,
    ) -> BuiltWheel:
        output = folder / "dist"
        output.mkdir(parents=True, exist_ok=True)
        settings = dict(config or {})
        self._log(f"building {tree.display} ({kind})")
        result = self._manager.build_wheel(
            BuildRequest(
                source_dir=str(tree.path),
                kind=kind,
                output_dir=str(output),
                environment=self._environment(folder),
                config_settings=settings,
                display=tree.display,
                timeout=self._options.timeout,
                settings=self._options.settings,
            )
        )
        if result.output:
            self._log(result.output.rstrip())
        wheel = Path(result.path)
        inside = os.path.realpath(wheel).startswith(os.path.realpath(output) + os.sep)
        if not (inside and wheel.is_file() and wheel.name.endswith(".whl")):
            raise BuildError(
                f"building {tree.display}: the backend reported {result.path}, which is not "
                f"a wheel file in the output folder {output}"
            )
        try:
            parse_wheel_filename(wheel.name)
        except InvalidWheelFilename as exc:
            raise BuildError(
                f"building {tree.display} gave an invalid wheel name: {exc}"
            ) from None
        return BuiltWheel(wheel, tree.direct_url, kind)
