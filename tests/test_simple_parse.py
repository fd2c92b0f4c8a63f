"""The PEP 691 JSON and PEP 503 HTML page parsers."""

from __future__ import annotations

import contextlib
import html
import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roost.errors import IndexAccessError
from roost.pages import parse_anchors, parse_html_page, parse_json_page
from roost.types import IndexSource

SOURCE = IndexSource("https://index.test/simple", "index", "test")
PAGE = "https://index.test/simple/demo/"
DIGEST = "ab" * 32


def test_html_links_hashes_and_relative_urls() -> None:
    page = f"""<!DOCTYPE html><html><body>
    <a href="../../files/demo-1.0-py3-none-any.whl#sha256={DIGEST}">demo-1.0</a>
    <a href="https://cdn.test/x/demo-2.0.tar.gz">demo-2.0</a>
    <a href="demo%2B%20x-3.0.zip">spaces</a>
    </body></html>"""
    links = parse_html_page(page, PAGE, SOURCE)
    assert [link.url for link in links] == [
        "https://index.test/files/demo-1.0-py3-none-any.whl",
        "https://cdn.test/x/demo-2.0.tar.gz",
        "https://index.test/simple/demo/demo%2B%20x-3.0.zip",
    ]
    assert [link.filename for link in links] == [
        "demo-1.0-py3-none-any.whl",
        "demo-2.0.tar.gz",
        "demo+ x-3.0.zip",
    ]
    assert dict(links[0].hashes) == {"sha256": DIGEST}
    assert dict(links[1].hashes) == {}
    assert all(link.source is SOURCE for link in links)
    assert all(link.yanked is None and link.metadata_hashes is None for link in links)


def test_html_base_href_first_one_wins() -> None:
    page = """<html><head><base href="/mirror/files/"><base href="/other/"></head>
    <a href="demo-1.0.tar.gz">x</a></html>"""
    (link,) = parse_html_page(page, PAGE, SOURCE)
    assert link.url == "https://index.test/mirror/files/demo-1.0.tar.gz"


def test_html_attributes() -> None:
    page = (
        '<a href="a-1.0.tar.gz" data-requires-python="&gt;=3.8,&lt;4">a</a>'
        '<a href="a-1.1.tar.gz" data-yanked="broken &amp; bad">a</a>'
        '<a href="a-1.2.tar.gz" data-yanked>a</a>'
        '<a href="a-1.3.tar.gz" data-yanked="">a</a>'
        '<a href="a-1.4-py3-none-any.whl" data-core-metadata="true">a</a>'
        f'<a href="a-1.5-py3-none-any.whl" data-dist-info-metadata="sha256={DIGEST}">a</a>'
        '<a href="a-1.6-py3-none-any.whl" data-core-metadata="sha256=aa" '
        'data-dist-info-metadata="sha256=bb">a</a>'
        '<a href="a-1.7-py3-none-any.whl" data-core-metadata="false">a</a>'
    )
    links = parse_html_page(page, PAGE, SOURCE)
    assert links[0].requires_python == ">=3.8,<4"
    assert [link.yanked for link in links[1:4]] == ["broken & bad", "", ""]
    assert links[0].yanked is None
    assert links[4].metadata_hashes == {}
    assert links[5].metadata_hashes == {"sha256": DIGEST}
    assert links[6].metadata_hashes == {"sha256": "aa"}  # the PEP 714 name wins
    assert links[7].metadata_hashes is None


def test_html_junk_is_skipped() -> None:
    page = (
        "<a>no href</a><a href=''>empty</a><a href='/simple/demo/'>dir</a>"
        "<a href='http://[bad/x-1.0.tar.gz'>bad ipv6</a><a href=\"x-1.0.tar.gz\">ok"
        "<<<>>><a href=ok2-1.0.tar.gz<p><A HREF='UP-1.0.TAR.GZ'>"
    )
    links = parse_html_page(page, PAGE, SOURCE)
    # an unquoted href runs to the next space or ">", as browsers read it
    assert [link.filename for link in links] == [
        "x-1.0.tar.gz",
        "ok2-1.0.tar.gz<p",
        "UP-1.0.TAR.GZ",
    ]


def test_anchor_list_of_a_directory_listing() -> None:
    listing = '<ul><li><a href="demo-1.0.tar.gz">demo-1.0.tar.gz</a></li><li><a href="../">..</a>'
    anchors = parse_anchors(listing, "http://h.test/wheels/")
    assert [a.href for a in anchors] == ["http://h.test/wheels/demo-1.0.tar.gz", "http://h.test/"]


def _json_page(files: list[object], version: str = "1.1") -> str:
    return json.dumps({"meta": {"api-version": version}, "name": "demo", "files": files})


