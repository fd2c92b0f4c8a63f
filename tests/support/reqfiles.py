"""Requirements files written to disk and parsed, for the requirements-file tests.

``write`` puts a file in place (folders made), ``parse`` writes ``requirements.txt``
under a test's folder and parses it with an empty environment unless told otherwise;
``names`` and ``only`` read the result.
"""

from __future__ import annotations

from pathlib import Path

from roost.resolve.reqfile import RequirementsFile, parse_requirements_file
from roost.resolve.requirement_line import ParsedRequirement


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def parse(tmp_path: Path, text: str, **kwargs: object) -> RequirementsFile:
    kwargs.setdefault("env", {})
    return parse_requirements_file(write(tmp_path / "requirements.txt", text), **kwargs)  # type: ignore[arg-type]


def names(result: RequirementsFile) -> list[str]:
    return [str(r.requirement) for r in result.requirements]


def only(result: RequirementsFile) -> ParsedRequirement:
    assert len(result.requirements) == 1, result.requirements
    return result.requirements[0]
