"""pip's installation report (``--report``, format version "1"), written by roost.

Tools that read pip's report read this one: the same keys, with ``roost_version``
in place of ``pip_version``.
"""

from __future__ import annotations

import email.message
import json
from collections.abc import Mapping, Sequence
from typing import Any

from roost.net.urls import split_credentials

# Core-metadata fields that may appear more than once become lists (PEP 566).
MULTIPLE_USE = frozenset(
    {
        "dynamic",
        "platform",
        "supported_platform",
        "classifier",
        "requires_dist",
        "requires_external",
        "project_url",
        "provides_extra",
        "provides_dist",
        "obsoletes_dist",
        "license_file",
        "requires",
        "provides",
        "obsoletes",
    }
)


def metadata_json(message: email.message.Message) -> dict[str, Any]:
    """Core metadata as JSON, the way PEP 566 says to convert it."""
    result: dict[str, Any] = {}
    for raw_key in dict.fromkeys(message.keys()):
        key = raw_key.lower().replace("-", "_")
        values = [str(v) for v in message.get_all(raw_key) or []]
        if key == "keywords":
            text = values[0] if values else ""
            separator = "," if "," in text else None
            result[key] = [k.strip() for k in text.split(separator) if k.strip()]
        elif key in MULTIPLE_USE:
            result[key] = values
        else:
            result[key] = values[0]
    body = message.get_payload()
    if isinstance(body, str) and body.strip() and "description" not in result:
        result["description"] = body
    return result


def install_item(
    *,
    url: str,
    sha256: str | None,
    is_direct: bool,
    is_yanked: bool,
    requested: bool,
    requested_extras: Sequence[str],
    metadata: email.message.Message,
) -> dict[str, Any]:
    bare, _ = split_credentials(url)
    archive: dict[str, Any] = {}
    if sha256:
        archive = {"hash": f"sha256={sha256}", "hashes": {"sha256": sha256}}
    item: dict[str, Any] = {
        "download_info": {"url": bare, "archive_info": archive},
        "is_direct": is_direct,
        "is_yanked": is_yanked,
        "requested": requested,
        "metadata": metadata_json(metadata),
    }
    if requested_extras:
        item["requested_extras"] = sorted(requested_extras)
    return item


def report(items: Sequence[Mapping[str, Any]], environment: Mapping[str, str]) -> str:
    from roost.version import __version__

    return json.dumps(
        {
            "version": "1",
            "roost_version": __version__,
            "install": list(items),
            "environment": dict(environment),
        },
        indent=2,
    )
