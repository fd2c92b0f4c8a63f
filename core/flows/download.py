"""The steps of ``roost download``: gather, describe the target (maybe foreign), resolve, save."""

from __future__ import annotations

import shutil
from pathlib import Path

from roost.flows.invocation import Invocation


def run_download(invocation: Invocation) -> None:
    """``roost download``: resolve for the (maybe foreign) target, save the wheels."""
    from roost.flows.environment import load_target
    from roost.flows.gather import gather, index_sources, session
    from roost.resolve.candidates import Policy, binary_policy
    from roost.resolve.plan import constraint_map, resolve
    from roost.target.foreign import foreign_target

    manager, out = invocation.manager, invocation.out
    inputs = gather(invocation)
    params, settings = inputs.params, inputs.settings
    target = foreign_target(
        load_target(invocation, params, settings),
        platforms=params["platforms"],
        python_version=params["python_version"],
        implementation=params["implementation"],
        abis=params["abis"],
    )
    out.detail(f"resolving for Python {target.full_version}, tags like {target.tags[0]}")
    sources = index_sources(manager, settings, inputs.requirements, out)
    dest = Path(params["dest"]).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    policy = Policy(
        pre=bool(params["pre"]),
        no_deps=bool(params["no_deps"]),
        constraints=constraint_map(inputs.constraints),
        no_binary=binary_policy(params["no_binary"]),
    )
    with session(manager, settings, sources, target, params=params, out=out) as net:
        resolution = resolve(
            inputs.requirements,
            finder=net.finder,
            fetcher=net.fetcher,
            target=target,
            installed={},
            policy=policy,
        )
        for warning in resolution.warnings:
            out.warning(warning)
        futures = [(c, net.fetcher.wheel(c.file.link)) for c in resolution.candidates if c.file]
        saved = []
        for candidate, future in futures:
            path = future.result()
            assert candidate.file is not None
            final = dest / candidate.file.link.filename
            if final.exists() and final.read_bytes() == path.read_bytes():
                out.info(f"File was already downloaded {final}")
            else:
                shutil.copyfile(path, final)
                out.info(f"Saved {final}")
            saved.append(str(candidate.name))
    out.info("Successfully downloaded " + " ".join(saved))
