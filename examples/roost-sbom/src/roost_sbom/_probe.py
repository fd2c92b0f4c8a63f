"""Run inside the target interpreter (Python 3.8 or newer, standard library only): print
what is installed there, as one JSON line after a sentinel.

It is sent with ``python -c``, so it imports nothing of roost-sbom and must keep to the
syntax and library of the oldest Python roost installs into. Argument: a JSON list of
directories to read instead of ``sys.path`` (empty for ``sys.path``).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
import sys
from typing import Any

SENTINEL = "ROOST-SBOM-PROBE:"
# Bounds, so that a strange environment cannot make the answer huge.
MAX_DISTRIBUTIONS = 20000
MAX_FIELD = 65536
MAX_ITEMS = 1000
MAX_DIRECT_URL = 65536
# The fields the SBOM uses; a long description body is never sent.
SINGLE = ("Summary", "License-Expression", "License", "Home-page")
MULTIPLE = ("Classifier", "Requires-Dist", "Project-URL")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def bounded(text: str) -> str:
    return text if len(text) <= MAX_FIELD else text[:MAX_FIELD]


def fields(metadata: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in SINGLE:
        value = metadata.get(key)
        if value is not None:
            found[key] = bounded(str(value))
    for key in MULTIPLE:
        values = metadata.get_all(key) or []
        if key == "Classifier":
            values = [value for value in values if str(value).startswith("License ::")]
        found[key] = [bounded(str(value)) for value in values[:MAX_ITEMS]]
    return found


def direct_url(dist: Any) -> dict[str, Any] | None:
    try:
        text = dist.read_text("direct_url.json")
    except Exception:
        return None
    if not text or len(text) > MAX_DIRECT_URL:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def read_text(dist: Any, name: str) -> str | None:
    try:
        text = dist.read_text(name)
    except Exception:
        return None
    return text if isinstance(text, str) else None


def describe(dist: Any) -> dict[str, Any] | None:
    metadata = dist.metadata
    if metadata is None:
        return None
    name = metadata.get("Name")
    version = metadata.get("Version")
    if not name or not version:
        return None
    return {
        "name": str(name).strip(),
        "version": str(version).strip(),
        "fields": fields(metadata),
        "direct_url": direct_url(dist),
        "requested": read_text(dist, "REQUESTED") is not None,
    }


def markers() -> dict[str, str]:
    info = sys.implementation.version
    implementation_version = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        implementation_version += info.releaselevel[0] + str(info.serial)
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": implementation_version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def main() -> None:
    paths = json.loads(sys.argv[1]) if len(sys.argv) > 1 else []
    # "" is the working directory, which ``-c`` puts first: not part of the environment.
    search = paths or [entry for entry in sys.path if entry]
    seen: set[str] = set()
    found: list[dict[str, Any]] = []
    skipped = 0
    for dist in importlib.metadata.distributions(path=search):
        try:
            described = describe(dist)
        except Exception:
            described = None
        if described is None:
            skipped += 1
            continue
        key = canonical(described["name"])
        # The first of a name on the path is the one that imports, as pip list shows.
        if key in seen:
            continue
        seen.add(key)
        found.append(described)
        if len(found) >= MAX_DISTRIBUTIONS:
            break
    answer = {
        "executable": sys.executable,
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "prefix": sys.prefix,
        "is_venv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
        "markers": markers(),
        "paths": search,
        "distributions": found,
        "skipped": skipped,
    }
    sys.stdout.write("\n" + SENTINEL + json.dumps(answer) + "\n")


if __name__ == "__main__":  # as ``python -c``; importing it does nothing
    main()
