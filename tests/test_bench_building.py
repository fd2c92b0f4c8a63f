"""The benchmark's building scenario: sdists in its static index (bench/static_index.py),
the local project and the cold/warm runs (bench/building.py), the report's section.

The index the scenario serves must be one the installers can build from: sdists listed
with their hashes and without PEP 658 files, the backend there as a wheel. Everything
here is served on loopback; the setuptools wheel is the one nox fetched for the tests.
"""

from __future__ import annotations

import email.parser
import hashlib
import importlib.util
import io
import json
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin

import pytest

from bench.building import TITLE, bench_build
from bench.prepare import BUILD_SDISTS, BUILD_SET, BUILD_WHEELS, STAMP, download_set
from bench.report import markdown
from bench.server import serve
from bench.static_index import add_file, add_sdist, write_index
from tests.support.envs import make_venv
from tests.support.fetched import fetched_wheel
from tests.support.projects import in_tree_project, make_sdist

PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
NEEDS_PIP = pytest.mark.skipif(
    importlib.util.find_spec("pip") is None, reason="pip is not installed"
)
#: The PKG-INFO of the sdist-only project: an old Metadata-Version, as docopt's, so
#: an installer must run the backend to learn its dependencies.
PKG_INFO = "Metadata-Version: 1.1\nName: OnlySdist\nVersion: 1.0\nRequires-Python: >=3.8\n"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``onlysdist-1.0.tar.gz``: an in-tree backend (nothing to download to build it)."""
    base = tmp_path_factory.mktemp("bench-sdist")
    project = in_tree_project(base / "onlysdist", "onlysdist", "1.0")
    (project / "PKG-INFO").write_text(PKG_INFO)
    return make_sdist(project, base / "dist", "onlysdist", "1.0")


@pytest.fixture(scope="module")
def index_root(tmp_path_factory: pytest.TempPathFactory, sdist: Path) -> Path:
    root = tmp_path_factory.mktemp("bench-build-index") / "index"
    write_index([sdist, fetched_wheel("setuptools", PYTHON)], root)
    return root


@pytest.fixture(scope="module")
def base_url(index_root: Path) -> Iterator[str]:
    with serve(index_root) as url:
        yield url


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))


def test_an_sdist_is_listed_with_its_hash_and_without_metadata(
    index_root: Path, sdist: Path
) -> None:
    page_dir = index_root / "simple" / "onlysdist"
    page = json.loads((page_dir / "index.json").read_text())
    assert page["name"] == "onlysdist" and page["versions"] == ["1.0"]
    (record,) = page["files"]
    data = sdist.read_bytes()
    assert record["filename"] == "onlysdist-1.0.tar.gz"
    assert record["hashes"] == {"sha256": _sha(data)} and record["size"] == len(data)
    assert (page_dir / unquote(record["url"])).resolve().read_bytes() == data
    assert record["requires-python"] == ">=3.8"  # read from the sdist's PKG-INFO
    # PEP 714: no metadata file, so neither key (a false value would mean the same).
    assert "core-metadata" not in record and "dist-info-metadata" not in record
    assert not (index_root / "files" / "onlysdist-1.0.tar.gz.metadata").exists()
    parser = _Anchors()
    parser.feed((page_dir / "index.html").read_text())
    (anchor,) = parser.anchors
    assert anchor["href"] == f"../../files/onlysdist-1.0.tar.gz#sha256={_sha(data)}"
    assert anchor["data-requires-python"] == ">=3.8"
    assert "data-core-metadata" not in anchor and "data-dist-info-metadata" not in anchor
    # The wheel beside it keeps its PEP 658 file.
    (wheel,) = json.loads((index_root / "simple" / "setuptools" / "index.json").read_text())[
        "files"
    ]
    meta = (index_root / "files" / (wheel["filename"] + ".metadata")).read_bytes()
    assert wheel["core-metadata"] == {"sha256": _sha(meta)}
    listing = json.loads((index_root / "simple" / "index.json").read_text())
    assert sorted(p["name"] for p in listing["projects"]) == ["OnlySdist", "setuptools"]


def test_the_server_hands_out_the_sdist_it_lists(base_url: str) -> None:
    page_url = f"{base_url}/simple/onlysdist/"
    request = urllib.request.Request(page_url, headers={"Accept": JSON_TYPE})
    with urllib.request.urlopen(request, timeout=10) as response:
        (record,) = json.loads(response.read())["files"]
    with urllib.request.urlopen(urljoin(page_url, record["url"]), timeout=10) as response:
        assert _sha(response.read()) == record["hashes"]["sha256"]


def _zip_sdist(dest: Path, members: dict[str, str]) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / "Zipped_Pkg-2.0.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return archive


def test_a_zip_sdist_and_one_without_pkg_info(tmp_path: Path) -> None:
    pkg_info = "Metadata-Version: 2.1\nName: Zipped.Pkg\nVersion: 2.0\nRequires-Python: >=3.9\n"
    zipped = _zip_sdist(tmp_path / "zip", {"Zipped_Pkg-2.0/PKG-INFO": pkg_info})
    entry = add_file(zipped, tmp_path / "files")
    assert (entry.project, entry.display_name, entry.version) == (
        "zipped-pkg",
        "Zipped.Pkg",
        "2.0",
    )
    assert entry.requires_python == ">=3.9" and entry.metadata_sha256 is None
    assert entry.sha256 == _sha(zipped.read_bytes())
    # Only the top-level PKG-INFO counts (an egg-info's copy is not the sdist's).
    nested = _zip_sdist(
        tmp_path / "nested", {"Zipped_Pkg-2.0/x.egg-info/PKG-INFO": "Requires-Python: >=3.12\n"}
    )
    entry = add_sdist(nested, tmp_path / "files-nested")
    assert entry.requires_python is None and entry.display_name == "zipped-pkg"
    # A tar.gz whose PKG-INFO is not a regular file is read as having none.
    archive = tmp_path / "linked-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        info = tarfile.TarInfo("linked-1.0/PKG-INFO")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(info)
        data = b"print('hi')\n"
        info = tarfile.TarInfo("linked-1.0/setup.py")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    assert add_sdist(archive, tmp_path / "files-linked").requires_python is None


def test_only_wheels_and_sdists_can_be_indexed(tmp_path: Path) -> None:
    other = tmp_path / "notes-1.0.txt"
    other.write_text("not a distribution")
    with pytest.raises(ValueError, match=r"notes-1\.0\.txt is neither a wheel nor an sdist"):
        write_index([other], tmp_path / "index")


def test_a_downloaded_build_set_is_not_downloaded_again(tmp_path: Path) -> None:
    """The stamp covers the sdists too: a complete folder is listed and pip is not run;
    another interpreter's stamp makes it download (which fails: this one has no pip)."""
    python = make_venv(tmp_path / "no-pip")
    dest = tmp_path / "build"
    dest.mkdir()
    files = [dest / "docopt-0.6.2.tar.gz", dest / "setuptools-80.0-py3-none-any.whl"]
    for path in files:
        path.write_bytes(b"")
    stamp = {
        "requirements": [*BUILD_SDISTS, *BUILD_WHEELS],
        "python": PYTHON,
        "sdists": ["docopt"],
    }
    (dest / STAMP).write_text(json.dumps(stamp))
    assert download_set(BUILD_SET, dest, python=str(python)) == sorted(files)
    (dest / STAMP).write_text(json.dumps({**stamp, "python": "2.7"}))
    with pytest.raises(subprocess.CalledProcessError):
        download_set(BUILD_SET, dest, python=str(python))


