"""roost.testing, the pytest plugin for plugin authors, through its public fixtures only.

The wheels are real (make_wheel writes what it is told, valid, and refuses what no wheel
can be), the venvs are real, and run_roost keeps the developer's configuration out and
loads the plugins the tests can import. docs/plugins.md's example test runs here against
the installed demo plugin, pytest loads the plugin once whichever way it is named, and
roost itself never imports it. The roost_index fixture: test_testing_kit_index.py.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from installer.sources import WheelFile

from roost.testing import IndexServer, RoostRunner, VenvMaker, WheelMaker, clean_env

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

ROOT = Path(__file__).resolve().parent.parent
PLUGINS_MD = ROOT / "docs" / "plugins.md"
BOGUS_INDEX = "http://bogus-index.invalid/simple"

# A plugin with one hook, as an installed distribution or a bare module for -p.
KIT_PLUGIN = """\
from roost import hookimpl


@hookimpl
def roost_index_sources(settings):
    return []
"""


def listed_plugins(stdout: str) -> dict[str, str]:
    """``roost plugins`` output as ``{name: origin}``."""
    return {
        line.split(None, 1)[0]: line.split(None, 1)[1].strip()
        for line in stdout.splitlines()
        if line.strip() and not line.startswith(" ")
    }


def docs_section(title: str) -> str:
    text = PLUGINS_MD.read_text(encoding="utf-8")
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def pytest11_entry_points(folder: Path) -> Path:
    """*folder* holding a dist-info with pyproject.toml's ``pytest11`` entry points, as
    installing roost writes them (the editable dev install may predate them)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    table = project["entry-points"]["pytest11"]
    assert table == {"roost.testing": "roost.testing"}
    info = folder / "roost_entry_points-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: roost-entry-points\nVersion: 0\n")
    lines = "".join(f"{name} = {target}\n" for name, target in table.items())
    (info / "entry_points.txt").write_text(f"[pytest11]\n{lines}")
    return folder


def nested_pytest(
    project: Path,
    *args: str,
    pythonpath: Sequence[Path],
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """pytest on *project*/tests in a fresh interpreter, as a plugin author runs it."""
    home = project / "home"
    home.mkdir(exist_ok=True)
    environ = clean_env(home)
    environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    environ.pop("PYTEST_ADDOPTS", None)
    environ["PYTHONPATH"] = os.pathsep.join(str(path) for path in pythonpath)
    environ.update(env or {})
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*command, "-W", "error::pytest.PytestWarning", *args, "tests"],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# -- make_wheel ----------------------------------------------------------------------


def test_make_wheel_writes_what_it_is_told(make_wheel: WheelMaker, tmp_path: Path) -> None:
    path = make_wheel(
        "Kit.Pkg",
        "01.0",
        requires=["delta>=1"],
        tag="py2.py3-none-any",
        files={"kit_pkg/data.json": "{}"},
        entry_points={"roost": {"kit": "kit_pkg"}, "console_scripts": {"kit": "kit_pkg:main"}},
        requires_python=">=3.8",
        summary="made for the kit test",
        classifier=["Framework :: Pytest", "Topic :: Software Development"],
    )
    assert path == tmp_path / "roost-wheels" / "kit_pkg-1.0-py2.py3-none-any.whl"
    with WheelFile.open(path) as wheel:
        wheel.validate_record()
    with zipfile.ZipFile(path) as archive:
        metadata = archive.read("kit_pkg-1.0.dist-info/METADATA").decode()
        entry_points = archive.read("kit_pkg-1.0.dist-info/entry_points.txt").decode()
        tags = archive.read("kit_pkg-1.0.dist-info/WHEEL").decode()
        assert archive.read("kit_pkg/data.json") == b"{}"
    assert "Name: Kit.Pkg\nVersion: 1.0\nSummary: made for the kit test\n" in metadata
    assert "Classifier: Framework :: Pytest\nClassifier: Topic :: Software Development" in metadata
    assert "Requires-Dist: delta>=1" in metadata and "Requires-Python: >=3.8" in metadata
    assert entry_points == "[console_scripts]\nkit = kit_pkg:main\n\n[roost]\nkit = kit_pkg\n"
    assert "Tag: py2-none-any\nTag: py3-none-any\n" in tags
    elsewhere = make_wheel("kit-pkg", "2", folder=tmp_path / "elsewhere")
    assert elsewhere == tmp_path / "elsewhere" / "kit_pkg-2-py3-none-any.whl"


