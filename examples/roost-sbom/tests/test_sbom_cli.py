"""roost-sbom end to end: real wheels on a loopback index, real venvs, roost's CLI in a
subprocess (the roost.testing fixtures), every SBOM checked against the CycloneDX 1.6
JSON schema by cyclonedx-python-lib's validator.

The plugin must be installed (``pip install -e examples/roost-sbom``): the child roost
loads it through its entry point, as a user's roost would.
"""

from __future__ import annotations

import json
import platform
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

SBOM_NAME = "sbom.cdx.json"


def checked(text: str) -> dict[str, Any]:
    """*text* parsed, once the CycloneDX 1.6 schema has accepted it."""
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    assert errors is None, [str(error) for error in errors]
    document: dict[str, Any] = json.loads(text)
    assert document["bomFormat"] == "CycloneDX"
    assert document["specVersion"] == "1.6"
    return document


def read_sbom(path: Path) -> dict[str, Any]:
    return checked(path.read_text(encoding="utf-8"))


def components(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {component["name"]: component for component in document.get("components", [])}


def summary(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """``{name: (version, purl)}`` of every component."""
    return {name: (c["version"], c["purl"]) for name, c in components(document).items()}


def dependencies(document: dict[str, Any]) -> dict[str, set[str]]:
    return {d["ref"]: set(d.get("dependsOn", [])) for d in document.get("dependencies", [])}


def leftovers(folder: Path) -> list[str]:
    """Temporary files of an atomic write left behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def index(make_wheel: Any, roost_index: Any) -> Any:
    """alpha needs beta; gamma needs beta only for an extra and alpha only on Python 2."""
    roost_index.add(
        make_wheel(
            "alpha",
            "1.0",
            requires=["beta>=1"],
            license_expression="MIT OR Apache-2.0",
            project_url=["Source, https://example.org/alpha.git"],
        )
    )
    roost_index.add(make_wheel("beta", "2.0", license="BSD-3-Clause"))
    roost_index.add(
        make_wheel(
            "gamma",
            "1.0",
            requires=['beta ; extra == "full"', 'alpha ; python_version < "3"'],
            extras=["full"],
            classifier=[
                "Programming Language :: Python :: 3",
                "License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)",
            ],
        )
    )
    return roost_index


def install(run_roost: Any, venv: Any, index: Any, *args: str, **kwargs: Any) -> Any:
    return run_roost("install", "--python", str(venv.python), "-i", index.url, *args, **kwargs)


def test_install_writes_the_sbom_of_the_environment(
    index: Any, roost_venv: Any, run_roost: Any
) -> None:
    venv = roost_venv()
    result = install(run_roost, venv, index, "alpha")
    assert result.returncode == 0, result.stderr
    assert "roost-sbom" not in result.stderr  # no warning of its own

    document = read_sbom(venv.path / SBOM_NAME)
    # Exactly what the venv holds (it has no pip): the one asked for and its dependency.
    assert venv.installed() == {"alpha": "1.0", "beta": "2.0"}
    assert summary(document) == {
        "alpha": ("1.0", "pkg:pypi/alpha@1.0"),
        "beta": ("2.0", "pkg:pypi/beta@2.0"),
    }
    found = components(document)
    assert found["alpha"]["licenses"] == [
        {"expression": "MIT OR Apache-2.0", "acknowledgement": "declared"}
    ]
    assert found["beta"]["licenses"] == [
        {"license": {"id": "BSD-3-Clause", "acknowledgement": "declared"}}
    ]
    assert {"type": "vcs", "url": "https://example.org/alpha.git", "comment": "Source"} in found[
        "alpha"
    ]["externalReferences"]
    assert dependencies(document) == {
        "python-environment": {"pkg:pypi/alpha@1.0"},
        "pkg:pypi/alpha@1.0": {"pkg:pypi/beta@2.0"},
        "pkg:pypi/beta@2.0": set(),
    }
    python = document["metadata"]["component"]
    assert (python["type"], python["name"], python["version"]) == (
        "platform",
        platform.python_implementation(),
        platform.python_version(),
    )
    properties = {p["name"]: p["value"] for p in python["properties"]}
    assert properties["roost-sbom:python:executable"] == str(venv.python)
    assert properties["roost-sbom:python:virtualenv"] == "true"
    tools = {tool["name"] for tool in document["metadata"]["tools"]["components"]}
    assert tools == {"roost", "roost-sbom"}
    assert leftovers(venv.path) == []


def test_a_second_install_updates_the_sbom(index: Any, roost_venv: Any, run_roost: Any) -> None:
    venv = roost_venv()
    install(run_roost, venv, index, "alpha", check=True)
    first = read_sbom(venv.path / SBOM_NAME)

    install(run_roost, venv, index, "gamma", check=True)
    second = read_sbom(venv.path / SBOM_NAME)

    assert second["serialNumber"] != first["serialNumber"]
    assert set(summary(second)) == {"alpha", "beta", "gamma"}
    assert components(second)["gamma"]["licenses"] == [
        {"license": {"id": "GPL-3.0-or-later", "acknowledgement": "declared"}}
    ]
    # gamma's beta is for its extra "full", which nothing asked for, and its alpha is for
    # Python 2: no edge for either.
    edges = dependencies(second)
    assert edges["pkg:pypi/gamma@1.0"] == set()
    assert edges["python-environment"] == {"pkg:pypi/alpha@1.0", "pkg:pypi/gamma@1.0"}


def test_an_extra_asked_for_by_a_dependent_counts(
    make_wheel: Any, index: Any, roost_venv: Any, run_roost: Any
) -> None:
    index.add(make_wheel("delta", "1.0", requires=["gamma[full]"]))
    venv = roost_venv()
    install(run_roost, venv, index, "delta", check=True)
    edges = dependencies(read_sbom(venv.path / SBOM_NAME))
    assert edges["pkg:pypi/delta@1.0"] == {"pkg:pypi/gamma@1.0"}
    assert edges["pkg:pypi/gamma@1.0"] == {"pkg:pypi/beta@2.0"}
    assert edges["python-environment"] == {"pkg:pypi/delta@1.0"}


def test_roost_sbom_prints_the_same_components(
    index: Any, roost_venv: Any, run_roost: Any
) -> None:
    venv = roost_venv()
    install(run_roost, venv, index, "alpha", "gamma", check=True)
    written = read_sbom(venv.path / SBOM_NAME)

    # A venv directory names its interpreter, as for install.
    shown = run_roost("sbom", "--python", str(venv.path))
    assert shown.returncode == 0, shown.stderr
    printed = checked(shown.stdout)
    assert summary(printed) == summary(written)
    assert components(printed) == components(written)
    assert dependencies(printed) == dependencies(written)


def test_roost_sbom_output_and_format(index: Any, roost_venv: Any, run_roost: Any) -> None:
    venv = roost_venv()
    install(run_roost, venv, index, "alpha", "--no-sbom", check=True)
    target = run_roost.home / "out" / "env.cdx.json"

    result = run_roost("sbom", "--python", str(venv.python), "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert set(summary(read_sbom(target))) == {"alpha", "beta"}
    assert leftovers(target.parent) == []

    as_xml = run_roost("sbom", "--python", str(venv.python), "--format", "xml", check=True)
    root = ET.fromstring(as_xml.stdout)
    assert root.tag == "{http://cyclonedx.org/schema/bom/1.6}bom"
    names = {el.text for el in root.iterfind("./{*}components/{*}component/{*}name")}
    assert names == {"alpha", "beta"}

    # --output FILE.xml means XML without --format.
    xml_file = run_roost.home / "env.cdx.xml"
    run_roost("sbom", "--python", str(venv.python), "-o", str(xml_file), check=True)
    assert ET.parse(xml_file).getroot().tag.endswith("}bom")


def test_no_sbom_writes_none(index: Any, roost_venv: Any, run_roost: Any) -> None:
    venv = roost_venv()
    install(run_roost, venv, index, "alpha", "--no-sbom", check=True)
    assert not (venv.path / SBOM_NAME).exists()
    # As a setting too, like every roost option.
    install(run_roost, venv, index, "gamma", env={"ROOST_NO_SBOM": "1"}, check=True)
    assert not (venv.path / SBOM_NAME).exists()
    assert venv.has("gamma", "1.0")


def test_sbom_path_option_and_setting(index: Any, roost_venv: Any, run_roost: Any) -> None:
    venv = roost_venv()
    chosen = run_roost.home / "reports" / "app.cdx.json"
    install(run_roost, venv, index, "alpha", "--sbom", str(chosen), check=True)
    assert set(summary(read_sbom(chosen))) == {"alpha", "beta"}
    assert not (venv.path / SBOM_NAME).exists()

    from_setting = run_roost.home / "setting.cdx.xml"
    install(
        run_roost, venv, index, "gamma", env={"ROOST_SBOM_PATH": str(from_setting)}, check=True
    )
    root = ET.parse(from_setting).getroot()
    names = {el.text for el in root.iterfind("./{*}components/{*}component/{*}name")}
    assert names == {"alpha", "beta", "gamma"}
    assert not (venv.path / SBOM_NAME).exists()


def test_blocked_plugin_adds_nothing(index: Any, roost_venv: Any, run_roost: Any) -> None:
    listed = run_roost("plugins", check=True)
    # Registered under its entry point's name, with the distribution it comes from.
    assert re.search(r"^sbom +roost-sbom 1\.0$", listed.stdout, re.MULTILINE), listed.stdout
    assert "command: sbom" in listed.stdout

    blocked_help = run_roost("-p", "no:sbom", "--help", check=True)
    assert "sbom" not in blocked_help.stdout
    assert "sbom" in run_roost("--help", check=True).stdout

    venv = roost_venv()
    blocked = run_roost("-p", "no:sbom", "sbom", "--python", str(venv.python))
    assert blocked.returncode != 0
    assert "No such command 'sbom'" in blocked.stderr

    installed = run_roost(
        "-p", "no:sbom", "install", "--python", str(venv.python), "-i", index.url, "alpha"
    )
    assert installed.returncode == 0, installed.stderr
    assert venv.has("alpha", "1.0")
    assert not (venv.path / SBOM_NAME).exists()
    # Its options are gone with it.
    refused = run_roost("-p", "no:sbom", "install", "--no-sbom", "--python", str(venv.python))
    assert refused.returncode != 0
    assert "--no-sbom" in refused.stderr


@pytest.mark.parametrize("spoiler", ["file", "directory"])
def test_an_unwritable_sbom_is_a_warning(
    spoiler: str, index: Any, roost_venv: Any, run_roost: Any, tmp_path: Path
) -> None:
    venv = roost_venv()
    if spoiler == "file":
        # A file where the SBOM's directory should be: unwritable even for root.
        (tmp_path / "blocker").write_text("not a directory")
        path = tmp_path / "blocker" / "sbom.cdx.json"
    else:
        path = tmp_path / "taken"
        (path / "inside").mkdir(parents=True)
    result = install(run_roost, venv, index, "alpha", "--sbom", str(path))
    assert result.returncode == 0, result.stderr
    assert f"WARNING: roost-sbom: could not write the SBOM to {path}" in result.stderr
    assert venv.has("alpha", "1.0") and venv.has("beta", "2.0")
    assert (tmp_path / "blocker").is_file() if spoiler == "file" else path.is_dir()
    assert leftovers(tmp_path if spoiler == "file" else path.parent) == []


def test_quiet_twice_silences_the_warning(
    index: Any, roost_venv: Any, run_roost: Any, tmp_path: Path
) -> None:
    (tmp_path / "blocker").write_text("not a directory")
    venv = roost_venv()
    args = ["--python", str(venv.python), "-i", index.url, "--sbom", str(tmp_path / "blocker/x")]
    once = run_roost("-q", "install", *args, "alpha")
    assert once.returncode == 0, once.stderr
    assert "WARNING: roost-sbom: could not write" in once.stderr
    twice = run_roost("-qq", "install", *args, "gamma")
    assert twice.returncode == 0, twice.stderr
    assert "roost-sbom" not in twice.stderr
    assert venv.has("gamma", "1.0")


def test_a_distribution_installed_from_a_url_has_its_direct_url(
    make_wheel: Any, index: Any, roost_venv: Any, run_roost: Any
) -> None:
    local = make_wheel("epsilon", "1.0", folder=run_roost.home / "local-wheels")
    index.add(make_wheel("zeta", "3.0"))
    remote = index.root_url.replace("://", "://builder:s3cret-token@", 1) + "/files/"
    remote += "zeta-3.0-py3-none-any.whl"
    venv = roost_venv()
    install(run_roost, venv, index, str(local), f"zeta @ {remote}", check=True)

    document = read_sbom(venv.path / SBOM_NAME)
    found = components(document)
    local_refs = found["epsilon"]["externalReferences"]
    assert [(r["type"], r["comment"]) for r in local_refs] == [
        ("distribution", "PEP 610 direct URL: wheel")
    ]
    assert local_refs[0]["url"] == local.resolve().as_uri()
    remote_refs = found["zeta"]["externalReferences"]
    assert [(r["type"], r["comment"]) for r in remote_refs] == [
        ("distribution", "PEP 610 direct URL: wheel")
    ]
    assert remote_refs[0]["url"].endswith("/files/zeta-3.0-py3-none-any.whl")
    # A remote archive is named in the purl too; a local path is not.
    assert found["zeta"]["purl"].startswith("pkg:pypi/zeta@3.0?download_url=")
    assert found["epsilon"]["purl"] == "pkg:pypi/epsilon@1.0"
    assert "s3cret-token" not in (venv.path / SBOM_NAME).read_text()


def test_target_install_describes_its_directory(
    index: Any, roost_venv: Any, run_roost: Any, tmp_path: Path
) -> None:
    venv = roost_venv()
    install(run_roost, venv, index, "gamma", check=True)
    layer = tmp_path / "layer"
    install(run_roost, venv, index, "alpha", "--target", str(layer), check=True)

    in_layer = read_sbom(layer / SBOM_NAME)
    assert set(summary(in_layer)) == {"alpha", "beta"}
    # The venv's own SBOM is the one of its first install: --target is elsewhere.
    assert set(summary(read_sbom(venv.path / SBOM_NAME))) == {"gamma"}

    shown = run_roost("sbom", "--python", str(venv.python), "--path", str(layer), check=True)
    assert components(checked(shown.stdout)) == components(in_layer)


def test_roost_sbom_without_an_interpreter_fails_cleanly(run_roost: Any, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-venv"
    result = run_roost("sbom", "--python", str(missing))
    assert result.returncode == 1
    assert "ERROR:" in result.stderr or "Error:" in result.stderr
    assert str(missing) in result.stderr
    assert "Traceback" not in result.stderr


# A PEP 517 backend in the project itself: it needs only the standard library, so the
# build environment holds just what build-system.requires names.
INLINE_BACKEND = """
import base64, hashlib, os, zipfile

NAME, VERSION = "built", "1.0"


def _record(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}\\n"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    info = f"{NAME}-{VERSION}.dist-info"
    files = {
        f"{NAME}/__init__.py": b"",
        f"{info}/METADATA": f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n"
        "License-Expression: ISC\\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: inline\\nRoot-Is-Purelib: true\\n"
        b"Tag: py3-none-any\\n",
    }
    record = "".join(_record(path, data) for path, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\\n").encode()
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return name
"""


def test_the_build_environment_gets_no_sbom(
    make_wheel: Any, index: Any, roost_venv: Any, run_roost: Any, tmp_path: Path
) -> None:
    index.add(make_wheel("build-helper", "1.0"))
    project = tmp_path / "built"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["build-helper"]\n'
        'build-backend = "inline_backend"\nbackend-path = ["."]\n'
    )
    (project / "inline_backend.py").write_text(INLINE_BACKEND)
    venv = roost_venv()
    result = run_roost(
        "-v", "install", "--python", str(venv.python), "-i", index.url, str(project)
    )
    assert result.returncode == 0, result.stderr
    assert venv.installed() == {"built": "1.0"}
    # One SBOM, the venv's: roost's own install of build-helper into the temporary build
    # environment is not the user's and writes none.
    written = [line for line in result.stderr.splitlines() if "roost-sbom: wrote" in line]
    assert written == [
        f"roost-sbom: wrote the SBOM of 1 distribution(s) to {venv.path / SBOM_NAME}"
    ]
    [component] = read_sbom(venv.path / SBOM_NAME)["components"]
    assert component["licenses"] == [{"license": {"id": "ISC", "acknowledgement": "declared"}}]
    assert component["externalReferences"] == [
        {
            "type": "source-distribution",
            "url": project.as_uri(),
            "comment": "PEP 610 direct URL: local directory",
        }
    ]
