"""The pieces of the document that installs in a test venv do not reach: licence
spellings, extras that switch on extras, dependency cycles, VCS and credential-bearing
direct URLs. Each document is still checked against the CycloneDX schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from roost_sbom.document import build, dependency_graph, roots, safe_url, serialize
from roost_sbom.environment import Distribution, Environment
from roost_sbom.licences import from_classifier, licences

MARKERS = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.1",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_release": "6.1",
    "platform_system": "Linux",
    "platform_version": "#1",
    "python_full_version": "3.12.1",
    "platform_python_implementation": "CPython",
    "python_version": "3.12",
    "sys_platform": "linux",
}


def environment(*dists: Distribution) -> Environment:
    return Environment(
        executable="/venv/bin/python",
        implementation="CPython",
        version="3.12.1",
        prefix="/venv",
        is_venv=True,
        markers=MARKERS,
        paths=("/venv/lib/python3.12/site-packages",),
        distributions=dists,
    )


def dist(name: str, *requires: str, **fields: Any) -> Distribution:
    direct_url = fields.pop("direct_url", None)
    requested = fields.pop("requested", False)
    return Distribution(
        name=name,
        version="1.0",
        fields={"Requires-Dist": list(requires), **fields},
        direct_url=direct_url,
        requested=requested,
    )


def as_json(env: Environment) -> dict[str, Any]:
    text = serialize(build(env))
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    assert errors is None, [str(error) for error in errors]
    document: dict[str, Any] = json.loads(text)
    return document


def licence_json(distribution: Distribution) -> list[dict[str, Any]]:
    document = as_json(environment(distribution))
    found: list[dict[str, Any]] = document["components"][0].get("licenses", [])
    return found


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"License-Expression": "mit"}, [{"license": {"id": "MIT"}}]),
        (
            {"License-Expression": "Apache-2.0 WITH LLVM-exception", "License": "MIT"},
            [{"expression": "Apache-2.0 WITH LLVM-exception"}],
        ),
        ({"License-Expression": "LicenseRef-Acme"}, [{"expression": "LicenseRef-Acme"}]),
        ({"License": "GPL-2.0-or-later OR MIT"}, [{"expression": "GPL-2.0-or-later OR MIT"}]),
        ({"License": "Dual licensed"}, [{"license": {"name": "Dual licensed"}}]),
        ({"License": "UNKNOWN"}, []),
        (
            {
                "License": "BSD-3-Clause",
                "Classifier": [
                    "License :: OSI Approved",
                    "License :: OSI Approved :: BSD License",
                    "License :: OSI Approved :: Boost Software License 1.0 (BSL-1.0)",
                ],
            },
            [
                {"license": {"id": "BSD-3-Clause"}},
                {"license": {"id": "BSL-1.0"}},
                {"license": {"name": "BSD License"}},
            ],
        ),
    ],
)
def test_licences(fields: dict[str, Any], expected: list[dict[str, Any]]) -> None:
    found = licence_json(dist("demo", **fields))
    for entry in found:
        acknowledged = entry.get("license", entry)
        assert acknowledged.pop("acknowledgement") == "declared"
    assert sorted(found, key=json.dumps) == sorted(expected, key=json.dumps)


def test_a_licence_text_is_attached_under_a_name() -> None:
    text = "Copyright (c) 2024 Acme\n\nPermission is hereby granted, free of charge, ..."
    [entry] = licence_json(dist("demo", License=text))
    assert entry["license"]["name"] == "License text of demo"
    assert entry["license"]["text"]["content"] == text


def test_vague_and_unknown_classifiers() -> None:
    assert from_classifier("License :: OSI Approved") is None
    assert from_classifier("Programming Language :: Python") is None
    public = from_classifier("License :: Public Domain")
    assert public is not None and public.name == "Public Domain"
    assert licences(dist("demo", Classifier=["License :: Freeware"]))[0].name == "Freeware"  # type: ignore[union-attr]


def test_extras_switch_on_extras_and_markers_are_the_interpreters() -> None:
    env = environment(
        dist("app", "lib[x]", "windows-only ; sys_platform == 'win32'", requested=True),
        dist(
            "lib",
            "c ; extra == 'x'",
            "lib[y] ; extra == 'x'",
            "d ; extra == 'y'",
            "e ; extra == 'z'",
        ),
        dist("c"),
        dist("d"),
        dist("e"),
        dist("windows-only"),
    )
    edges = dependency_graph(env)
    assert edges["app"] == {"lib"}
    assert edges["lib"] == {"c", "d"}
    # e (extra z, never asked) and windows-only (marker false) hang from the environment.
    assert roots(env, edges) == ["app", "e", "windows-only"]


def test_a_cycle_nothing_requires_is_still_reached() -> None:
    env = environment(dist("ping", "pong"), dist("pong", "ping"), dist("solo"))
    edges = dependency_graph(env)
    assert edges == {"ping": {"pong"}, "pong": {"ping"}, "solo": set()}
    assert roots(env, edges) == ["solo", "ping"]
    document = as_json(env)
    refs = {d["ref"]: d.get("dependsOn", []) for d in document["dependencies"]}
    assert refs["python-environment"] == ["pkg:pypi/ping@1.0", "pkg:pypi/solo@1.0"]


def test_vcs_direct_url_without_credentials() -> None:
    checkout = dist(
        "tool",
        direct_url={
            "url": "https://builder:s3cret@git.example.org/acme/tool.git",
            "vcs_info": {"vcs": "git", "commit_id": "0" * 40, "requested_revision": "v1"},
        },
    )
    document = as_json(environment(checkout))
    text = json.dumps(document)
    assert "s3cret" not in text
    [component] = document["components"]
    [reference] = component["externalReferences"]
    assert reference["type"] == "vcs"
    assert reference["url"] == f"git+https://builder:****@git.example.org/acme/tool.git@{'0' * 40}"
    assert reference["comment"] == "PEP 610 direct URL: git checkout of v1"
    assert component["purl"].startswith("pkg:pypi/tool@1.0?vcs_url=git%2Bhttps")


def test_ssh_user_is_not_a_secret_but_a_token_is() -> None:
    assert safe_url("ssh://git@github.com/acme/tool.git") == "ssh://git@github.com/acme/tool.git"
    assert safe_url("https://ghp_token@github.com/acme") == "https://****@github.com/acme"


def test_an_editable_directory_and_bad_hashes() -> None:
    document = as_json(
        environment(
            dist("mine", direct_url={"url": "file:///src/mine", "dir_info": {"editable": True}}),
            dist(
                "sdist",
                direct_url={
                    "url": "https://files.example.org/sdist-1.0.tar.gz",
                    "archive_info": {"hashes": {"sha256": "not-hex", "md5": "a" * 32}},
                },
            ),
        )
    )
    found = {c["name"]: c["externalReferences"][0] for c in document["components"]}
    assert found["mine"] == {
        "type": "source-distribution",
        "url": "file:///src/mine",
        "comment": "PEP 610 direct URL: local directory (editable)",
    }
    # The digest the schema would refuse is left out; the good one stays.
    assert found["sdist"]["hashes"] == [{"alg": "MD5", "content": "a" * 32}]
    assert found["sdist"]["type"] == "source-distribution"


def test_the_probe_is_python_3_8_syntax() -> None:
    # It runs inside every target roost installs into, down to Python 3.8.
    import ast
    from pathlib import Path

    import roost_sbom

    source = (Path(roost_sbom.__file__).parent / "_probe.py").read_text(encoding="utf-8")
    ast.parse(source, feature_version=(3, 8))
