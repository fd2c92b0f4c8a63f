"""Property-based tests: parsers of untrusted input raise roost's errors, or nothing else.

Bounded (max_examples, no per-example deadline) so the whole file stays well under
20 seconds.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import warnings
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roost.errors import RoostError
from roost.pages import parse_html_page, parse_json_page
from roost.resolve.requirement_line import parse_requirement_line
from roost.store.wheel_check import check_wheel
from roost.types import IndexSource
from tests.support.wheels import WheelSpec, build_wheel

BOUNDED = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
SOURCE = IndexSource("https://index.invalid/simple/", "index", "test")
PAGE = "https://index.invalid/simple/demo/"

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
_FILE_ENTRY = st.fixed_dictionaries(
    {},
    optional={
        "url": st.text(max_size=40) | st.just("../../files/demo-1.0-py3-none-any.whl"),
        "filename": st.text(max_size=30) | st.none(),
        "hashes": _JSON,
        "requires-python": _JSON,
        "yanked": _JSON,
        "core-metadata": _JSON,
    },
)


@BOUNDED
@given(st.dictionaries(st.sampled_from(["meta", "name", "files", "versions"]), _JSON) | _JSON)
def test_json_page_arbitrary_documents(document: object) -> None:
    with contextlib.suppress(RoostError):
        parse_json_page(json.dumps(document), PAGE, SOURCE)


@BOUNDED
@given(st.lists(_FILE_ENTRY, max_size=5))
def test_json_page_arbitrary_file_entries(files: list[dict[str, object]]) -> None:
    document = {"meta": {"api-version": "1.1"}, "name": "demo", "files": files}
    for link in parse_json_page(json.dumps(document), PAGE, SOURCE):
        assert link.filename
        assert isinstance(link.hashes, dict)


@BOUNDED
@given(st.binary(max_size=200))
def test_json_page_arbitrary_bytes(data: bytes) -> None:
    with contextlib.suppress(RoostError):
        parse_json_page(data, PAGE, SOURCE)


_HTML_PIECES = st.sampled_from(
    [
        "<a href='",
        "'>",
        "</a>",
        '<a href="../../files/demo-1.0-py3-none-any.whl#sha256=ab">x</a>',
        " data-requires-python='&gt;=3' ",
        " data-yanked ",
        " data-core-metadata='sha256=zz' ",
        "<base href='/other/'>",
        "#",
        "&#",
        "<!--",
        "\x00",
    ]
)


@BOUNDED
@given(st.lists(_HTML_PIECES | st.text(max_size=10), max_size=20).map("".join))
def test_html_page_arbitrary_text(text: str) -> None:
    try:
        links = parse_html_page(text, PAGE, SOURCE)
    except RoostError:
        return
    for link in links:
        assert link.filename


@BOUNDED
@given(st.text(max_size=60))
def test_requirement_line_arbitrary_text(text: str) -> None:
    with contextlib.suppress(RoostError):
        parse_requirement_line(text, "fuzz")


_WHEEL_NAMES = st.sampled_from(
    ["demo-1.0-py3-none-any.whl", "demo-1.0-1-py3-none-any.whl", "x.whl", "demo-1.0.whl"]
) | st.text(alphabet="abc-_.0123456789whl", min_size=1, max_size=30)


@BOUNDED
@given(name=_WHEEL_NAMES, data=st.binary(max_size=300))
def test_wheel_checker_on_random_bytes(name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("x" + name if name in {".", ".."} else name)
        path.write_bytes(data)
        with contextlib.suppress(RoostError):
            check_wheel(path, "demo", "1.0")


def _good_wheel() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return build_wheel(WheelSpec("demo", "1.0"), Path(folder)).read_bytes()


GOOD = _good_wheel()


@BOUNDED
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), max_size=6))
def test_wheel_checker_on_mutated_wheels(edits: list[tuple[int, int]]) -> None:
    data = bytearray(GOOD)
    for offset, value in edits:
        data[offset] = value
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo-1.0-py3-none-any.whl"
        path.write_bytes(bytes(data))
        with contextlib.suppress(RoostError):
            check_wheel(path, "demo", "1.0")


_MEMBER = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=20
)


@BOUNDED
@given(st.lists(st.tuples(_MEMBER, st.binary(max_size=20)), max_size=5))
def test_wheel_checker_on_random_members(members: list[tuple[str, bytes]]) -> None:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # duplicate names are welcome here
        for member, content in members:
            archive.writestr(zipfile.ZipInfo(member), content)
        archive.writestr("demo-1.0.dist-info/METADATA", "Name: demo\nVersion: 1.0\n")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo-1.0-py3-none-any.whl"
        path.write_bytes(buffer.getvalue())
        with contextlib.suppress(RoostError):
            check_wheel(path, "demo", "1.0")
