"""The steps of ``roost download``: gather, describe the target (maybe foreign), build
what must be built to learn its dependencies, resolve, save.

What is saved is what pip saves: each index file the resolution keeps (a wheel, or an
sdist when no wheel fits), an archive a requirement names (fetched, or copied from its
path), and for a VCS URL a ``<name>-<version>.zip`` of the checkout. A project
directory is built to read its dependencies, and itself saved nowhere.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from roost.flows.invocation import Invocation

if TYPE_CHECKING:
    from roost.resolve.candidates import Candidate
    from roost.resolve.requirement_line import ParsedRequirement
    from roost.store.fetch import Fetcher
    from roost.util.output import Output


def run_download(invocation: Invocation) -> None:
    """``roost download``: resolve for the (maybe foreign) target, save the files."""
    from roost.flows.environment import load_target
    from roost.flows.gather import gather, index_sources, session
    from roost.flows.install import (
        build_stage,
        check_nothing_built_for_foreign,
        lazy_builder,
        refuse_sources,
    )
    from roost.flows.policy import candidate_filter
    from roost.flows.request import InstallRequest
    from roost.flows.sdists import SourceDistributions
    from roost.resolve.candidates import without_requested
    from roost.resolve.plan import resolve
    from roost.target.foreign import foreign_target

    manager, out = invocation.manager, invocation.out
    inputs = gather(invocation)
    params = inputs.params
    if not inputs.requirements:
        # Requirements files that name nothing: pip makes the folder and saves nothing.
        Path(params["dest"]).mkdir(parents=True, exist_ok=True)
        return
    request = InstallRequest.from_gathered(inputs)
    check_nothing_built_for_foreign(params, request.policy)
    here = load_target(invocation, params, request.settings)
    target = foreign_target(
        here,
        platforms=params["platforms"],
        python_version=params["python_version"],
        implementation=params["implementation"],
        abis=params["abis"],
    )
    foreign = target is not here
    if foreign:
        refuse_sources(request.requirements)
    out.detail(f"resolving for Python {target.full_version}, tags like {target.tags[0]}")
    sources = index_sources(manager, request.settings, request.requirements, out, target=here)
    dest = Path(params["dest"]).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="roost-build-"))
    try:
        with session(manager, request.settings, sources, target, params=params, out=out) as net:
            builder = lazy_builder(
                request, manager=manager, target=target, net=net, out=out, scratch=scratch
            )
            named = request.requirements
            checkouts = _check_out(named, scratch, net.fetcher)
            request = replace(request, requirements=[checkouts.get(id(p), p) for p in named])
            request = build_stage(request, params, builder=builder, fetcher=net.fetcher)
            # Another machine's sdists cannot be built here to learn their
            # dependencies: for a foreign target only wheels are candidates (with
            # --no-deps, pip's other way in, an sdist is saved unbuilt).
            sdists = None if foreign else SourceDistributions(builder, net.fetcher, scratch)
            resolution = resolve(
                request.requirements,
                finder=net.finder,
                fetcher=net.fetcher,
                target=target,
                installed={},
                policy=request.policy,
                source_metadata=None if sdists is None else sdists.metadata,
                exclude=candidate_filter(manager, request.options),
            )
            for warning in resolution.warnings:
                out.warning(warning)
            resolution.candidates = without_requested(resolution.candidates, request.policy)
            built = set(request.direct_urls)
            if request.hashed:
                from roost.resolve.hash_mode import check_hashed, check_pinned

                # Before anything is saved: a file no --hash vouches for is not kept.
                check_pinned(request.requirements)
                check_hashed(
                    [c for c in resolution.candidates if c.file and c.file.link.url not in built],
                    net.fetcher,
                )
            futures = [
                (c.file, net.fetcher.wheel(c.file.link))
                for c in resolution.candidates
                if c.file is not None and c.file.link.url not in built
            ]
            saved = [str(file.name) for file, _future in futures]
            # pip's "Downloading"/"Using cached" line for each file, then the "Saved" lines.
            net.fetcher.say = out.info
            for file, future in futures:
                future.result()
                net.fetcher.announce(file.link)
            for file, future in futures:
                final = dest / file.link.filename
                save_copy(
                    future.result(), final, out, already=f"File was already downloaded {final}"
                )
            by_wheel = {
                c.file.link.url: c
                for c in resolution.candidates
                if c.file is not None and c.file.link.url in built
            }
            # The build stage keeps the requirements' order: the i-th names the wheel
            # built from the i-th source.
            for parsed, wheel in zip(named, request.requirements, strict=True):
                candidate = by_wheel.get(wheel.url or "")
                if candidate is not None:
                    saved += _save_source(
                        parsed, checkouts, candidate, fetcher=net.fetcher, dest=dest, out=out
                    )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out.info("Successfully downloaded " + " ".join(saved))


def _check_out(
    requirements: list[ParsedRequirement], scratch: Path, fetcher: Fetcher
) -> dict[int, ParsedRequirement]:
    """Each VCS requirement checked out, and rewritten to name its checkout folder.

    The checkout is both what is built (to learn the dependencies) and what is saved.
    """
    from roost.build.sources import is_vcs, obtain
    from roost.flows.builds import downloader

    found: dict[int, ParsedRequirement] = {}
    for number, parsed in enumerate(requirements):
        if parsed.url is None or parsed.constraint or not is_vcs(parsed.url):
            continue
        folder = scratch / f"vcs-{number}"
        folder.mkdir(parents=True)
        tree = obtain(
            parsed.url, editable=False, scratch=folder, download=downloader(fetcher, parsed)
        )
        found[id(parsed)] = replace(parsed, url=tree.path.as_uri())
    return found


def _save_source(
    parsed: ParsedRequirement,
    checkouts: Mapping[int, ParsedRequirement],
    candidate: Candidate,
    *,
    fetcher: Fetcher,
    dest: Path,
    out: Output,
) -> list[str]:
    """Save what *parsed* (built into *candidate*) names, as pip does; the
    ``name-version`` saved, if anything was."""
    from roost.build.sources import is_archive
    from roost.flows.builds import downloader

    checkout = checkouts.get(id(parsed))
    url = checkout.url if checkout is not None else parsed.url
    assert url is not None
    if checkout is None and (parsed.editable or not is_archive(url)):
        return []  # a project directory: built to read its dependencies, saved nowhere
    name, version = candidate.name, candidate.version
    if checkout is not None:
        from roost.types import file_url_path

        archive = dest / f"{name}-{version}.zip"
        _zip_tree(Path(file_url_path(url)), archive, str(name))
        out.info(f"Saved {display_path(archive)}")
    else:
        path, _sha256 = downloader(fetcher, parsed)(url)
        filename = os.path.basename(url.partition("#")[0].rstrip("/"))
        final = dest / filename
        save_copy(path, final, out, already=f"File was already downloaded {final}")
    return [str(name)]


def save_copy(path: Path, final: Path, out: Output, *, already: str) -> None:
    """Copy *path* to *final* unless the same bytes are there already (then say
    *already*), as pip's download and wheel commands keep an identical file."""
    import filecmp

    # Compared in chunks: a wheel can be larger than is worth holding in memory twice.
    if final.exists() and filecmp.cmp(path, final, shallow=False):
        out.info(already)
    else:
        shutil.copyfile(path, final)
        out.info(f"Saved {display_path(final)}")


def display_path(path: Path) -> str:
    """*path* as pip shows a saved file: ``./dist/x.whl`` below the working folder,
    else as it is."""
    try:
        return os.path.join(".", path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _zip_tree(root: Path, archive: Path, name: str) -> None:
    """*root* as pip archives a checkout: every folder and file under ``<name>/``.

    The VCS metadata comes along (pip keeps it), so a backend that reads its version
    from the repository (setuptools-scm) still can when the zip is built later.
    Written beside *archive* and renamed, so an interrupted run leaves no half zip.
    """
    partial = archive.with_name(archive.name + ".part")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for folder, dirnames, filenames in os.walk(root):
            dirnames.sort()
            here = Path(folder)
            for dirname in dirnames:
                info = zipfile.ZipInfo(f"{name}/{(here / dirname).relative_to(root)}/")
                info.external_attr = 0o40755 << 16
                zf.writestr(info, "")
            for filename in sorted(filenames):
                path = here / filename
                if path.is_symlink() or not path.is_file():
                    continue  # links and devices are not carried into an archive
                zf.write(path, f"{name}/{path.relative_to(root)}")
    os.replace(partial, archive)
