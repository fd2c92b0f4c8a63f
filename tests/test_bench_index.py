"""The benchmark's static index (bench/static_index.py) and its server (bench/server.py).

What the benchmark serves must be a correct index, or its numbers measure nothing:
PEP 691 JSON and PEP 503 HTML pages, right hashes, PEP 658 metadata files, content
negotiation, and pip must be able to install from it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from bench.server import negotiate, serve
from bench.static_index import write_index
from tests.support.envs import clean_env, installed
from tests.support.wheels import WheelSpec, build_wheel, metadata_bytes

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
PIP_ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"

SPECS = [
    WheelSpec("Demo.Pkg", "1.0", requires=["helper>=2"]),
    WheelSpec("Demo.Pkg", "1.1+local", requires=["helper>=2"], requires_python=">=3.8,<4"),
    WheelSpec("helper", "2.0"),
]


@pytest.fixture(scope="module")
def index_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("bench-index")
    wheels = [build_wheel(spec, base / "wheels") for spec in SPECS]
    write_index(wheels, base / "index")
    return base / "index"


@pytest.fixture(scope="module")
def base_url(index_root: Path) -> Iterator[str]:
    with serve(index_root) as url:
        yield url


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))


def _anchors(page: str) -> list[dict[str, str | None]]:
    parser = _Anchors()
    parser.feed(page)
    return parser.anchors


def test_project_list_in_both_formats(index_root: Path) -> None:
    listing = json.loads((index_root / "simple" / "index.json").read_text())
    assert listing["meta"] == {"api-version": "1.1"}
    assert sorted(p["name"] for p in listing["projects"]) == ["Demo.Pkg", "helper"]
    hrefs = [a["href"] for a in _anchors((index_root / "simple" / "index.html").read_text())]
    assert hrefs == ["demo-pkg/", "helper/"]


def test_json_page_hashes_and_metadata(index_root: Path) -> None:
    page_dir = index_root / "simple" / "demo-pkg"
    page = json.loads((page_dir / "index.json").read_text())
    assert page["meta"] == {"api-version": "1.1"}
    assert page["name"] == "demo-pkg"
    assert page["versions"] == ["1.0", "1.1+local"]
    by_name = {f["filename"]: f for f in page["files"]}
    assert set(by_name) == {
        "demo_pkg-1.0-py3-none-any.whl",
        "demo_pkg-1.1+local-py3-none-any.whl",
    }
    records = sorted(by_name.values(), key=lambda f: f["filename"])
    for spec, record in zip(SPECS[:2], records, strict=True):
        target = (page_dir / unquote(record["url"])).resolve()
        data = target.read_bytes()
        assert target.name == record["filename"]
        assert record["hashes"] == {"sha256": _sha(data)}
        assert record["size"] == len(data)
        assert record["yanked"] is False
        meta = Path(str(target) + ".metadata").read_bytes()
        assert meta == metadata_bytes(spec)
        assert record["core-metadata"] == {"sha256": _sha(meta)}
        assert record["dist-info-metadata"] == record["core-metadata"]
    assert by_name["demo_pkg-1.1+local-py3-none-any.whl"]["requires-python"] == ">=3.8,<4"
    assert "requires-python" not in by_name["demo_pkg-1.0-py3-none-any.whl"]
    # "+" in a local version is quoted so every client asks for the same URL.
    assert "%2B" in by_name["demo_pkg-1.1+local-py3-none-any.whl"]["url"]


def test_html_page_hashes_and_metadata(index_root: Path) -> None:
    page_dir = index_root / "simple" / "demo-pkg"
    anchors = _anchors((page_dir / "index.html").read_text())
    assert len(anchors) == 2
    for anchor in anchors:
        href = anchor["href"]
        assert href is not None
        path, _, fragment = href.partition("#")
        target = (page_dir / unquote(urlsplit(path).path)).resolve()
        assert fragment == "sha256=" + _sha(target.read_bytes())
        meta = Path(str(target) + ".metadata").read_bytes()
        assert anchor["data-core-metadata"] == "sha256=" + _sha(meta)
        assert anchor["data-dist-info-metadata"] == anchor["data-core-metadata"]
    assert [a.get("data-requires-python") for a in anchors] == [None, ">=3.8,<4"]


@pytest.mark.parametrize(
    ("accept", "page", "content_type"),
    [
        (PIP_ACCEPT, "index.json", JSON_TYPE),
        ("text/html", "index.html", "text/html"),
        (None, "index.html", "text/html"),
        ("application/json, */*;q=0.1", "index.html", "text/html"),
        (f"text/html;q=0.2, {JSON_TYPE};q=0.9", "index.json", JSON_TYPE),
        (f"{JSON_TYPE};q=0", "index.html", "text/html"),
    ],
)
def test_negotiate(accept: str | None, page: str, content_type: str) -> None:
    assert negotiate(accept) == (page, content_type)


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_server_negotiates_and_serves_files(index_root: Path, base_url: str) -> None:
    page_url = f"{base_url}/simple/demo-pkg/"
    status, headers, body = _get(page_url, Accept=PIP_ACCEPT)
    assert (status, headers["Content-Type"]) == (200, JSON_TYPE)
    page = json.loads(body)
    assert body == (index_root / "simple" / "demo-pkg" / "index.json").read_bytes()
    status, headers, body = _get(page_url, Accept="text/html")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert body == (index_root / "simple" / "demo-pkg" / "index.html").read_bytes()
    for record in page["files"]:
        status, _, data = _get(urljoin(page_url, record["url"]))
        assert status == 200 and _sha(data) == record["hashes"]["sha256"]
        status, _, meta = _get(urljoin(page_url, record["url"]) + ".metadata")
        assert status == 200 and _sha(meta) == record["core-metadata"]["sha256"]
    # A page URL without its slash redirects (urllib follows it).
    status, headers, _ = _get(f"{base_url}/simple/helper", Accept=JSON_TYPE)
    assert status == 200 and headers["Content-Type"] == JSON_TYPE
    assert _get(f"{base_url}/simple/nothing/")[0] == 404
    assert _get(f"{base_url}/../../etc/passwd")[0] == 404


def test_server_revalidates_with_etag(base_url: str) -> None:
    url = f"{base_url}/simple/helper/"
    _, headers, _ = _get(url, Accept=JSON_TYPE)
    assert _get(url, Accept=JSON_TYPE, **{"If-None-Match": headers["ETag"]})[0] == 304


@pytest.mark.skipif(importlib.util.find_spec("pip") is None, reason="pip is not installed")
def test_pip_installs_from_the_served_index(base_url: str, venv: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    command = [sys.executable, "-m", "pip", "--python", str(venv), "install", "--isolated"]
    command += ["--no-compile", "--no-cache-dir", "-i", f"{base_url}/simple/", "demo.pkg"]
    result = subprocess.run(
        command, capture_output=True, text=True, env=clean_env(home), timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert installed(venv) == {"demo-pkg": "1.1+local", "helper": "2.0"}
