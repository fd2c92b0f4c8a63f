"""``roost download``: resolve like install, and save the wheels into a folder.

With ``--platform``, ``--python-version``, ``--implementation`` and ``--abi`` it
resolves for another machine (the first stage of a multi-stage build often runs
elsewhere). roost only ever uses wheels, so ``--only-binary=:all:`` is what it does
anyway and is accepted for pip compatibility.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import click

from roost.options import (
    cache_options,
    index_options,
    python_option,
    requirement_file_options,
)
from roost.output import Output


def download_command() -> click.Command:
    @click.command("download")
    @click.argument("requirements", nargs=-1)
    @requirement_file_options("Download from a requirements file.")
    @click.option(
        "-d",
        "--dest",
        "dest",
        default=".",
        metavar="DIR",
        show_default=True,
        help="Where to save the files.",
    )
    @click.option(
        "--platform",
        "platforms",
        multiple=True,
        metavar="PLATFORM",
        help="Wheel platform tag to download for (repeatable), e.g. manylinux2014_x86_64.",
    )
    @click.option(
        "--python-version",
        metavar="VERSION",
        help="Python version to download for: 3.12, 312 or 3.12.1.",
    )
    @click.option("--implementation", metavar="IMPL", help="cp, pp, ip, jy or py.")
    @click.option("--abi", "abis", multiple=True, metavar="ABI", help="ABI tag (repeatable).")
    @click.option(
        "--only-binary",
        "only_binary",
        multiple=True,
        metavar="FORMAT",
        help="roost uses wheels only; accepted for pip compatibility.",
    )
    @click.option(
        "--no-binary",
        "no_binary",
        multiple=True,
        metavar="FORMAT",
        help="Projects that must not come as wheels (roost then stops: it builds nothing).",
    )
    @click.option(
        "--prefer-binary",
        is_flag=True,
        help="Accepted for pip compatibility: roost uses wheels only.",
    )
    @click.option("--no-deps", is_flag=True, help="Do not download dependencies.")
    @click.option("--pre", is_flag=True, help="Allow pre-releases.")
    @cache_options
    @python_option
    @index_options
    @click.pass_context
    def download(ctx: click.Context, /, **_: Any) -> None:
        """Download wheels (and their dependencies) into a folder."""
        run_download(ctx, ctx.find_object(Output) or Output())

    return download


def run_download(ctx: click.Context, out: Output) -> None:
    from roost.foreign import foreign_target
    from roost.gather import gather, index_sources, session
    from roost.install_flow import load_target
    from roost.plan import constraint_map, resolve
    from roost.resolver import Policy, binary_policy

    manager = ctx.meta["roost.manager"]
    inputs = gather(ctx, "download")
    params, settings = inputs.params, inputs.settings
    target = foreign_target(
        load_target(ctx, params, settings),
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
    with session(manager, settings, sources, target, params=params, out=out) as run:
        resolution = resolve(
            inputs.requirements,
            finder=run.finder,
            fetcher=run.fetcher,
            target=target,
            installed={},
            policy=policy,
        )
        for warning in resolution.warnings:
            out.warning(warning)
        futures = [(c, run.fetcher.wheel(c.file.link)) for c in resolution.candidates if c.file]
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
