"""``roost wheel``: build what needs building, resolve, and save every wheel into a folder."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from roost.flows.invocation import Invocation


def run_wheel(invocation: Invocation) -> None:
    """Wheels of the requirements and their dependencies, built or fetched, in ``-w DIR``."""
    from roost.flows.download import save_copy
    from roost.flows.environment import load_target
    from roost.flows.gather import gather, index_sources, session
    from roost.flows.install import build_stage, lazy_builder
    from roost.flows.request import InstallRequest
    from roost.flows.sdists import SourceDistributions
    from roost.flows.stages import Helpers, resolve_stage

    manager, out = invocation.manager, invocation.out
    inputs = gather(invocation)
    params = inputs.params
    if not inputs.requirements:
        # pip's wheel with a requirements file naming nothing: the folder, nothing else.
        Path(params["wheel_dir"]).mkdir(parents=True, exist_ok=True)
        return
    request = InstallRequest.from_gathered(inputs)
    target = load_target(invocation, params, request.settings)
    sources = index_sources(manager, request.settings, request.requirements, out, target=target)
    dest = Path(params["wheel_dir"]).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="roost-build-"))
    helpers = Helpers(None, None)
    try:
        with session(manager, request.settings, sources, target, params=params, out=out) as net:
            builder = lazy_builder(
                request, manager=manager, target=target, net=net, out=out, scratch=scratch
            )
            request = build_stage(request, params, builder=builder, fetcher=net.fetcher)
            resolution = resolve_stage(
                request,
                net,
                target=target,
                installed={},
                helpers=helpers,
                manager=manager,
                out=out,
                sdists=SourceDistributions(builder, net.fetcher, scratch),
            )
            if request.hashed:
                # pip's hash-checking mode, as for install: every requirement pinned,
                # every file saved vouched for by a --hash (checked as it arrives).
                from roost.resolve.hash_mode import check_hashed, check_pinned

                check_pinned(request.requirements)
                check_hashed(resolution.candidates, net.fetcher)
            files = [c.file for c in resolution.candidates if c.file is not None]
            futures = [(file, net.fetcher.wheel(file.link)) for file in files]
            # pip's "Downloading"/"Using cached" line of each file, before the "Saved"s.
            net.fetcher.say = out.info
            for file, future in futures:
                future.result()
                net.fetcher.announce(file.link)
            saved = []
            for file, future in futures:
                path = future.result()
                final = dest / file.link.filename
                save_copy(path, final, out, already=f"File was already in {dest}: {final.name}")
                saved.append(f"{file.name}-{file.version}")
    finally:
        helpers.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    out.info("Successfully built or saved " + " ".join(saved))
