"""The index_sources, simple_index and find_links plugins, over real files and a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from roost.errors import IndexAccessError
from roost.manager import Manager
from roost.net.client import Client
from roost.plugins import find_links, simple_index
from roost.plugins.index_sources import as_url, sources_from_settings
from roost.types import IndexSource, NormalizedName, Settings, SettingsLayer, file_url_path
from roost.util.settings import build_settings
from tests.support.envs import isolated_manager
from tests.support.index import PackageIndex
from tests.support.server import Fault, IndexServer
from tests.support.wheels import WheelSpec, build_sdist


def settings_of(**values: str | tuple[str, ...]) -> Settings:
    return Settings((SettingsLayer("test layer", values),))


# -- index_sources ---------------------------------------------------------------------


def test_sources_order_and_origins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(
        (
            SettingsLayer("command line", {"index-url": "http://main/simple"}),
            SettingsLayer(
                "pip config /x",
                {"extra-index-url": "http://e1 http://e2", "find-links": "wheels ~/w"},
            ),
        )
    )
    sources = sources_from_settings(settings)
    # Extra indexes first, in the order given; the main index last.
    assert sources == [
        IndexSource("http://e1", "index", "pip config /x"),
        IndexSource("http://e2", "index", "pip config /x"),
        IndexSource("http://main/simple", "index", "command line"),
        IndexSource((tmp_path / "wheels").resolve().as_uri(), "find-links", "pip config /x"),
        IndexSource(Path("~/w").expanduser().resolve().as_uri(), "find-links", "pip config /x"),
    ]


def test_no_index_keeps_find_links() -> None:
    values: dict[str, str | tuple[str, ...]] = {
        "no-index": "yes",
        "index-url": "http://i",
        "find-links": ("file:///w",),
    }
    settings = settings_of(**values)
    assert sources_from_settings(settings) == [
        IndexSource("file:///w", "find-links", "test layer")
    ]


def test_duplicates_dropped_and_urls_kept() -> None:
    values: dict[str, str | tuple[str, ...]] = {
        "index-url": "http://i",
        "extra-index-url": ("http://i",),
    }
    settings = settings_of(**values)
    assert [s.url for s in sources_from_settings(settings)] == ["http://i"]
    assert as_url("https://u:p@h/simple") == "https://u:p@h/simple"
    assert as_url("file:///x") == "file:///x"


def test_sources_hook_through_manager(manager: Manager, tmp_path: Path) -> None:
    env = {"ROOST_CONFIG_FILE": str(tmp_path / "none"), "ROOST_FIND_LINKS": str(tmp_path)}
    settings = build_settings("install", {"index-url": "http://i/simple"}, manager, env=env)
    assert manager.index_sources(settings) == [
        IndexSource("http://i/simple", "index", "command line"),
        IndexSource(tmp_path.as_uri(), "find-links", "environment (ROOST_*)"),
    ]


# -- simple_index over file:// -----------------------------------------------------------


def test_file_index_html(corpus_index: PackageIndex, client: Client) -> None:
    source = IndexSource(corpus_index.file_url, "index")
    found = simple_index.roost_index_lookup(NormalizedName("alpha"), source, client)
    assert found is not None and found.found
    names = sorted(link.filename for link in found.links)
    assert names == sorted(e.filename for e in corpus_index.files_of("alpha"))
    for link in found.links:
        assert Path(file_url_path(link.url)).is_file()
        assert link.hashes["sha256"]
    yanked = [link for link in found.links if link.yanked is not None]
    assert [(link.filename, link.yanked) for link in yanked] == [
        ("alpha-1.5-py3-none-any.whl", "broken")
    ]


def test_file_index_missing_project(corpus_index: PackageIndex, client: Client) -> None:
    source = IndexSource(corpus_index.file_url, "index")
    found = simple_index.roost_index_lookup(NormalizedName("nope"), source, client)
    assert found is not None and not found.found


def test_file_index_json_only(tmp_path: Path, client: Client) -> None:
    project = tmp_path / "simple" / "demo"
    project.mkdir(parents=True)
    (project / "index.json").write_text(
        '{"meta": {"api-version": "1.0"}, "files": '
        '[{"filename": "demo-1.0.tar.gz", "url": "../../f/demo-1.0.tar.gz", "hashes": {}}]}'
    )
    (tmp_path / "simple" / "empty").mkdir()
    source = IndexSource((tmp_path / "simple").as_uri(), "index")
    found = simple_index.roost_index_lookup(NormalizedName("demo"), source, client)
    assert found is not None
    assert [link.url for link in found.links] == [(tmp_path / "f" / "demo-1.0.tar.gz").as_uri()]
    empty = simple_index.roost_index_lookup(NormalizedName("empty"), source, client)
    assert empty is not None and not empty.found


def test_simple_index_ignores_other_kinds(client: Client) -> None:
    source = IndexSource("file:///x", "find-links")
    assert simple_index.roost_index_lookup(NormalizedName("a"), source, client) is None
    odd = IndexSource("s3://bucket/simple", "index")
    assert simple_index.roost_index_lookup(NormalizedName("a"), odd, client) is None


# -- simple_index over HTTP ---------------------------------------------------------------


@pytest.mark.parametrize("formats", [{"json"}, {"html"}, {"json", "html"}])
def test_http_index_formats(corpus_index: PackageIndex, client: Client, formats: set[str]) -> None:
    with IndexServer(corpus_index, formats=frozenset(formats)) as server:
        source = IndexSource(server.url + "/", "index")
        found = simple_index.roost_index_lookup(NormalizedName("alpha"), source, client)
        (request,) = server.requests_for("/simple/alpha/")
        assert request.headers["Accept"] == simple_index.ACCEPT
        root = server.root_url
    assert found is not None and found.found
    assert sorted(link.filename for link in found.links) == sorted(
        e.filename for e in corpus_index.files_of("alpha")
    )
    by_name = {link.filename: link for link in found.links}
    wheel = by_name["alpha-1.0-py3-none-any.whl"]
    assert wheel.url == f"{root}/files/alpha-1.0-py3-none-any.whl"
    assert wheel.metadata_hashes and "sha256" in wheel.metadata_hashes
    assert by_name["alpha-1.5-py3-none-any.whl"].yanked == "broken"


def test_http_index_requires_python(index_server: IndexServer, client: Client) -> None:
    source = IndexSource(index_server.url, "index")
    found = simple_index.roost_index_lookup(NormalizedName("onlynew"), source, client)
    assert found is not None
    assert {link.filename: link.requires_python for link in found.links} == {
        "onlynew-0.9-py3-none-any.whl": None,
        "onlynew-1.0-py3-none-any.whl": ">=3.12",
    }


def test_http_index_404_and_errors(corpus_index: PackageIndex, client: Client) -> None:
    with IndexServer(corpus_index) as server:
        source = IndexSource(server.url, "index")
        missing = simple_index.roost_index_lookup(NormalizedName("nope"), source, client)
        assert missing is not None and not missing.found
        server.set_fault("/simple/alpha/", Fault(status=418))
        with pytest.raises(IndexAccessError, match="418"):
            simple_index.roost_index_lookup(NormalizedName("alpha"), source, client)


def test_http_index_password_redacted(corpus_index: PackageIndex, client: Client) -> None:
    with IndexServer(corpus_index, auth=("user", "s3cret")) as server:
        url = server.url.replace("http://", "http://user:s3cret@")
        source = IndexSource(url, "index")
        found = simple_index.roost_index_lookup(NormalizedName("delta"), source, client)
        assert found is not None and [link.filename for link in found.links] == [
            "delta-1.0-py3-none-any.whl"
        ]
        server.set_fault("/simple/delta/", Fault(status=410))
        with pytest.raises(IndexAccessError) as info:
            simple_index.roost_index_lookup(NormalizedName("delta"), source, client)
    assert "s3cret" not in info.value.message and "410" in info.value.message


def test_unsupported_content_type() -> None:
    source = IndexSource("http://h/simple", "index")
    with pytest.raises(IndexAccessError, match="text/plain"):
        simple_index.parse_by_content_type("text/plain", b"", "", "http://h/simple/a/", source)
    links = simple_index.parse_by_content_type(
        "text/html; charset=utf-8", b"", '<a href="a-1.tar.gz">', "http://h/simple/a/", source
    )
    assert [link.url for link in links] == ["http://h/simple/a/a-1.tar.gz"]


# -- find_links -------------------------------------------------------------------------


def test_find_links_directory(corpus_index: PackageIndex, client: Client, tmp_path: Path) -> None:
    source = IndexSource(corpus_index.files_dir.as_uri(), "find-links")
    found = find_links.roost_index_lookup(NormalizedName("alpha"), source, client)
    assert found is not None and found.found
    assert sorted(link.filename for link in found.links) == sorted(
        e.filename for e in corpus_index.files_of("alpha")
    )
    sdist = find_links.roost_index_lookup(NormalizedName("SdistOnly"), source, client)
    assert sdist is not None and [link.filename for link in sdist.links] == [
        "sdistonly-1.0.tar.gz"
    ]
    assert all(link.hashes == {} for link in found.links)
    nope = find_links.roost_index_lookup(NormalizedName("nope"), source, client)
    assert nope is not None and not nope.found
    gone = IndexSource((tmp_path / "missing").as_uri(), "find-links")
    missing = find_links.roost_index_lookup(NormalizedName("alpha"), gone, client)
    assert missing is not None and not missing.found


def test_find_links_ignores_unrelated_files(tmp_path: Path, client: Client) -> None:
    folder = tmp_path / "wheels"
    folder.mkdir()
    for name in [
        "demo-1.0-py3-none-any.whl",
        "demo_x-1.0.tar.gz",
        "demo-notes.txt",
        "demo-bad.whl",
        "demo-1.0.tar.gz",
    ]:
        (folder / name).write_bytes(b"")
    build_sdist("Demo.Lib", "2.0", folder)
    source = IndexSource(folder.as_uri(), "find-links")
    found = find_links.roost_index_lookup(NormalizedName("demo"), source, client)
    assert found is not None
    assert [link.filename for link in found.links] == [
        "demo-1.0-py3-none-any.whl",
        "demo-1.0.tar.gz",
    ]
    lib = find_links.roost_index_lookup(NormalizedName("demo-lib"), source, client)
    assert lib is not None and [link.filename for link in lib.links] == ["demo_lib-2.0.tar.gz"]


def test_find_links_html_file(tmp_path: Path, client: Client) -> None:
    page = tmp_path / "links.html"
    page.write_text(
        '<a href="dl/demo-1.0-py3-none-any.whl#sha256=abc">x</a>'
        '<a href="https://h.test/other-1.0.tar.gz">y</a>'
    )
    source = IndexSource(page.as_uri(), "find-links")
    found = find_links.roost_index_lookup(NormalizedName("demo"), source, client)
    assert found is not None and found.found
    (link,) = found.links
    assert link.url == (tmp_path / "dl" / "demo-1.0-py3-none-any.whl").as_uri()
    assert dict(link.hashes) == {"sha256": "abc"}


def test_find_links_http_page_fetched_once(
    corpus_index: PackageIndex, wheel_factory: object, tmp_path: Path
) -> None:
    # The server's project list page is a find-links page of ../ links; use a real
    # project page instead, which lists files by absolute URL.
    with IndexServer(corpus_index, formats=frozenset({"html"}), absolute_links=True) as server:
        source = IndexSource(server.url + "/alpha/", "find-links")
        with Client(isolated_manager(), Settings()) as http:
            first = find_links.roost_index_lookup(NormalizedName("alpha"), source, http)
            again = find_links.roost_index_lookup(NormalizedName("beta"), source, http)
        assert first is not None and len(first.links) == len(corpus_index.files_of("alpha"))
        assert first.links[0].url.startswith(server.root_url + "/files/")
        assert again is not None and not again.found
        assert len(server.requests_for("/simple/alpha/")) == 1
        gone = IndexSource(server.url + "/nope/", "find-links")
        with Client(isolated_manager(), Settings()) as http:
            missing = find_links.roost_index_lookup(NormalizedName("alpha"), gone, http)
        assert missing is not None and not missing.found


def test_find_links_with_a_built_wheel(tmp_path: Path, client: Client) -> None:
    from tests.support.wheels import build_wheel

    wheel = build_wheel(WheelSpec("Fancy_Name", "3.0"), tmp_path / "w")
    source = IndexSource((tmp_path / "w").as_uri(), "find-links")
    found = find_links.roost_index_lookup(NormalizedName("fancy-name"), source, client)
    assert found is not None and [link.filename for link in found.links] == [wheel.name]