def test_make_wheel_refuses_what_no_wheel_can_be(make_wheel: WheelMaker) -> None:
    with pytest.raises(ValueError, match="not a valid project name"):
        make_wheel("../escape", "1.0")
    with pytest.raises(ValueError, match="INTERPRETER-ABI-PLATFORM"):
        make_wheel("kit", "1.0", tag="py3-none")
    with pytest.raises(ValueError, match="requires-dist"):
        make_wheel("kit", "1.0", requires_dist=["x"])
    with pytest.raises(ValueError, match="scheme"):
        make_wheel("kit", "1.0", data={"nowhere/file": "x"})


# -- roost_venv and run_roost ----------------------------------------------------------


def test_roost_venv_sees_what_roost_installed(
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    run_roost: RoostRunner,
) -> None:
    roost_index.add(make_wheel("Kit_Delta", "1.0"))
    venv, other = roost_venv(), roost_venv()
    assert venv.path != other.path and venv.python.is_file()
    assert not venv.has("kit-delta")
    args = ["--python", str(venv.python), "-i", roost_index.url]
    run_roost("install", *args, "kit-delta", check=True)
    assert venv.has("kit-delta") and venv.has("KIT.delta", "1.0") and venv.has("kit-delta", "1")
    assert not venv.has("kit-delta", "2.0")
    assert venv.installed()["kit-delta"] == "1.0"
    assert not other.has("kit-delta")

    # input= answers the confirmation; "n" keeps the distribution, "y" removes it.
    uninstall = ["uninstall", "--python", str(venv.python), "kit-delta"]
    run_roost(*uninstall, input="n\n")
    assert venv.has("kit-delta", "1.0")
    run_roost(*uninstall, input="y\n", check=True)
    assert not venv.has("kit-delta")

    with pytest.raises(AssertionError, match=r"(?s)exited [1-9].*nowhere"):
        run_roost("install", *args, "nowhere", check=True)
    with pytest.raises(subprocess.TimeoutExpired):
        run_roost("install", *args, "kit-delta", timeout=0.01)


def test_run_roost_keeps_the_developers_configuration_out(
    run_roost: RoostRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    developer = tmp_path / "developer"
    developer.mkdir()
    for key, value in clean_env(developer).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ROOST_INDEX_URL", BOGUS_INDEX)
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", BOGUS_INDEX)

    def as_the_developer(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "roost", *args],
            env=dict(os.environ), cwd=developer, capture_output=True, text=True, check=False,
        )  # fmt: skip

    # The developer's own roost sees all three: the variables and a config file.
    assert as_the_developer("config", "set", "no-deps", "true").returncode == 0
    assert BOGUS_INDEX in as_the_developer("config", "get", "index-url").stdout
    assert BOGUS_INDEX in as_the_developer("config", "get", "extra-index-url").stdout
    assert as_the_developer("config", "get", "no-deps").returncode == 0

    for name in ("index-url", "extra-index-url", "no-deps"):
        child = run_roost("config", "get", name)
        assert child.returncode == 1, (name, child.stdout)
        assert "not set anywhere" in child.stderr
        assert BOGUS_INDEX not in child.stdout + child.stderr
    given = run_roost("config", "get", "index-url", env={"ROOST_INDEX_URL": BOGUS_INDEX})
    assert given.returncode == 0 and BOGUS_INDEX in given.stdout
    where = Path(run_roost("config", "path", check=True).stdout.strip())
    assert where.is_relative_to(run_roost.home)


def test_run_roost_loads_the_plugins_the_tests_can_import(
    make_wheel: WheelMaker,
    run_roost: RoostRunner,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    wheel = make_wheel(
        "roost-kit-plugin", "1.0", module="roost_kit_plugin",
        files={"roost_kit_plugin/__init__.py": KIT_PLUGIN},
        entry_points={"roost": {"kit": "roost_kit_plugin"}},
    )  # fmt: skip
    site = tmp_path / "site"
    run_roost("install", "--python", sys.executable, "--target", str(site), str(wheel), check=True)
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "roost_kit_bare.py").write_text(KIT_PLUGIN)

    before = listed_plugins(run_roost("plugins", check=True).stdout)
    assert "kit" not in before and "simple_index" in before
    missing = run_roost("-p", "roost_kit_bare", "plugins")
    assert "'roost_kit_bare' (-p option) failed to load" in missing.stderr
    assert "roost_kit_bare" not in listed_plugins(missing.stdout)

    # What the test process can import, the child loads: the installed plugin through
    # its entry point, the bare module with -p.
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(bare))
    after = listed_plugins(run_roost("-p", "roost_kit_bare", "plugins", check=True).stdout)
    assert after["kit"] == "roost-kit-plugin 1.0"
    assert after["roost_kit_bare"] == "-p option"
    blocked = run_roost("-p", "no:kit", "plugins", check=True)
    assert "kit" not in listed_plugins(blocked.stdout)


