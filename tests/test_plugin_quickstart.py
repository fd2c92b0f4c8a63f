"""docs/plugins.md's promises to plugin authors, kept as a plugin author would see them.

The quickstart project (a plugin that adds a command, in about 20 lines, and its test
in 10 written with roost.testing) is written out exactly as the docs show it,
installed next to a roost that roost itself built from this tree and installed into a
fresh venv, and its test runs there with pytest; with the plugin uninstalled, the
same test fails. The table of hooks that can refuse says what the user then sees:
each shape is checked against a real refusal. And every hook has a realistic example
in docs/hooks.md, indexed from docs/plugins.md.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

from roost.testing import IndexServer, RoostRunner, VenvMaker, WheelMaker
from tests.support.envs import clean_env, make_venv, run_roost
from tests.support.fetched import wheels_dir

ROOT = Path(__file__).resolve().parent.parent
PLUGINS_MD = ROOT / "docs" / "plugins.md"
HOOKS_MD = ROOT / "docs" / "hooks.md"

# "`path/in/the/project`:", a blank line, then the file's content in a fenced block.
FILE_BLOCK = re.compile(r"^`([^`\s]+)`:\n\n```[a-z]*\n(.*?)^```\n", re.MULTILINE | re.DOTALL)


def docs_section(title: str) -> str:
    """The text of docs/plugins.md's ``## title`` section, up to the next heading."""
    text = PLUGINS_MD.read_text(encoding="utf-8")
    return re.split(r"\n##+ ", text.split(f"\n## {title}\n", 1)[1], maxsplit=1)[0]


def docs_files(title: str) -> dict[str, str]:
    """The files a section shows, by their path in the project."""
    files = dict(FILE_BLOCK.findall(docs_section(title)))
    assert files, f"docs/plugins.md's section {title!r} shows no file"
    return files


def lines_of_code(text: str) -> int:
    return len([line for line in text.splitlines() if line.strip()])


# -- the quickstart, against an installed roost -------------------------------------