@NEEDS_PIP
def test_the_scenario_with_pip_cold_and_warm(tmp_path: Path, base_url: str) -> None:
    """pip (the reference) installs the project and builds the sdist in both modes, the
    cold run's cache holds what it built, and the report names the scenario."""
    lines: list[str] = []
    results = bench_build(
        f"{base_url}/simple/",
        tools=["pip"],
        modes=["cold", "noop", "warm"],
        runs=1,
        scratch=tmp_path / "work",
        say=lines.append,
        dependencies=("onlysdist",),
    )
    assert list(results) == ["cold", "warm"]  # no-op means nothing for a build
    for mode in ("cold", "warm"):
        pip = results[mode]["tools"]["pip"]
        assert pip["failures"] == [], pip["failures"]
        assert pip["ok_runs"] == 1 and pip["installed_dists"] == [2]
    venv = tmp_path / "work" / "warm-pip-0"
    records = list(venv.glob("lib/python*/site-packages/onlysdist-1.0.dist-info/METADATA"))
    assert len(records) == 1
    fields = email.parser.Parser().parsestr(records[0].read_text())
    assert fields["Name"] == "onlysdist"
    assert (venv / "bin" / "bench-project").is_file()  # the project's console script
    # pip's wheel cache of the cold run holds the wheel it built from the sdist.
    assert list((tmp_path / "work" / "cold-cache-pip-0").rglob("onlysdist-1.0-*.whl"))
    assert any("primed pip (ok" in line for line in lines)
    report = {"requirements": {"build": ["onlysdist"]}, "titles": {"build": TITLE}}
    table = markdown({**report, "sets": {"build": results}})
    assert f"### build: {TITLE}" in table
    assert "| cold install | - | " in table and "| warm install | - | " in table


@NEEDS_PIP
def test_a_failing_build_is_recorded_and_warm_runs_are_skipped(tmp_path: Path) -> None:
    """An index without the backend: the build cannot start, the failure's stderr is kept."""
    root = tmp_path / "index"
    write_index([], root)
    with serve(root) as url:
        results = bench_build(
            f"{url}/simple/",
            tools=["pip"],
            modes=["cold", "warm"],
            runs=1,
            scratch=tmp_path / "work",
            say=lambda line: None,
            dependencies=(),
        )
    cold = results["cold"]["tools"]["pip"]
    assert cold["ok_runs"] == 0 and cold["median_s"] is None
    (failure,) = cold["failures"]
    assert failure["returncode"] not in (0, -1) and "setuptools" in failure["stderr_tail"]
    (skipped,) = results["warm"]["tools"]["pip"]["failures"]
    assert skipped["returncode"] == -1
    assert skipped["stderr_tail"].startswith("priming install failed:\n")
    assert "setuptools" in skipped["stderr_tail"]