def test_json_page() -> None:
    page = _json_page(
        [
            {
                "filename": "demo-1.0-py3-none-any.whl",
                "url": "../../files/demo-1.0-py3-none-any.whl",
                "hashes": {"sha256": DIGEST, "md5": 7},
                "requires-python": ">=3.8",
                "core-metadata": {"sha256": "cd" * 32},
                "yanked": False,
            },
            {
                "filename": "demo-1.1.tar.gz",
                "url": "https://cdn.test/demo-1.1.tar.gz#sha256=ff",
                "hashes": {},
                "yanked": "broken",
                "dist-info-metadata": True,
            },
            {"filename": "demo-1.2.tar.gz", "url": "demo-1.2.tar.gz", "yanked": True},
            {"filename": "demo-1.3.tar.gz", "url": "demo-1.3.tar.gz", "yanked": ""},
            {"filename": "no-url.tar.gz"},
            "junk",
        ]
    )
    links = parse_json_page(page.encode(), PAGE, SOURCE)
    assert [link.url for link in links] == [
        "https://index.test/files/demo-1.0-py3-none-any.whl",
        "https://cdn.test/demo-1.1.tar.gz",
        "https://index.test/simple/demo/demo-1.2.tar.gz",
        "https://index.test/simple/demo/demo-1.3.tar.gz",
    ]
    first, second, third, fourth = links
    assert dict(first.hashes) == {"sha256": DIGEST}
    assert first.requires_python == ">=3.8"
    assert first.metadata_hashes == {"sha256": "cd" * 32}
    assert first.yanked is None
    assert dict(second.hashes) == {"sha256": "ff"}
    assert second.yanked == "broken"
    assert second.metadata_hashes == {}
    assert third.yanked == ""
    assert fourth.yanked is None
    assert third.metadata_hashes is None


def test_json_filename_falls_back_to_url() -> None:
    page = _json_page([{"url": "/f/demo%2B-1.0.tar.gz"}])
    (link,) = parse_json_page(page, PAGE, SOURCE)
    assert link.filename == "demo+-1.0.tar.gz"


@pytest.mark.parametrize(
    "data", [b"not json", b"[]", b'{"files": 3}', b"\xff\xfe", b'{"files": []'], ids=repr
)
def test_json_not_a_page(data: bytes) -> None:
    with pytest.raises(IndexAccessError, match=r"index\.test"):
        parse_json_page(data, PAGE, SOURCE)


def test_json_unsupported_major_version() -> None:
    with pytest.raises(IndexAccessError, match=r"version 2\.0"):
        parse_json_page(_json_page([], "2.0"), PAGE, SOURCE)
    assert parse_json_page(_json_page([], "1.4"), PAGE, SOURCE) == []


# -- property-based ------------------------------------------------------------------

_names = st.text(string.ascii_letters + string.digits + "-_.+~ %&<>\"'é", min_size=1, max_size=20)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_html_parser_never_crashes(text: str) -> None:
    for link in parse_html_page(text, PAGE, SOURCE):
        assert link.filename


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_json_parser_only_raises_index_errors(data: bytes | str) -> None:
    with contextlib.suppress(IndexAccessError):
        parse_json_page(data, PAGE, SOURCE)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(
                ["url", "filename", "hashes", "yanked", "requires-python", "core-metadata"]
            ),
            _json_values,
        ),
        max_size=4,
    )
)
def test_json_parser_tolerates_odd_entries(files: list[dict[str, object]]) -> None:
    try:
        links = parse_json_page(_json_page(list(files)), PAGE, SOURCE)
    except IndexAccessError:
        return
    for link in links:
        assert isinstance(link.url, str) and link.filename
        assert link.yanked is None or isinstance(link.yanked, str)


_anchor = st.fixed_dictionaries(
    {
        "name": _names.filter(lambda s: s.strip() and s not in (".", "..")),
        "digest": st.one_of(st.none(), st.text("0123456789abcdef", min_size=1, max_size=64)),
        "requires_python": st.one_of(st.none(), st.sampled_from([">=3.8", "<4,>=3", "!=3.0.*"])),
        "yanked": st.one_of(st.none(), st.text(max_size=10)),
        "metadata": st.one_of(st.none(), st.just("true"), st.just("sha256=" + DIGEST)),
    }
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_anchor, max_size=5))
def test_html_round_trip(anchors: list[dict[str, str | None]]) -> None:
    from urllib.parse import quote

    parts = []
    for anchor in anchors:
        href = "files/" + quote(str(anchor["name"]))
        if anchor["digest"]:
            href += f"#sha256={anchor['digest']}"
        attrs = f'href="{html.escape(href)}"'
        for attr, key in [
            ("data-requires-python", "requires_python"),
            ("data-yanked", "yanked"),
            ("data-core-metadata", "metadata"),
        ]:
            if anchor[key] is not None:
                attrs += f' {attr}="{html.escape(str(anchor[key]))}"'
        parts.append(f"<a {attrs}>{html.escape(str(anchor['name']))}</a><br>\n")
    page = "<!DOCTYPE html><html><body>" + "".join(parts) + "</body></html>"
    links = parse_html_page(page, PAGE, SOURCE)
    assert len(links) == len(anchors)
    for link, anchor in zip(links, anchors, strict=True):
        assert link.filename == anchor["name"]
        assert link.url == PAGE + "files/" + quote(str(anchor["name"]))
        assert dict(link.hashes) == ({"sha256": anchor["digest"]} if anchor["digest"] else {})
        assert link.requires_python == anchor["requires_python"]
        assert link.yanked == anchor["yanked"]
        expected_meta = {
            None: None,
            "true": {},
            "sha256=" + DIGEST: {"sha256": DIGEST},
        }[anchor["metadata"]]
        assert link.metadata_hashes == expected_meta
