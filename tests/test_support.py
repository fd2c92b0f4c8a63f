"""The test-support library is right: wheels are valid, the index is a real index."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from installer.sources import WheelFile

from tests.support.envs import (
    clean_env,
    installed,
    make_venv,
    manifest,
    pyenv_python,
    run_pip,
    run_roost,
)
from tests.support.index import PackageIndex
from tests.support.server import Fault, IndexServer, negotiate
from tests.support.wheels import WheelSpec, build_wheel, metadata_bytes

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"


def pip(python: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The host pip, acting on *python*'s environment (pip's ``--python``)."""
    return run_pip(python, *args, env=env)


def get(
    url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """One request without following redirects; (status, headers, body)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request(
            method, parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {}
        )
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


# Wheels


def test_wheel_name_layout_and_determinism(tmp_path: Path) -> None:
    spec = WheelSpec(
        "Alpha_Pkg.Two",
        "01.0",
        tag="py2.py3-none-any",
        build="1",
        requires=['beta>=1; python_version < "3.11"'],
        extras=["x"],
        requires_python=">=3.8",
        console_scripts={"alpha": "alpha_pkg_two:main"},
    )
    first = build_wheel(spec, tmp_path / "a")
    second = build_wheel(spec, tmp_path / "b")
    assert first.name == "alpha_pkg_two-1.0-1-py2.py3-none-any.whl"
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        wheel = archive.read("alpha_pkg_two-1.0.dist-info/WHEEL").decode()
        metadata = archive.read("alpha_pkg_two-1.0.dist-info/METADATA")
        init = archive.read("alpha_pkg_two/__init__.py").decode()
    assert names[-1] == "alpha_pkg_two-1.0.dist-info/RECORD"
    assert "Tag: py2-none-any\nTag: py3-none-any\n" in wheel
    assert "Root-Is-Purelib: true" in wheel and "Build: 1" in wheel
    assert metadata == metadata_bytes(spec)
    text = metadata.decode()
    assert "Name: Alpha_Pkg.Two\nVersion: 1.0\n" in text
    assert 'Requires-Dist: beta>=1; python_version < "3.11"' in text
    assert "Provides-Extra: x" in text and "Requires-Python: >=3.8" in text
    assert '__version__ = "1.0"' in init


def test_record_validates_with_installer(tmp_path: Path) -> None:
    spec = WheelSpec(
        "scripted",
        "1.0",
        console_scripts={"s": "scripted:main"},
        files={"scripted/blob.bin": b"\x00\x01"},
        data={"headers/s.h": "x", "data/share/x": "y"},
    )
    path = build_wheel(spec, tmp_path)
    with WheelFile.open(path) as source:
        source.validate_record()
        record = {row[0][0]: row for row in source.get_contents()}
    with zipfile.ZipFile(path) as archive:
        blob = archive.read("scripted/blob.bin")
        lines = archive.read("scripted-1.0.dist-info/RECORD").decode().splitlines()
    digest = base64.urlsafe_b64encode(hashlib.sha256(blob).digest()).rstrip(b"=").decode()
    assert f"scripted/blob.bin,sha256={digest},2" in lines
    assert lines[-1] == "scripted-1.0.dist-info/RECORD,,"
    assert "scripted-1.0.data/headers/s.h" in record


def test_bad_data_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scheme"):
        build_wheel(WheelSpec("x", "1", data={"nowhere/f": "x"}), tmp_path)


def test_pip_installs_built_wheel_and_script_runs(
    tmp_path: Path, venv: Path, tmp_home: dict[str, str], corpus_index: PackageIndex
) -> None:
    wheel = corpus_index.dists_dir / "scripted-1.0-py3-none-any.whl"
    pip(venv, "install", "--no-index", "--no-deps", "--isolated", str(wheel), env=tmp_home)
    bindir = venv.parent
    out = subprocess.run([bindir / "scripted"], capture_output=True, text=True, check=True)
    assert out.stdout == "scripted 1.0\n"
    gui = subprocess.run([bindir / "scripted-gui"], capture_output=True, text=True, check=True)
    assert gui.stdout == "scripted 1.0 gui\n"
    assert (bindir / "scripted-sh").exists()
    prefix = venv.parent.parent
    assert (prefix / "share" / "scripted" / "readme.txt").read_text() == "scripted data\n"
    assert any(prefix.glob("include/site/python*/scripted/scripted.h"))
    assert installed(venv)["scripted"] == "1.0"


# Index on disk


def test_static_index_pages(corpus_index: PackageIndex) -> None:
    simple = corpus_index.simple_dir
    assert "alpha" in corpus_index.projects() and "conflict-a" in corpus_index.projects()
    assert '<a href="conflict-a/">conflict-a</a>' in (simple / "index.html").read_text()
    page = (simple / "onlynew" / "index.html").read_text()
    assert 'data-requires-python="&gt;=3.12"' in page
    assert 'href="../../files/onlynew-1.0-py3-none-any.whl#sha256=' in page
    assert 'data-yanked="broken"' in (simple / "alpha" / "index.html").read_text()
    data = json.loads((simple / "alpha" / "index.json").read_text())
    assert data["meta"] == {"api-version": "1.1"}
    assert data["versions"] == ["1.0", "1.1", "1.5", "2.0", "2.1rc1"]
    by_name = {f["filename"]: f for f in data["files"]}
    yanked = by_name["alpha-1.5-py3-none-any.whl"]
    assert yanked["yanked"] == "broken"
    assert by_name["alpha-1.0-py3-none-any.whl"]["yanked"] is False
    wheel = corpus_index.dists_dir / "alpha-1.0-py3-none-any.whl"
    entry = by_name[wheel.name]
    assert entry["hashes"]["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert entry["size"] == wheel.stat().st_size
    meta = Path(str(wheel) + ".metadata").read_bytes()
    assert entry["core-metadata"] == {"sha256": hashlib.sha256(meta).hexdigest()}
    assert entry["dist-info-metadata"] == entry["core-metadata"]


def test_nometa_offers_no_metadata(corpus_index: PackageIndex) -> None:
    data = json.loads((corpus_index.simple_dir / "nometa" / "index.json").read_text())
    assert data["files"][0]["core-metadata"] is False
    assert (
        "data-core-metadata" not in (corpus_index.simple_dir / "nometa" / "index.html").read_text()
    )
    assert not (corpus_index.dists_dir / "nometa-1.0-py3-none-any.whl.metadata").exists()


def test_find_links_folder_holds_only_distributions(corpus_index: PackageIndex) -> None:
    names = sorted(p.name for p in corpus_index.files_dir.iterdir())
    assert "sdistonly-1.0.tar.gz" in names and "alpha-1.0-py3-none-any.whl" in names
    assert all(n.endswith((".whl", ".tar.gz")) for n in names)


def test_index_advertises_what_it_is_told(tmp_path: Path) -> None:
    index = PackageIndex(tmp_path)
    index.add(WheelSpec("p", "1.0", requires_python=">=3.9"), requires_python=None)
    index.add(WheelSpec("p", "2.0"), requires_python="<4", yanked="")
    index.write()
    files = json.loads((tmp_path / "simple" / "p" / "index.json").read_text())["files"]
    assert "requires-python" not in files[0] and files[1]["requires-python"] == "<4"
    assert files[1]["yanked"] is True
    assert index.file_url == (tmp_path / "simple").resolve().as_uri()


def test_pip_installs_from_static_file_index(
    venv: Path, tmp_home: dict[str, str], corpus_index: PackageIndex
) -> None:
    pip(
        venv,
        "install",
        "--isolated",
        "--no-cache-dir",
        "--index-url",
        corpus_index.file_url,
        "gamma[fast]",
        env=tmp_home,
    )
    assert installed(venv) == {"gamma": "1.0", "delta": "1.0"}


# Server


def test_server_negotiates_format(index_server: IndexServer) -> None:
    url = index_server.url + "/alpha/"
    status, headers, body = get(url, {"Accept": f"{JSON_V1}, {HTML_V1};q=0.1"})
    assert status == 200 and headers["Content-Type"] == JSON_V1
    assert json.loads(body)["name"] == "alpha"
    status, headers, body = get(url, {"Accept": f"{JSON_V1};q=0.2, text/html;q=0.5"})
    assert headers["Content-Type"] == "text/html" and b"<a href=" in body
    status, headers, _ = get(url, {"Accept": HTML_V1})
    assert headers["Content-Type"] == HTML_V1
    status, headers, _ = get(url)
    assert headers["Content-Type"] == "text/html"
    status, _, _ = get(url, {"Accept": "application/xml"})
    assert status == 406
    status, headers, body = get(index_server.url + "/", {"Accept": JSON_V1})
    assert {"name": "alpha"} in json.loads(body)["projects"]


def test_negotiation_respects_formats() -> None:
    assert negotiate("*/*", frozenset({"html"})) == HTML_V1
    assert negotiate("*/*", frozenset({"json", "html"})) == JSON_V1
    assert negotiate("text/*", frozenset({"json", "html"})) == "text/html"
    assert negotiate(JSON_V1, frozenset({"html"})) is None
    assert negotiate(f"{JSON_V1};q=0, */*;q=0.1", frozenset({"json", "html"})) == HTML_V1


def test_server_404_and_redirects(index_server: IndexServer) -> None:
    assert get(index_server.url + "/no-such-thing/")[0] == 404
    assert get(index_server.root_url + "/files/missing.whl")[0] == 404
    status, headers, _ = get(index_server.url + "/Conflict_A/")
    assert status == 301 and headers["Location"] == "/simple/conflict-a/"
    status, headers, _ = get(index_server.url + "/alpha")
    assert status == 301 and headers["Location"] == "/simple/alpha/"


def test_server_files_metadata_and_ranges(
    index_server: IndexServer, corpus_index: PackageIndex
) -> None:
    name = "alpha-1.0-py3-none-any.whl"
    data = (corpus_index.dists_dir / name).read_bytes()
    url = f"{index_server.root_url}/files/{name}"
    status, headers, body = get(url)
    assert (status, body, headers["Content-Length"]) == (200, data, str(len(data)))
    status, headers, body = get(url, method="HEAD")
    assert status == 200 and body == b"" and headers["Content-Length"] == str(len(data))
    status, headers, body = get(url, {"Range": "bytes=10-19"})
    assert (status, body) == (206, data[10:20])
    assert headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    status, headers, body = get(url, {"Range": "bytes=-22"})
    assert (status, body) == (206, data[-22:])
    assert get(url, {"Range": f"bytes={len(data)}-"})[0] == 416
    status, _, body = get(url + ".metadata")
    assert status == 200 and body.startswith(b"Metadata-Version: 2.1\nName: alpha\nVersion: 1.0\n")
    assert any(r.path == f"/files/{name}" and r.method == "HEAD" for r in index_server.requests)


def test_server_absolute_links(corpus_index: PackageIndex) -> None:
    with IndexServer(corpus_index, absolute_links=True, formats=frozenset({"json"})) as server:
        _, headers, body = get(server.url + "/delta/", {"Accept": "text/html"})
        assert _ == 406
        _, headers, body = get(server.url + "/delta/")
        assert headers["Content-Type"] == JSON_V1
        url = json.loads(body)["files"][0]["url"]
        assert url == f"{server.root_url}/files/delta-1.0-py3-none-any.whl"


def test_server_auth(corpus_index: PackageIndex) -> None:
    with IndexServer(corpus_index, auth=("user", "s3cret")) as server:
        status, headers, _ = get(server.url + "/")
        assert status == 401 and headers["WWW-Authenticate"].startswith("Basic ")
        bad = base64.b64encode(b"user:wrong").decode()
        assert get(server.url + "/", {"Authorization": f"Basic {bad}"})[0] == 401
        good = base64.b64encode(b"user:s3cret").decode()
        assert get(server.url + "/", {"Authorization": f"Basic {good}"})[0] == 200


def test_server_faults(corpus_index: PackageIndex) -> None:
    with IndexServer(corpus_index) as server:
        server.set_fault("/simple/alpha/", Fault(status=503, times=2, retry_after=1))
        first = get(server.url + "/alpha/")
        assert first[0] == 503 and first[1]["Retry-After"] == "1"
        assert get(server.url + "/alpha/")[0] == 503
        assert get(server.url + "/alpha/")[0] == 200
        server.set_fault("/files/*.whl", Fault(truncate_after=100))
        url = f"{server.root_url}/files/alpha-1.0-py3-none-any.whl"
        with pytest.raises(http.client.IncompleteRead):
            get(url)
        server.set_fault("/files/delta*", Fault(reset=True, truncate_after=5))
        with pytest.raises((http.client.IncompleteRead, ConnectionError)):
            get(f"{server.root_url}/files/delta-1.0-py3-none-any.whl")
        assert get(url)[0] == 200
        assert len(server.requests_for("/files/*")) == 3


def test_server_keeps_alive_and_stops(corpus_index: PackageIndex) -> None:
    server = IndexServer(corpus_index).start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    for _ in range(2):
        conn.request("GET", "/simple/")
        assert conn.getresponse().read()
    url = server.url + "/"
    server.stop()  # must not hang on the open keep-alive connection
    conn.close()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)


def test_server_tls(corpus_index: PackageIndex) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    import ssl

    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    with IndexServer(corpus_index, ssl_context=server_ctx) as server:
        assert server.url.startswith("https://127.0.0.1:")
        with urllib.request.urlopen(server.url + "/zeta/", context=client_ctx) as response:
            assert b"zeta-1.0-py3-none-any.whl" in response.read()


def test_pip_installs_from_server(
    venv: Path, tmp_home: dict[str, str], index_server: IndexServer
) -> None:
    pip(
        venv,
        "install",
        "--isolated",
        "--no-cache-dir",
        "--index-url",
        index_server.url,
        "beta",
        "epsilon",
        env=tmp_home,
    )
    # beta wants alpha<2: 1.1, because 1.5 is yanked; epsilon picks zeta on 3.11+.
    expected = {"beta": "1.0", "alpha": "1.1", "epsilon": "1.0"}
    expected["zeta" if sys.version_info >= (3, 11) else "delta"] = "1.0"
    assert installed(venv) == expected
    alpha = subprocess.run([venv.parent / "alpha"], capture_output=True, text=True, check=True)
    assert alpha.stdout == "alpha 1.1\n"


# Environments


def test_make_venv_and_manifest(tmp_path: Path) -> None:
    assert installed(make_venv(tmp_path / "plain")) == {}
    python = make_venv(tmp_path / "v", system_site_packages=True)
    assert python.exists()
    assert "include-system-site-packages = true" in (tmp_path / "v" / "pyvenv.cfg").read_text()
    before = manifest(tmp_path / "v")
    assert "pyvenv.cfg" in before and "bin/" in before
    assert before["bin/python"][0] == -1  # a symlink, recorded by target
    (tmp_path / "v" / "lib" / "extra").mkdir()
    after = manifest(tmp_path / "v")
    assert set(after) - set(before) == {"lib/extra/"}
    # A venv of a venv's python is a venv of the base interpreter: it sees the base's.
    base = Path(sys.base_prefix) / "bin" / "python3"
    assert installed(python) == installed(base)


def test_pyenv_python() -> None:
    assert pyenv_python("2.0.nothing") is None
    found = pyenv_python("3.12")
    if found is None:
        pytest.skip("no pyenv 3.12 here")
    assert found.name == "python" and "/3.12." in str(found)


def test_clean_env_hides_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "http://example.invalid/")
    monkeypatch.setenv("ROOST_INDEX_URL", "http://example.invalid/")
    monkeypatch.setenv("VIRTUAL_ENV", "/nowhere")
    env = clean_env(tmp_path)
    assert not any(k.startswith(("PIP_INDEX", "ROOST_")) for k in env)
    assert "VIRTUAL_ENV" not in env
    assert env["HOME"] == str(tmp_path) and env["PIP_CONFIG_FILE"] == os.devnull


def test_run_roost_uses_clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("roost.cli.main")
    monkeypatch.setenv("ROOST_SOMETHING", "leak")
    result = run_roost("--help")
    assert result.returncode == 0, result.stderr
    assert "install" in result.stdout


def test_network_marker_skips_without_option(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_addoption, pytest_collection_modifyitems\n"
    )
    (tmp_path / "test_net.py").write_text(
        "import pytest\n\n@pytest.mark.network\ndef test_net():\n    pass\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-rs",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "-o",
        "markers=network: x",
        str(tmp_path),
    ]
    skipped = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert "1 skipped" in skipped.stdout and "--run-network" in skipped.stdout
    ran = subprocess.run(
        [*command, "--run-network"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "1 passed" in ran.stdout, ran.stdout


def test_wheel_factory_builds_into_tmp(
    wheel_factory: Callable[[WheelSpec], Path], tmp_path: Path
) -> None:
    path = wheel_factory(WheelSpec("made", "1.0"))
    assert path.parent == tmp_path / "wheels" and path.is_file()


def test_local_version_link_is_quoted_and_served(tmp_path: Path) -> None:
    index = PackageIndex(tmp_path)
    index.add(WheelSpec("loc", "1.0+local.1"))
    with IndexServer(index, absolute_links=True) as server:
        _, _, body = get(server.url + "/loc/", {"Accept": JSON_V1})
        url = json.loads(body)["files"][0]["url"]
        assert url.endswith("/files/loc-1.0%2Blocal.1-py3-none-any.whl")
        status, _, data = get(url)
    assert (
        status == 200
        and data == (tmp_path / "files" / "loc-1.0+local.1-py3-none-any.whl").read_bytes()
    )
