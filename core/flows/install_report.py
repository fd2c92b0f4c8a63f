"""pip's installation report (``--report``) of what an install will write."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from roost.flows.fetch_plan import link_of

if TYPE_CHECKING:
    from roost.resolve.candidates import Candidate
    from roost.resolve.requirement_line import ParsedRequirement
    from roost.store.fetch import Fetcher
    from roost.types import Target
    from roost.util.output import Output


def write_report(
    where: str,
    todo: list[Candidate],
    fetcher: Fetcher,
    *,
    requirements: list[ParsedRequirement],
    target: Target,
    out: Output,
) -> None:
    """pip's installation report for what this run installs (or would, with --dry-run)."""
    from packaging.utils import canonicalize_name

    from roost.install.report import install_item, report
    from roost.target.installed import parse_metadata

    extras: dict[str, set[str]] = {}
    for parsed in requirements:
        if parsed.requirement is not None:
            name = canonicalize_name(parsed.requirement.name)
            extras.setdefault(name, set()).update(parsed.requirement.extras)
    items = []
    for candidate in todo:
        link = link_of(candidate)
        items.append(
            install_item(
                url=link.url,
                sha256=link.hashes.get("sha256") or fetcher.wheel_sha256(link),
                is_direct=candidate.direct,
                is_yanked=link.yanked is not None,
                requested=candidate.name in extras,
                requested_extras=sorted(extras.get(candidate.name, ())),
                metadata=parse_metadata(fetcher.metadata(link).result()),
            )
        )
    text = report(items, target.markers)
    if where == "-":
        click.echo(text)
    else:
        Path(where).write_text(text + "\n", encoding="utf-8")
        out.detail(f"report written to {where}")
