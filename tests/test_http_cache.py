"""Index pages kept in ``<cache>/http`` and revalidated: real servers on loopback."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from roost.errors import IndexAccessError
from roost.net.client import Client
from roost.net.http_cache import Entry, HttpCache, cache_directives
from roost.types import Settings, SettingsLayer
from tests.support.envs import dry_run_install, isolated_manager
from tests.support.index import PackageIndex
from tests.support.server import HTML_V1, JSON_V1, IndexServer
from tests.support.wheels import WheelSpec

LAST_MODIFIED = "Wed, 21 Oct 2026 07:28:00 GMT"


class ConditionalServer(IndexServer):
    """The test index plus validators on simple pages, answering 304 when they match.

    ``validators`` picks what it sends (``etag``, ``last-modified``);
    ``cache_control`` and ``age`` are sent as-is on pages. Answers are kept as (path, status).
    """

    def __init__(
        self,
        index: PackageIndex,
        *,
        validators: tuple[str, ...] = ("etag", "last-modified"),
        cache_control: str | None = None,
        age: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(index, **kwargs)
        self.validators = validators
        self.cache_control = cache_control
        self.age = age
        self.answers: list[tuple[str, int]] = []

    def __enter__(self) -> ConditionalServer:
        self.start()
        return self

    def _route(
        self, handler: Any, path: str, query: dict[str, list[str]]
    ) -> tuple[int, bytes, dict[str, str]]:
        status, body, headers = super()._route(handler, path, query)
        if status == 200 and path.startswith("/simple"):
            if "etag" in self.validators:
                headers["ETag"] = f'"{hashlib.sha256(body).hexdigest()[:20]}"'
            if "last-modified" in self.validators:
                headers["Last-Modified"] = LAST_MODIFIED
            if self.cache_control:
                headers["Cache-Control"] = self.cache_control
            if self.age:
                headers["Age"] = self.age
            asked_tag = handler.headers.get("If-None-Match")
            asked_date = handler.headers.get("If-Modified-Since")
            if (asked_tag is not None and asked_tag == headers.get("ETag")) or (
                asked_tag is None and asked_date is not None and asked_date == LAST_MODIFIED
            ):
                status, body = 304, b""
        with self._lock:
            self.answers.append((path, status))
        return status, body, headers


def settings(**values: str) -> Settings:
    return Settings((SettingsLayer("test", values),))


@pytest.fixture
def server(corpus_index: PackageIndex) -> Iterator[ConditionalServer]:
    with ConditionalServer(corpus_index) as running:
        yield running


def entries(cache: Path) -> list[Path]:
    return sorted(p for p in (cache / "http").rglob("*") if p.is_file())


def dry_run(home_env: dict[str, str], tmp_path: Path, url: str, *args: str) -> str:
    return dry_run_install(url, tmp_path, *args, env=home_env).stdout


def test_warm_run_revalidates_pages_and_reuses_metadata(
    server: ConditionalServer, tmp_home: dict[str, str], tmp_path: Path
) -> None:
    cold = dry_run(tmp_home, tmp_path, server.url, "beta")
    assert "Would install" in cold and "alpha-1.1" in cold and "beta-1.0" in cold
    cache = Path(tmp_home["HOME"]) / ".cache" / "roost"
    assert entries(cache)
    first_files = len(server.requests_for("/files/*"))
    server.clear_requests()
    server.answers.clear()

    warm = dry_run(tmp_home, tmp_path, server.url, "beta")
    assert warm == cold
    pages = server.requests_for("/simple/*")
    assert pages and all(r.headers.get("If-None-Match") for r in pages)
    assert all(r.headers.get("If-Modified-Since") == LAST_MODIFIED for r in pages)
    assert {status for path, status in server.answers if path.startswith("/simple")} == {304}
    # PEP 658 files whose hash the page gives are taken from the cache without a request.
    assert first_files and not server.requests_for("/files/*")


def test_last_modified_alone_is_used(corpus_index: PackageIndex, tmp_path: Path) -> None:
    with ConditionalServer(corpus_index, validators=("last-modified",)) as running:
        url = running.url + "/delta/"
        with Client(isolated_manager(), settings(**{"cache-dir": str(tmp_path)})) as client:
            first = client.get(url, headers={"Accept": JSON_V1})
            second = client.get(url, headers={"Accept": JSON_V1})
        assert [status for _, status in running.answers] == [200, 304]
        assert running.requests[-1].headers.get("If-Modified-Since") == LAST_MODIFIED
        assert "If-None-Match" not in running.requests[-1].headers
        assert second.status_code == 200 and second.content == first.content
        assert str(second.url) == str(first.url)


def test_entries_vary_on_accept(server: ConditionalServer, tmp_path: Path) -> None:
    url = server.url + "/delta/"
    with Client(isolated_manager(), settings(**{"cache-dir": str(tmp_path)})) as client:
        as_json = client.get(url, headers={"Accept": JSON_V1})
        as_html = client.get(url, headers={"Accept": HTML_V1})
        json_again = client.get(url, headers={"Accept": JSON_V1})
        html_again = client.get(url, headers={"Accept": HTML_V1})
    assert as_json.headers["content-type"] == JSON_V1
    assert as_html.headers["content-type"] == HTML_V1
    assert json_again.headers["content-type"] == JSON_V1 and json_again.content == as_json.content
    assert html_again.headers["content-type"] == HTML_V1 and html_again.content == as_html.content
    assert [status for _, status in server.answers] == [200, 200, 304, 304]
    assert len(entries(tmp_path)) == 2


def test_redirected_page_keeps_its_final_url(server: ConditionalServer, tmp_path: Path) -> None:
    # /simple/Delta/ answers 301 to /simple/delta/; relative links resolve against the latter.
    with Client(isolated_manager(), settings(**{"cache-dir": str(tmp_path)})) as client:
        client.get(server.url + "/Delta/", headers={"Accept": JSON_V1})
        again = client.get(server.url + "/Delta/", headers={"Accept": JSON_V1})
    assert str(again.url) == server.url + "/delta/"
    assert server.answers[-1] == ("/simple/delta/", 304)


def test_no_store_is_not_kept(corpus_index: PackageIndex, tmp_path: Path) -> None:
    with ConditionalServer(corpus_index, cache_control="no-store") as running:
        with Client(isolated_manager(), settings(**{"cache-dir": str(tmp_path)})) as client:
            client.get(running.url + "/delta/", headers={"Accept": JSON_V1})
            client.get(running.url + "/delta/", headers={"Accept": JSON_V1})
        assert [status for _, status in running.answers] == [200, 200]
        assert "If-None-Match" not in running.requests[-1].headers
    assert entries(tmp_path) == []


def test_corrupt_entry_is_ignored_and_rewritten(server: ConditionalServer, tmp_path: Path) -> None:
    url = server.url + "/delta/"
    with Client(isolated_manager(), settings(**{"cache-dir": str(tmp_path)})) as client:
        good = client.get(url, headers={"Accept": JSON_V1}).content
    (entry,) = entries(tmp_path)
    for damage in (b"garbage", entry.read_bytes()[:-5], b'{"format": 1}\n' + good):
        entry.write_bytes(damage)
        with Client(isolated_manager(), settings(**{"cache-dir": str(tmp_path)})) as client:
            response = client.get(url, headers={"Accept": JSON_V1})
        assert response.status_code == 200 and response.content == good
        assert "If-None-Match" not in server.requests[-1].headers
        assert server.answers[-1][1] == 200
        assert HttpCache(tmp_path).load(entry.parent.name + entry.name) is not None
    assert [p.name for p in entries(tmp_path)] == [entry.name]


def test_credentials_never_readable_in_the_cache(
    corpus_index: PackageIndex, tmp_path: Path
) -> None:
    secret = "s3cret-pa55"
    with ConditionalServer(corpus_index, auth=("alice", secret)) as running:
        url = running.url.replace("http://", f"http://alice:{secret}@") + "/delta/"
        with Client(isolated_manager(), settings(**{"cache-dir": str(tmp_path)})) as client:
            client.get(url, headers={"Accept": JSON_V1})
            again = client.get(url, headers={"Accept": JSON_V1})
        # Another login is a different entry: the server refuses it, the cache does not
        # answer for alice's.
        other = url.replace(f"alice:{secret}", "bob:wrong")
        with (
            Client(isolated_manager(), settings(**{"cache-dir": str(tmp_path)})) as client,
            pytest.raises(IndexAccessError),
        ):
            client.get(other, headers={"Accept": JSON_V1})
    assert again.status_code == 200 and running.answers[1][1] == 304
    for path in entries(tmp_path):
        assert secret not in str(path) and "alice" not in str(path)
        raw = path.read_bytes()
        assert secret.encode() not in raw and b"alice" not in raw


@pytest.mark.parametrize("flag", ["--no-cache-dir", "--no-cache"])
def test_no_cache_dir_writes_no_http_folder(
    server: ConditionalServer, tmp_home: dict[str, str], tmp_path: Path, flag: str
) -> None:
    """pip's spelling and uv's both turn the cache off."""
    dry_run(tmp_home, tmp_path, server.url, flag, "delta")
    assert not (Path(tmp_home["HOME"]) / ".cache" / "roost" / "http").exists()
    assert not any("If-None-Match" in r.headers for r in server.requests)


def test_cache_control_parsing() -> None:
    assert cache_directives('max-age=60, No-Cache, private="x"') == {
        "max-age": "60",
        "no-cache": "",
        "private": "x",
    }


def page_statuses(server: ConditionalServer) -> list[int]:
    return [status for path, status in server.answers if path.startswith("/simple")]


def test_pages_fresh_by_max_age_are_used_without_asking(
    corpus_index: PackageIndex, tmp_home: dict[str, str], tmp_path: Path
) -> None:
    with ConditionalServer(corpus_index, cache_control="max-age=600, public") as running:
        cold = dry_run(tmp_home, tmp_path, running.url, "beta")
        assert set(page_statuses(running)) == {200}
        running.answers.clear()
        assert dry_run(tmp_home, tmp_path, running.url, "beta") == cold
        assert page_statuses(running) == []
        # --refresh asks about every page again; the answers are 304s.
        assert dry_run(tmp_home, tmp_path, running.url, "--refresh", "beta") == cold
        assert page_statuses(running) and set(page_statuses(running)) == {304}


@pytest.mark.parametrize(
    ("cache_control", "age"),
    [("max-age=0", None), ("no-cache, max-age=600", None), ("max-age=600", "600")],
)
def test_pages_without_freshness_left_are_revalidated(
    corpus_index: PackageIndex,
    tmp_home: dict[str, str],
    tmp_path: Path,
    cache_control: str,
    age: str | None,
) -> None:
    with ConditionalServer(corpus_index, cache_control=cache_control, age=age) as running:
        dry_run(tmp_home, tmp_path, running.url, "beta")
        running.answers.clear()
        dry_run(tmp_home, tmp_path, running.url, "beta")
        assert page_statuses(running) and set(page_statuses(running)) == {304}


def delta_index(tmp_path: Path) -> PackageIndex:
    index = PackageIndex(tmp_path / "index")
    index.add(WheelSpec("delta", "1.0"))
    index.write()
    return index


def test_a_release_newer_than_a_fresh_page_is_still_found(
    tmp_home: dict[str, str], tmp_path: Path
) -> None:
    index = delta_index(tmp_path)
    with ConditionalServer(index, cache_control="max-age=600") as running:
        assert "delta-1.0" in dry_run(tmp_home, tmp_path, running.url, "delta")
        index.add(WheelSpec("delta", "2.0"))
        index.write()
        running.answers.clear()
        # Within max-age the cached page answers an open requirement...
        assert "delta-1.0" in dry_run(tmp_home, tmp_path, running.url, "delta")
        assert page_statuses(running) == []
        # ...but one it cannot meet makes roost ask the index again,
        assert "delta-2.0" in dry_run(tmp_home, tmp_path, running.url, "delta==2.0")
        assert page_statuses(running) == [200]
        # and -U always asks.
        running.answers.clear()
        index.add(WheelSpec("delta", "3.0"))
        index.write()
        assert "delta-3.0" in dry_run(tmp_home, tmp_path, running.url, "-U", "delta")
        assert page_statuses(running) == [200]


def test_a_requirement_no_release_meets_fails_after_one_more_look(
    tmp_home: dict[str, str], tmp_path: Path
) -> None:
    with ConditionalServer(delta_index(tmp_path), cache_control="max-age=600") as running:
        dry_run(tmp_home, tmp_path, running.url, "delta")
        running.answers.clear()
        result = dry_run_install(running.url, tmp_path, "delta==9.0", env=tmp_home, check=False)
        assert result.returncode != 0
        assert "delta" in result.stderr and "9.0" in result.stderr
        assert page_statuses(running) == [304]


def entry_with(headers: dict[str, str], stored: float) -> Entry:
    return Entry("http://x/", 200, tuple(headers.items()), b"", stored)


def test_freshness_rules() -> None:
    now = 1_000_000.0
    assert entry_with({"cache-control": "max-age=60"}, now - 59).fresh(now)
    assert not entry_with({"cache-control": "max-age=60"}, now - 61).fresh(now)
    assert not entry_with({"cache-control": "max-age=60", "age": "30"}, now - 31).fresh(now)
    assert not entry_with({"cache-control": "max-age=60, no-cache"}, now).fresh(now)
    assert not entry_with({"cache-control": "max-age=oops"}, now).fresh(now)
    assert not entry_with({}, now).fresh(now)  # no lifetime given: always revalidated
    assert not entry_with({"cache-control": "max-age=60"}, now + 5).fresh(now)  # clock went back
    dated = {"date": "Wed, 21 Oct 2026 07:28:00 GMT", "expires": "Wed, 21 Oct 2026 07:38:00 GMT"}
    assert entry_with(dated, now - 599).fresh(now)
    assert not entry_with(dated, now - 601).fresh(now)
