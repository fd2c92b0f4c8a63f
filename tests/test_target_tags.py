"""roost's markers and tags for every interpreter on the machine equal packaging's in it.

The probe reports facts with the target's standard library only; roost computes the
markers and tags. Each case runs a real ``packaging`` release inside the target (the
newest one that supports it, fetched by nox) and compares, in order.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.version import Version

from roost.target.interpreter import introspect, probe
from roost.target.tags import native_linux_first, tags_from_facts
from tests.support.envs import installed, make_venv, need_debian, need_pyenv, run_roost
from tests.support.fetched import fetched_wheel
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec

PYTHONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "debian"]

_PACKAGING_ANSWER = """\
import json, sys
sys.path.insert(0, sys.argv[1])
import packaging
from packaging import markers, tags
assert packaging.__file__.startswith(sys.argv[1]), packaging.__file__
print(json.dumps({
    "version": packaging.__version__,
    "tags": [str(tag) for tag in tags.sys_tags()],
    "markers": dict(markers.default_environment()),
}))
"""


def base_python(which: str) -> Path:
    return need_debian() if which == "debian" else need_pyenv(which)


def python_version(python: Path) -> str:
    out = subprocess.run(
        [str(python), "-c", "import platform; print(platform.python_version())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def packaging_answer(python: Path, env: dict[str, str]) -> dict[str, object]:
    """What ``packaging`` says inside *python* (the newest release that supports it)."""
    wheel = fetched_wheel("packaging", python_version(python))
    out = subprocess.run(
        [str(python), "-c", _PACKAGING_ANSWER, str(wheel)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    answer: dict[str, object] = json.loads(out.stdout)
    return answer


@pytest.mark.parametrize("in_venv", [False, True], ids=["base", "venv"])
@pytest.mark.parametrize("which", PYTHONS)
def test_markers_and_tags_equal_packaging_in_the_target(
    which: str, in_venv: bool, tmp_path: Path, env: dict[str, str]
) -> None:
    python = base_python(which)
    if in_venv:
        python = make_venv(tmp_path / "venv", python)
    expected = packaging_answer(python, env)

    target = introspect(str(python), cache_dir=None, env=env)
    assert dict(target.markers) == expected["markers"]

    # The order of native linux_* tags changed in packaging 26.3: compare with the
    # rule of the release that answered, and the whole set with roost's own rule.
    facts = probe(str(python), env)["platform"]
    rule = Version(str(expected["version"])) >= Version("26.3")
    assert tags_from_facts(facts, native_first=rule) == expected["tags"]
    assert set(target.tags) == set(expected["tags"])  # type: ignore[arg-type]
    assert list(target.tags) == tags_from_facts(facts, native_first=native_linux_first())
    assert len(target.tags) == len(set(target.tags))


_STDLIB_ONLY = """\
import sys
before = set(sys.modules)
namespace = {"__name__": "roost_introspect", "__file__": sys.argv[1]}
with open(sys.argv[1], encoding="utf-8") as handle:
    exec(compile(handle.read(), sys.argv[1], "exec"), namespace)
namespace["describe"](list(sys.path))
new = {name.partition(".")[0] for name in set(sys.modules) - before}
# sysconfig's build data module is the standard library's, named per platform.
new = {name for name in new if not name.startswith("_sysconfigdata_")}
stdlib = set(sys.stdlib_module_names) | set(sys.builtin_module_names)
print(sorted(new - stdlib))
"""


@pytest.mark.parametrize("version", ["3.10", "3.13"])
def test_probe_imports_only_the_standard_library(version: str, env: dict[str, str]) -> None:
    import roost.target._introspect

    python = need_pyenv(version)
    out = subprocess.run(
        [str(python), "-I", "-c", _STDLIB_ONLY, roost.target._introspect.__file__],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def tag_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """six (a real wheel) and, per Python, a wheel only that Python's platform tag fits."""
    index = PackageIndex(tmp_path_factory.mktemp("tag-index"))
    index.add(fetched_wheel("six", "3.8"))
    machine = subprocess.run(
        ["uname", "-m"], check=True, capture_output=True, text=True
    ).stdout.strip()
    for minor in range(8, 14):
        index.add(
            WheelSpec(
                "platonly",
                f"1.{minor}",
                tag=f"cp3{minor}-cp3{minor}-manylinux_2_17_{machine}",
                root_is_purelib=False,
                files={"platonly/__init__.py": f"MINOR = {minor}\n"},
            )
        )
    with IndexServer(index) as server:
        yield server


_IMPORT_BOTH = "import platonly, six, sys; print(platonly.MINOR, six.__file__, sys.prefix)"


@pytest.mark.parametrize("version", PYTHONS[:-1])
def test_install_into_a_venv_of_each_python(
    version: str, tmp_path: Path, env: dict[str, str], tag_index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", need_pyenv(version))
    result = run_roost(
        "install", "--python", str(venv), "-i", tag_index.url, "six", "platonly", env=env
    )
    assert result.returncode == 0, result.stderr
    minor = int(version.split(".")[1])
    versions = installed(venv, env)
    assert set(versions) == {"platonly", "six"}
    assert versions["platonly"] == f"1.{minor}"
    out = subprocess.run(
        [str(venv), "-c", _IMPORT_BOTH], check=True, capture_output=True, text=True, env=env
    )
    got_minor, six_file, prefix = out.stdout.split()
    assert int(got_minor) == minor
    assert six_file.startswith(str(tmp_path / "venv" / "lib"))
    assert prefix == str(tmp_path / "venv")


def test_user_install_into_debian_python(
    tmp_path: Path, env: dict[str, str], tag_index: IndexServer
) -> None:
    python = need_debian()
    result = run_roost(
        "install",
        "--python",
        str(python),
        "--user",
        "--break-system-packages",
        "-i",
        tag_index.url,
        "six",
        "platonly",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    out = subprocess.run(
        [str(python), "-c", _IMPORT_BOTH], check=True, capture_output=True, text=True, env=env
    )
    got_minor, six_file, _ = out.stdout.split()
    assert got_minor == "11"  # Debian 12's python3 is 3.11: the cp311 wheel was chosen
    assert six_file.startswith(str(Path(env["HOME"]) / ".local" / "lib" / "python3.11"))