def dependencies_folder(folder: Path) -> Path:
    """*folder* holding links to what the running interpreter has installed, roost
    excepted: roost's dependencies (and pytest) for a venv that has only roost, without
    a network to fetch them from. Read-only: nothing in the venv installs into it."""
    folder.mkdir()
    paths = sysconfig.get_paths()
    for site in dict.fromkeys((paths["purelib"], paths["platlib"])):
        for entry in Path(site).iterdir():
            name = entry.name.lower()
            skipped = name.startswith(("roost", "__editable__", "__pycache__"))
            if skipped or name.endswith((".pth", ".egg-link")):
                continue  # roost itself, any roost plugin, the dev install's hooks
            if not (folder / entry.name).exists():
                (folder / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    return folder


def roost_source(folder: Path) -> Path:
    """What building roost's wheel reads, copied: the build writes into its tree."""
    folder.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, folder / name)
    for name in ("core", "plugins"):
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def venv_with_installed_roost(base: Path, env: dict[str, str]) -> Path:
    """A fresh venv (its python returned) where roost is what a user gets: the wheel
    built from this tree, installed, its dependencies visible through a .pth file."""
    python = make_venv(base / "venv")
    deps = dependencies_folder(base / "deps")
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    (Path(site) / "roost-dependencies.pth").write_text(f"{deps}\n")
    # roost from this tree builds and installs roost (setuptools from the test wheels).
    wheels = str(wheels_dir())
    run_roost(
        "install", "--python", str(python), "--no-deps", "--no-index", "--find-links", wheels,
        str(roost_source(base / "roost-source")), env=env, check=True,
    )  # fmt: skip
    where = subprocess.run(
        [python, "-c", "import roost; print(roost.__file__)"],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(site), f"roost imported from {where}, not {site}"
    return python


def plugin_tests(
    project: Path, python: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """``pytest`` on the project's tests, run by the venv's Python, as its author runs it."""
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*command, "-W", "error::pytest.PytestWarning", "tests"],
        cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_quickstart_plugin_passes_its_test_against_an_installed_roost(tmp_path: Path) -> None:
    plugin = docs_files("A plugin in 20 lines")
    test = docs_files("Its test in 10 lines")
    assert set(plugin) == {"src/roost_count.py", "pyproject.toml"}
    assert set(test) == {"tests/test_count.py"}
    assert lines_of_code(plugin["src/roost_count.py"]) <= 20  # what the headings promise
    assert lines_of_code(test["tests/test_count.py"]) <= 10
    project = tmp_path / "roost-count"
    for path, text in {**plugin, **test}.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(text, encoding="utf-8")

    home = tmp_path / "home"
    home.mkdir()
    # No bytecode: the dependencies are the running interpreter's own files.
    env = {**clean_env(home), "PYTHONDONTWRITEBYTECODE": "1"}
    for variable in ("PYTEST_ADDOPTS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_PLUGINS"):
        env.pop(variable, None)
    python = venv_with_installed_roost(tmp_path, env)

    def venv_roost(*args: str) -> subprocess.CompletedProcess[str]:
        """The installed roost, as `python -m roost` in the venv."""
        return subprocess.run(
            [python, "-m", "roost", *args],
            cwd=home, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    # The plugin goes next to roost, installed by that roost from the project's folder.
    wheels = str(wheels_dir())
    installing = venv_roost(
        "install", "--python", str(python), "--no-index", "--find-links", wheels,
        f"{project}[test]",
    )  # fmt: skip
    assert installing.returncode == 0, installing.stdout + installing.stderr
    listing = venv_roost("plugins")
    assert re.search(r"^count +roost-count 1\.0$", listing.stdout, re.MULTILINE), listing.stdout
    assert "command: count" in listing.stdout

    passed = plugin_tests(project, python, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "2 passed" in passed.stdout

    # Without the plugin, the same tests fail: they do test it.
    removing = venv_roost("uninstall", "--python", str(python), "-y", "roost-count")
    assert removing.returncode == 0, removing.stdout + removing.stderr
    assert "command: count" not in venv_roost("plugins").stdout
    failed = plugin_tests(project, python, env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "2 failed" in failed.stdout


# -- hooks that can refuse: what the user sees --------------------------------------

# One plugin that refuses at the point $ACME_REFUSE names.
REFUSING_PLUGIN = """\
import os

from roost import Refusal, hookimpl
from roost.errors import RoostError
from roost.policy_types import Exclusion


def refusing(point):
    return os.environ.get("ACME_REFUSE") == point


@hookimpl
def roost_check_install(target, scheme, options):
    if not refusing("check_install"):
        return []
    return [
        Refusal("acme", "Python out of support here.", ("use another Python",)),
        Refusal("acme", "Another guard's reason.", ("its remedy",)),
    ]


@hookimpl
def roost_filter_candidates(project, candidates, options):
    if refusing("filter_candidates"):
        return [Exclusion(version="1.0", reason="CVE-2024-0001 affects it")]
    return []


@hookimpl
def roost_check_download(link, path, options):
    if refusing("check_download"):
        return Refusal("whatever", "no valid signature", ("sign it",))
    return None


@hookimpl
def roost_check_plan(plan, target, options):
    if refusing("check_plan"):
        return [Refusal("whatever", "GPL-3.0-only is not allowed", ("ask legal",))]
    return []


@hookimpl
def roost_install_event(event, options):
    if refusing("install_event") and event.kind == "install":
        raise RoostError("the audit log is unreachable")
"""

REFUSALS = {
    "check_install": [
        "ERROR: Python out of support here.\n  - use another Python\n\n"
        "Another guard's reason.\n  - its remedy\n"
    ],
    "filter_candidates": [
        "ERROR: ",
        "\n  delta 1.0 excluded by policy: CVE-2024-0001 affects it (acme_refusals)\n",
    ],
    "check_download": [
        "ERROR: delta-1.0-py3-none-any.whl (from {index}) was refused once downloaded; "
        "roost stopped before unpacking, building, installing or saving it:\n"
        "  acme_refusals: no valid signature\n    - sign it\n"
    ],
    "check_plan": [
        "ERROR: the install plan (1 distribution(s) in {purelib}) was refused; "
        "nothing was changed:\n"
        "  acme_refusals: GPL-3.0-only is not allowed\n    - ask legal\n"
    ],
    "install_event": [
        "ERROR: installing delta 1.0 (delta-1.0-py3-none-any.whl) failed: RoostError: "
        "the audit log is unreachable; every change was undone and the environment is as "
        "it was before.\n"
    ],
}


@pytest.fixture
def refusing_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """REFUSING_PLUGIN as a module run_roost's child can import; its name for ``-p``."""
    folder = tmp_path / "plugin"
    folder.mkdir()
    (folder / "acme_refusals.py").write_text(REFUSING_PLUGIN)
    monkeypatch.syspath_prepend(str(folder))
    return "acme_refusals"


@pytest.mark.parametrize("point", list(REFUSALS))
@pytest.mark.usefixtures("refusing_plugin")
def test_what_the_user_sees_when_a_hook_refuses(
    point: str,
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    run_roost: RoostRunner,
) -> None:
    roost_index.add(make_wheel("delta", "1.0"))
    venv = roost_venv()
    args = ["install", "--python", str(venv.python), "-i", roost_index.url, "delta"]

    result = run_roost("-p", "acme_refusals", *args, env={"ACME_REFUSE": point})
    assert result.returncode == 1, result.stdout + result.stderr
    purelib = subprocess.run(
        [venv.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    for expected in REFUSALS[point]:
        shown = expected.format(index=roost_index.url.rstrip("/"), purelib=purelib)
        assert shown in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert venv.installed() == {}  # the environment is as it was
    # Not refusing, the same plugin lets the same install through.
    run_roost("-p", "acme_refusals", *args, check=True)
    assert venv.has("delta", "1.0")


def test_the_refusal_shapes_are_the_documented_ones() -> None:
    """Each shape checked above is the one docs/plugins.md shows, placeholders aside."""
    section = docs_section("Hooks that can refuse")
    for line in (
        "was refused once downloaded; roost stopped before unpacking, building, installing "
        "or saving it:",
        ") was refused; nothing was changed:",
        "excluded by policy: CVE-2024-0001 affects it (acme_advisories)",
        "failed: RoostError: the audit log is unreachable; every change was undone and the "
        "environment is as it was before.",
        "  Another guard's reason.\n    - its remedy\n",
    ):
        assert line in section, line
    assert "exit status 1" in section


# -- every hook, with a realistic example ------------------------------------------


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_hook_is_indexed_with_its_example_in_hooks_md() -> None:
    from roost import hookspecs

    hooks = {name for name in dir(hookspecs) if name.startswith("roost_")}
    anchors = {
        github_anchor(heading): heading
        for heading in re.findall(r"^## (.+)$", HOOKS_MD.read_text(), re.MULTILINE)
    }
    section = docs_section("Each hook, with a realistic example")
    rows = dict(re.findall(r"^\| \[`(roost_\w+)`\]\(hooks\.md#([\w-]+)\) \|", section, re.M))
    assert set(rows) == hooks
    for hook, anchor in rows.items():
        assert anchor in anchors, f"{hook}: hooks.md has no heading for #{anchor}"
        assert anchors[anchor].startswith(f"`{hook}("), anchor
        # The section it points to ends with an example implementing that very hook.
        body = HOOKS_MD.read_text().split(f"\n## {anchors[anchor]}\n", 1)[1].split("\n## ")[0]
        examples = re.findall(r"```python\n(.*?)```", body, re.DOTALL)
        assert any(f"def {hook}(" in b and "@hookimpl" in b for b in examples), hook
