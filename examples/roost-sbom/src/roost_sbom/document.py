"""The CycloneDX document of an environment: one component per distribution, the
interpreter as the described component, and the dependency graph from ``Requires-Dist``.

Everything goes through cyclonedx-python-lib's model and serializers, so the output is
what its schemas accept.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from typing import Any
from urllib.parse import urlsplit

from cyclonedx.exception.model import InvalidUriException
from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.dependency import Dependency
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.output.xml import XmlV1Dot6
from packageurl import PackageURL
from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from roost.types import redact_url
from roost_sbom.environment import Distribution, Environment
from roost_sbom.licences import licences

#: The bom-ref of the described component, the environment's interpreter.
ENVIRONMENT_REF = "python-environment"
#: Namespace of the properties this plugin adds.
PROPERTY_PREFIX = "roost-sbom:"
FORMATS = ("json", "xml")

# Hash names of PEP 610 ``archive_info`` (hashlib's) and the length of their hex digest.
_HASHES = {
    "md5": (HashAlgorithm.MD5, 32),
    "sha1": (HashAlgorithm.SHA_1, 40),
    "sha256": (HashAlgorithm.SHA_256, 64),
    "sha384": (HashAlgorithm.SHA_384, 96),
    "sha512": (HashAlgorithm.SHA_512, 128),
}
# Project-URL labels (normalised as PEP 753 does) by the reference type they mean.
_LABELS = {
    "homepage": ExternalReferenceType.WEBSITE,
    "home": ExternalReferenceType.WEBSITE,
    "source": ExternalReferenceType.VCS,
    "sourcecode": ExternalReferenceType.VCS,
    "repository": ExternalReferenceType.VCS,
    "github": ExternalReferenceType.VCS,
    "code": ExternalReferenceType.VCS,
    "documentation": ExternalReferenceType.DOCUMENTATION,
    "docs": ExternalReferenceType.DOCUMENTATION,
    "issues": ExternalReferenceType.ISSUE_TRACKER,
    "issuetracker": ExternalReferenceType.ISSUE_TRACKER,
    "bugtracker": ExternalReferenceType.ISSUE_TRACKER,
    "bugs": ExternalReferenceType.ISSUE_TRACKER,
    "tracker": ExternalReferenceType.ISSUE_TRACKER,
    "changelog": ExternalReferenceType.RELEASE_NOTES,
    "changes": ExternalReferenceType.RELEASE_NOTES,
    "releasenotes": ExternalReferenceType.RELEASE_NOTES,
    "download": ExternalReferenceType.DISTRIBUTION,
}


def _key(name: str) -> str:
    """*name* normalised (PEP 503), as a plain string."""
    return str(canonicalize_name(name))


def _version_of(distribution: str) -> str | None:
    try:
        return installed_version(distribution)
    except PackageNotFoundError:
        return None


def purl(dist: Distribution) -> PackageURL:
    """``pkg:pypi/<normalised name>@<version>``; a distribution installed from a VCS or a
    remote archive says so in the ``vcs_url`` or ``download_url`` qualifier."""
    qualifiers: dict[str, str] = {}
    direct = dist.direct_url or {}
    url = direct.get("url")
    if isinstance(url, str) and not url.startswith("file:"):
        vcs = direct.get("vcs_info")
        if isinstance(vcs, dict) and isinstance(vcs.get("vcs"), str):
            commit = vcs.get("commit_id")
            qualifiers["vcs_url"] = f"{vcs['vcs']}+{safe_url(url)}" + (
                f"@{commit}" if isinstance(commit, str) else ""
            )
        elif isinstance(direct.get("archive_info"), dict):
            qualifiers["download_url"] = safe_url(url)
    return PackageURL(
        type="pypi",
        name=_key(dist.name),
        version=dist.version,
        qualifiers=qualifiers or None,
    )


def bom_ref(dist: Distribution) -> str:
    return f"pkg:pypi/{_key(dist.name)}@{dist.version}"


def safe_url(url: str) -> str:
    """*url* without its password or token (``git@`` of an SSH URL is kept: not a secret)."""
    netloc = urlsplit(url).netloc
    if netloc.startswith("git@") and netloc.count("@") == 1:
        return url
    return redact_url(url)


def _reference(
    kind: ExternalReferenceType,
    url: str,
    comment: str | None,
    hashes: Iterable[HashType] = (),
) -> ExternalReference | None:
    try:
        return ExternalReference(type=kind, url=XsUri(url), comment=comment, hashes=hashes)
    except (InvalidUriException, ValueError):
        return None


def _archive_hashes(archive: Mapping[str, Any]) -> list[HashType]:
    pairs: dict[str, str] = {}
    declared = archive.get("hashes")
    if isinstance(declared, dict):
        pairs.update({str(k): str(v) for k, v in declared.items()})
    legacy = archive.get("hash")
    if isinstance(legacy, str) and "=" in legacy:
        name, _, value = legacy.partition("=")
        pairs.setdefault(name, value)
    found = []
    for name, value in sorted(pairs.items()):
        known = _HASHES.get(name.lower())
        digest = value.lower()
        # A digest the schema would reject is left out rather than spoil the document.
        if known and len(digest) == known[1] and all(c in "0123456789abcdef" for c in digest):
            found.append(HashType(alg=known[0], content=digest))
    return found


def direct_url_reference(direct: Mapping[str, Any]) -> ExternalReference | None:
    """The PEP 610 ``direct_url.json`` of a distribution installed by URL or path."""
    url = direct.get("url")
    if not isinstance(url, str) or not url:
        return None
    url = safe_url(url)
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict) and isinstance(vcs.get("vcs"), str):
        commit = vcs.get("commit_id")
        requested = vcs.get("requested_revision")
        note = f"PEP 610 direct URL: {vcs['vcs']} checkout"
        note += f" of {requested}" if isinstance(requested, str) else ""
        at = f"@{commit}" if isinstance(commit, str) else ""
        return _reference(ExternalReferenceType.VCS, f"{vcs['vcs']}+{url}{at}", note)
    directory = direct.get("dir_info")
    if isinstance(directory, dict):
        editable = " (editable)" if directory.get("editable") else ""
        return _reference(
            ExternalReferenceType.SOURCE_DISTRIBUTION,
            url,
            f"PEP 610 direct URL: local directory{editable}",
        )
    archive = direct.get("archive_info")
    archive = archive if isinstance(archive, dict) else {}
    is_wheel = urlsplit(url).path.endswith(".whl")
    return _reference(
        ExternalReferenceType.DISTRIBUTION
        if is_wheel
        else ExternalReferenceType.SOURCE_DISTRIBUTION,
        url,
        "PEP 610 direct URL: wheel" if is_wheel else "PEP 610 direct URL: archive",
        _archive_hashes(archive),
    )


def _project_references(dist: Distribution) -> list[ExternalReference]:
    found: list[ExternalReference | None] = []
    home = dist.field("Home-page")
    if home and home.strip() and home.strip().upper() != "UNKNOWN":
        found.append(_reference(ExternalReferenceType.WEBSITE, home.strip(), "Home-page"))
    for entry in dist.fields_list("Project-URL"):
        label, sep, url = entry.partition(",")
        if not sep or not url.strip():
            continue
        key = "".join(c for c in label.lower() if c.isalnum())
        kind = _LABELS.get(key, ExternalReferenceType.OTHER)
        found.append(_reference(kind, url.strip(), label.strip() or None))
    return [reference for reference in found if reference is not None]


def component(dist: Distribution) -> Component:
    references = _project_references(dist)
    if dist.direct_url:
        direct = direct_url_reference(dist.direct_url)
        if direct is not None:
            references.append(direct)
    summary = dist.field("Summary")
    return Component(
        type=ComponentType.LIBRARY,
        name=dist.name,
        version=dist.version,
        bom_ref=bom_ref(dist),
        purl=purl(dist),
        description=(summary.strip() or None) if summary else None,
        licenses=licences(dist),
        external_references=references,
    )


def _marker_holds(requirement: Requirement, markers: Mapping[str, str], extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    for extra in ("", *sorted(extras)):
        try:
            if requirement.marker.evaluate({**markers, "extra": extra}):
                return True
        except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
            return False
    return False


def dependency_graph(env: Environment) -> dict[str, set[str]]:
    """``{name: names it requires}`` over the installed distributions (normalised names):
    a ``Requires-Dist`` counts when its marker holds for the interpreter, with the extras
    that installed dependents ask for, and names a distribution that is installed."""
    by_name = {_key(dist.name): dist for dist in env.distributions}
    requires: dict[str, list[Requirement]] = {}
    for key, dist in by_name.items():
        parsed = []
        for line in dist.fields_list("Requires-Dist"):
            try:
                parsed.append(Requirement(line))
            except InvalidRequirement:
                continue
        requires[key] = parsed
    extras: dict[str, set[str]] = {key: set() for key in by_name}
    edges: dict[str, set[str]] = {key: set() for key in by_name}
    # An extra switched on can switch others on. A round that changes anything switches
    # on an extra some requirement names, so their count bounds the rounds.
    rounds = 1 + sum(len(req.extras) for reqs in requires.values() for req in reqs)
    for _ in range(rounds):
        changed = False
        for key, reqs in requires.items():
            for requirement in reqs:
                needed = _key(requirement.name)
                if needed not in by_name or not _marker_holds(
                    requirement, env.markers, extras[key]
                ):
                    continue
                if needed != key:
                    edges[key].add(needed)
                wanted = {_key(extra) for extra in requirement.extras}
                if not wanted <= extras[needed]:
                    extras[needed] |= wanted
                    changed = True
        if not changed:
            break
    return edges


def roots(env: Environment, edges: Mapping[str, set[str]]) -> list[str]:
    """What the environment itself depends on: distributions the user asked for, those
    nothing requires, and one of each cycle nothing else reaches."""
    requested = {_key(d.name) for d in env.distributions if d.requested}
    required = set().union(*edges.values()) if edges else set()
    chosen = sorted(key for key in edges if key in requested or key not in required)
    reached: set[str] = set()

    def reach(start: str) -> None:
        pending = [start]
        while pending:
            current = pending.pop()
            if current not in reached:
                reached.add(current)
                pending.extend(edges[current] - reached)

    for key in chosen:
        reach(key)
    for key in sorted(edges):
        if key not in reached:
            chosen.append(key)
            reach(key)
    return chosen


def _refs(components: Mapping[str, Component], keys: Iterable[str]) -> list[Dependency]:
    return [Dependency(ref=components[key].bom_ref) for key in sorted(keys)]


def build(env: Environment) -> Bom:
    """The CycloneDX BOM of *env*."""
    bom = Bom()
    python = Component(
        type=ComponentType.PLATFORM,
        name=env.implementation,
        version=env.version,
        bom_ref=ENVIRONMENT_REF,
        description="The Python environment this SBOM describes: its interpreter and "
        "every distribution it sees",
        properties=[
            Property(name=f"{PROPERTY_PREFIX}python:executable", value=env.executable),
            Property(name=f"{PROPERTY_PREFIX}python:prefix", value=env.prefix),
            Property(name=f"{PROPERTY_PREFIX}python:virtualenv", value=str(env.is_venv).lower()),
            *(Property(name=f"{PROPERTY_PREFIX}python:path", value=path) for path in env.paths),
        ],
    )
    bom.metadata.component = python
    for name in ("roost-sbom", "roost"):
        tool_version = _version_of(name)
        bom.metadata.tools.components.add(
            Component(
                type=ComponentType.APPLICATION,
                name=name,
                version=tool_version,
                purl=PackageURL(type="pypi", name=name, version=tool_version),
            )
        )
    components = {_key(dist.name): component(dist) for dist in env.distributions}
    bom.components = components.values()
    edges = dependency_graph(env)
    # Built here rather than with Bom.register_dependency, which searches the whole list
    # for every edge it adds.
    bom.dependencies = [
        Dependency(ref=python.bom_ref, dependencies=_refs(components, roots(env, edges))),
        *(
            Dependency(ref=comp.bom_ref, dependencies=_refs(components, edges[key]))
            for key, comp in components.items()
        ),
    ]
    return bom


def serialize(bom: Bom, output_format: str = "json") -> str:
    """*bom* as CycloneDX 1.6 JSON or XML text."""
    if output_format not in FORMATS:
        raise ValueError(f"unknown SBOM format {output_format!r}")
    # The library warns about choices this document makes on purpose (such as the
    # deprecated fields it leaves empty): roost's output is no place for them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if output_format == "xml":
            return XmlV1Dot6(bom).output_as_string(indent=2) + "\n"
        return JsonV1Dot6(bom).output_as_string(indent=2) + "\n"
