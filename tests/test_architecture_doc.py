"""docs/architecture.md keeps up with the code: every module in its table, the layers drawn."""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
#: Source folders and the import path each one is installed as (setuptools package-dir).
PACKAGES = {"core": "roost", "plugins": "roost/plugins"}


def section(title: str) -> str:
    """The body of the ``## title`` section of docs/architecture.md."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert found, f"docs/architecture.md has no '## {title}' section"
    return found.group(1)


def table_rows(body: str) -> list[list[str]]:
    """The cells of the one table in *body*, header and separator rows left out."""
    lines = body.splitlines()
    table = [n for n, line in enumerate(lines) if line.startswith("|")]
    assert table, "no table"
    # One table: its lines follow each other, with no other text between them.
    assert table == list(range(table[0], table[-1] + 1)), "more than one table"
    rows = [[cell.strip() for cell in lines[n].strip("|").split("|")] for n in table]
    assert rows[0] == ["module", "what it is for"], f"unexpected header: {rows[0]}"
    assert set(lines[table[1]]) <= set("|-: "), "the header has no separator row"
    return rows[2:]


def source_modules() -> set[str]:
    """Every module file of the package, named by its installed path (``roost/...``)."""
    return {
        f"{installed}/{path.relative_to(ROOT / folder).as_posix()}"
        for folder, installed in PACKAGES.items()
        for path in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    }


def test_modules_table_names_every_module_once() -> None:
    rows = table_rows(section("Modules"))
    named = []
    for row in rows:
        assert len(row) == 2 and row[1], f"a row needs a module and what it is for: {row}"
        assert re.fullmatch(r"`[^`]+`", row[0]), f"module not in backticks: {row[0]}"
        named.append(row[0].strip("`"))
    twice = sorted({name for name in named if named.count(name) > 1})
    missing = sorted(source_modules() - set(named))
    extra = sorted(set(named) - source_modules())
    assert not (twice or missing or extra), (
        "docs/architecture.md's Modules table is out of step with core/ and plugins/:\n"
        f"  missing rows: {missing}\n  rows for no module: {extra}\n  rows twice: {twice}"
    )


def importlinter_layers() -> list[list[str]]:
    """The layers contract of pyproject.toml, top to bottom, each a list of siblings."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = [c["layers"] for c in contracts if c["type"] == "layers"]
    assert len(layers) == 1, "expected one layers contract in [tool.importlinter]"
    return [[name.strip() for name in layer.split("|")] for layer in layers[0]]


def test_mermaid_diagram_draws_the_importlinter_layers() -> None:
    diagram = re.findall(r"^```mermaid\n(.*?)^```", section("Layers"), re.S | re.M)
    assert len(diagram) == 1, "the Layers section should hold one mermaid diagram"
    assert diagram[0].startswith("flowchart TD"), "the diagram should be a top-down flowchart"
    mentioned = list(dict.fromkeys(re.findall(r"\broost\.\w+", diagram[0])))
    layers = importlinter_layers()
    expected = {name for layer in layers for name in layer}
    assert set(mentioned) == expected, (
        "the diagram and [tool.importlinter] name different layers:\n"
        f"  not drawn: {sorted(expected - set(mentioned))}\n"
        f"  not in the contract: {sorted(set(mentioned) - expected)}"
    )
    # Drawn top to bottom: every package of a layer appears before those of the next.
    rank = {name: depth for depth, layer in enumerate(layers) for name in layer}
    depths = [rank[name] for name in mentioned]
    assert depths == sorted(depths), f"the diagram draws the layers out of order: {mentioned}"