# -- the plugin itself -------------------------------------------------------------------


def test_docs_example_runs_against_the_installed_demo_plugin(
    make_wheel: WheelMaker, run_roost: RoostRunner, tmp_path: Path
) -> None:
    (example,) = python_blocks(docs_section("Testing a plugin with roost.testing"))
    assert len(example.strip().splitlines()) == 10  # what the docs promise
    (demo,) = [b for b in python_blocks(PLUGINS_MD.read_text()) if "roost-demo-plugin:" in b]
    wheel = make_wheel(
        "roost-demo-plugin", "1.0", module="roost_demo_plugin",
        files={"roost_demo_plugin/__init__.py": demo},
        entry_points={"roost": {"demo": "roost_demo_plugin"}},
    )  # fmt: skip
    site = tmp_path / "site"
    run_roost("install", "--python", sys.executable, "--target", str(site), str(wheel), check=True)
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_demo_plugin.py").write_text(example)
    roost = pytest11_entry_points(tmp_path / "roost-entry-points")

    passed = nested_pytest(project, pythonpath=[site, roost])
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "1 passed" in passed.stdout
    # Without the demo plugin the same test fails: it does test the plugin.
    failed = nested_pytest(project, pythonpath=[roost])
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "demo-only" in failed.stdout


@pytest.mark.parametrize(
    ("args", "conftest", "autoload", "passes"),
    [
        pytest.param((), False, True, True, id="entry point"),
        pytest.param(("-p", "roost.testing"), False, True, True, id="entry point and -p"),
        pytest.param((), True, True, True, id="entry point and pytest_plugins"),
        pytest.param(("-p", "roost.testing"), False, False, True, id="-p alone"),
        pytest.param((), True, False, True, id="pytest_plugins alone"),
        pytest.param(("-p", "no:roost.testing"), False, True, False, id="blocked"),
        pytest.param((), False, False, False, id="not loaded"),
    ],
)
def test_pytest_loads_the_plugin_once_however_it_is_named(
    tmp_path: Path, args: tuple[str, ...], conftest: bool, autoload: bool, passes: bool
) -> None:
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_kit.py").write_text(
        "def test_kit(make_wheel, roost_index):\n"
        '    roost_index.add(make_wheel("kit", "1.0"))\n'
        '    assert roost_index.url.startswith("http://127.0.0.1:")\n'
    )
    if conftest:
        (project / "tests" / "conftest.py").write_text('pytest_plugins = ["roost.testing"]\n')
    env = {} if autoload else {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    roost = pytest11_entry_points(tmp_path / "roost-entry-points")
    result = nested_pytest(project, *args, pythonpath=[roost], env=env)
    output = result.stdout + result.stderr
    if passes:
        assert result.returncode == 0, output
        assert "1 passed" in result.stdout
    else:
        assert result.returncode == 1, output
        assert "fixture 'make_wheel' not found" in result.stdout


def test_roost_itself_never_imports_roost_testing(tmp_path: Path) -> None:
    for args in (["--help"], ["plugins"], ["install", "--help"]):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "roost", *args],
            env=clean_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, check=True,
        )  # fmt: skip
        imported = [
            line.rsplit("|", 1)[1].strip()
            for line in result.stderr.splitlines()
            if line.startswith("import time:") and "|" in line
        ]
        assert "roost.cli.main" in imported  # the list is real
        assert [name for name in imported if name.startswith(("roost.testing", "pytest"))] == []
    # ... nor does any module of roost, in any code path.
    for folder in (ROOT / "core", ROOT / "plugins"):
        for path in folder.rglob("*.py"):
            if (ROOT / "core" / "testing") in path.parents:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = (
                    [alias.name for alias in node.names]
                    if isinstance(node, ast.Import)
                    else [f"{node.module}.{alias.name}" for alias in node.names]
                    if isinstance(node, ast.ImportFrom) and node.module
                    else []
                )
                assert not [n for n in names if n.startswith("roost.testing")], path
