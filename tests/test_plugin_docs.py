"""docs/plugins.md and docs/hooks.md against the real plugin system: the worked example
is the demo plugin the suite installs and runs (tests/support/plugin_sources.py,
tests/test_plugins.py), every hook and built-in is documented, every example in
docs/hooks.md registers against the real hook specs, and the tutorial's own test passes
when run as a user would.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from roost.manager import BUILTIN_PLUGINS
from tests.support.plugin_sources import DEMO_PLUGIN

ROOT = Path(__file__).resolve().parent.parent
# Every built-in the manager registers must show up as loaded, with origin built-in.
BUILTINS = BUILTIN_PLUGINS


# -- docs ----------------------------------------------------------------------------


def test_docs_show_the_tested_plugin() -> None:
    """docs/plugins.md's worked example is, byte for byte, the plugin tested here."""
    text = (ROOT / "docs" / "plugins.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert DEMO_PLUGIN in blocks


def test_docs_cover_every_hook_and_builtin() -> None:
    from roost import hookspecs

    hooks_md = (ROOT / "docs" / "hooks.md").read_text()
    plugins_md = (ROOT / "docs" / "plugins.md").read_text()
    for name in dir(hookspecs):
        if name.startswith("roost_"):
            assert f"## `{name}" in hooks_md, name
    for name in BUILTINS:
        assert f"`{name}`" in plugins_md, name


def python_blocks(doc: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "docs" / doc).read_text(), flags=re.DOTALL)


def test_hooks_md_examples_are_valid_plugins() -> None:
    """Every example implementation in docs/hooks.md registers against the real specs."""
    from types import ModuleType

    from roost.manager import Manager

    warnings: list[str] = []
    manager = Manager.build(autoload=False, warn=warnings.append)
    examples = [block for block in python_blocks("hooks.md") if "@hookspec" not in block]
    implemented: set[str] = set()
    for number, block in enumerate(examples):
        module = ModuleType(f"hooks_md_example_{number}")
        exec(compile(block, module.__name__, "exec"), module.__dict__)
        manager.pm.register(module, name=module.__name__)  # raises on a bad signature
        callers = manager.pm.get_hookcallers(module) or []
        assert callers, f"example {number} implements no hook"
        assert all(caller.has_spec() for caller in callers), number
        implemented.update(caller.name for caller in callers)
    manager.pm.check_pending()
    from roost import hookspecs

    assert implemented == {name for name in dir(hookspecs) if name.startswith("roost_")}
    assert warnings == []


def test_tutorial_test_passes(tmp_path: Path, tmp_home: dict[str, str]) -> None:
    """docs/plugins.md's project layout and test, copied out and run as a user would."""
    package = tmp_path / "src" / "roost_demo_plugin"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(DEMO_PLUGIN)
    (tmp_path / "tests").mkdir()
    # The standard-library test; the roost.testing section's example runs in
    # test_testing_kit.py, the quickstart's in test_plugin_quickstart.py.
    heading = "### Test it with the standard library alone\n"
    tutorial = (ROOT / "docs" / "plugins.md").read_text().split(heading, 1)[1]
    tutorial = tutorial.split("\n## ", 1)[0]
    (test,) = re.findall(r"```python\n(.*?)```", tutorial, flags=re.DOTALL)
    (tmp_path / "tests" / "test_demo_plugin.py").write_text(test)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        check=False,
        cwd=tmp_path,
        env=tmp_home,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
