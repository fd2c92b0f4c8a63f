"""Properties of the requirements-file parser over generated input (hypothesis): valid
lines round-trip through a file and the command line alike, and arbitrary files and
lines fail only with a RequirementError."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from roost.errors import RequirementError
from roost.resolve.reqfile import RequirementsFile, parse_requirements_file
from roost.resolve.requirement_line import parse_requirement_line

# --- properties ---------------------------------------------------------------------

_ARCHIVES = (".whl", ".zip", ".tar", ".tgz", ".tbz", ".txz", ".tlz", ".gz", ".bz2", ".xz")
_NAMES = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,10}[A-Za-z0-9])?", fullmatch=True).filter(
    lambda n: not n.lower().endswith(_ARCHIVES) and not n.lower().endswith((".lz", ".lzma"))
)
_EXTRAS = st.lists(st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True), max_size=3)
_VERSIONS = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}", fullmatch=True)
_SPECS = st.lists(
    st.tuples(st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "~="]), _VERSIONS),
    max_size=3,
).map(lambda parts: ",".join(op + v for op, v in parts if not (op == "~=" and "." not in v)))
_MARKERS = st.sampled_from(
    [
        "",
        'python_version < "4"',
        "sys_platform == 'linux' and python_version >= '3.8'",
        'extra == "test" or os_name != "nt"',
        "platform_machine in 'x86_64 aarch64'",
    ]
)
_FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FAST
@given(name=_NAMES, extras=_EXTRAS, spec=_SPECS, marker=_MARKERS, space=st.sampled_from(["", " "]))
def test_valid_lines_round_trip(
    name: str, extras: list[str], spec: str, marker: str, space: str
) -> None:
    text = name + (f"[{','.join(extras)}]" if extras else "") + space + spec
    if marker:
        text += f"{space};{space}{marker}"
    for parsed in (
        parse_requirement_line(text, "cli"),
        _parse_text(text + "  # note\n").requirements[0],
    ):
        req = parsed.requirement
        assert req is not None
        assert req.name == name
        assert req.extras == set(extras)
        assert req.specifier == SpecifierSet(spec)
        assert (str(req.marker) if req.marker else "") == (marker and str(Marker(marker)))
        assert parsed.url is None


def _parse_text(text: str) -> RequirementsFile:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.txt"
        path.write_text(text, encoding="utf-8")
        return parse_requirements_file(path, env={})


_LINE_PIECES = st.sampled_from(
    [
        "alpha", "-r ", "-c ", "-e ", "--hash=", "sha256:", "\\", "\n", "#", " ", ";",
        "${X}", "@", "https://", "u:p@", ".whl", "[x]", "==1", "-i", "--pre", "'", '"',
        "--", "file:", "./", "..", "=", "<", "(", "\t", "\r\n",
    ]
)  # fmt: skip


@_FAST
@given(st.lists(st.one_of(_LINE_PIECES, st.text(max_size=8)), max_size=20).map("".join))
def test_arbitrary_files_fail_only_with_requirement_error(text: str) -> None:
    try:
        result = _parse_text(text.encode("utf-8", "replace").decode("utf-8"))
    except RequirementError as exc:
        assert "Traceback" not in str(exc)
    else:
        for parsed in result.requirements:
            assert parsed.requirement is not None or parsed.url is not None
            assert parsed.origin.rsplit(":", 1)[1].isdigit()


@_FAST
@given(st.lists(st.one_of(_LINE_PIECES, st.text(max_size=8)), max_size=12).map("".join))
def test_arbitrary_lines_fail_only_with_requirement_error(text: str) -> None:
    try:
        parsed = parse_requirement_line(text, "cli")
    except RequirementError as exc:
        assert str(exc).startswith("cli: ")
    else:
        assert parsed.requirement is not None or parsed.url is not None
