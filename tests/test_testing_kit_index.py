"""roost.testing's roost_index fixture, through its public API only: the index is real
(pip and roost read it, as JSON and HTML, with PEP 658 metadata, yanked files and PEP 700
upload times), it refuses what is not a distribution, and pip installs the wheels
make_wheel made from it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import pytest

from roost.testing import IndexServer, RoostRunner, VenvMaker, WheelMaker, clean_env

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"


def fetch(url: str, accept: str | None = None) -> tuple[int, str, bytes]:
    """GET *url* on loopback: (status, Content-Type, body), error statuses included."""
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


# -- roost_index -------------------------------------------------------------------


def test_index_serves_what_was_added_as_json_and_html(
    make_wheel: WheelMaker, roost_index: IndexServer, tmp_path: Path
) -> None:
    page = f"{roost_index.url}/kit-demo/"
    assert fetch(page)[0] == 404
    wheel = make_wheel("kit-demo", "1.0", requires_python=">=3.8")
    roost_index.add(wheel)
    sdist = tmp_path / "kit_demo-1.0.tar.gz"
    sdist.write_bytes(b"not read by the index")
    roost_index.add(sdist)

    status, media, body = fetch(page, JSON_V1)
    assert (status, media) == (200, JSON_V1)
    files = {entry["filename"]: entry for entry in json.loads(body)["files"]}
    assert sorted(files) == ["kit_demo-1.0-py3-none-any.whl", "kit_demo-1.0.tar.gz"]
    listed = files["kit_demo-1.0-py3-none-any.whl"]
    assert listed["hashes"]["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert listed["requires-python"] == ">=3.8"
    assert files["kit_demo-1.0.tar.gz"]["core-metadata"] is False
    # PEP 658: the metadata file is served beside the wheel, and its hash is the listed one.
    status, _, metadata = fetch(urljoin(page, listed["url"]) + ".metadata")
    assert status == 200
    assert listed["core-metadata"] == {"sha256": hashlib.sha256(metadata).hexdigest()}
    with zipfile.ZipFile(wheel) as archive:
        assert metadata == archive.read("kit_demo-1.0.dist-info/METADATA")
    assert fetch(urljoin(page, listed["url"]))[2] == wheel.read_bytes()

    status, media, body = fetch(page, HTML_V1)
    assert (status, media) == (200, HTML_V1)
    html = body.decode()
    assert 'data-requires-python="&gt;=3.8"' in html
    assert f'data-core-metadata="sha256={hashlib.sha256(metadata).hexdigest()}"' in html
    assert f"kit_demo-1.0-py3-none-any.whl#sha256={listed['hashes']['sha256']}" in html
    assert "kit-demo" in fetch(f"{roost_index.url}/", JSON_V1)[2].decode()

    roost_index.add(make_wheel("kit-demo", "2.0"), yanked="broken")
    again = json.loads(fetch(page, JSON_V1)[2])
    assert again["versions"] == ["1.0", "2.0"]
    assert [f["yanked"] for f in again["files"] if "2.0" in f["filename"]] == ["broken"]
    assert roost_index.requests_for("/simple/kit-demo/")


def test_index_refuses_what_is_not_a_distribution(
    roost_index: IndexServer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(ValueError, match="not a wheel"):
        roost_index.add(notes)
    with pytest.raises(FileNotFoundError):
        roost_index.add(tmp_path / "missing-1.0.tar.gz")
    with pytest.raises(FileNotFoundError):
        roost_index.add(tmp_path / "missing-1.0-py3-none-any.whl")
    assert fetch(f"{roost_index.url}/missing/")[0] == 404


# A candidate filter that says what roost read as each file's PEP 700 upload time, and
# keeps nothing uploaded in 2024 or later.
UPLOAD_TIME_PLUGIN = """\
import datetime

from roost import hookimpl
from roost.policy_types import Exclusion

CUTOFF = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


@hookimpl
def roost_filter_candidates(project, candidates, options):
    found = []
    for candidate in candidates:
        when = candidate.upload_time
        if when is None or when >= CUTOFF:
            found.append(Exclusion(filename=candidate.filename, reason=f"uploaded {when}"))
    return found
"""


def test_index_serves_pep_700_upload_times(
    *,
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    run_roost: RoostRunner,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    utc = datetime.timezone.utc
    old = datetime.datetime(2023, 5, 1, 12, 30, 5, 250000, tzinfo=utc)
    # Another zone is given in UTC on the page.
    new = datetime.datetime(
        2024, 3, 1, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    )
    roost_index.add(make_wheel("kit-aged", "1.0"), upload_time=old)
    roost_index.add(make_wheel("kit-aged", "2.0"), upload_time=new)
    roost_index.add(make_wheel("kit-aged", "3.0"))
    sdist = tmp_path / "kit_aged-1.0.tar.gz"
    sdist.write_bytes(b"not read by the index")
    roost_index.add(sdist, upload_time=old)
    with pytest.raises(ValueError, match="no time zone"):
        roost_index.add(make_wheel("kit-aged", "4.0"), upload_time=datetime.datetime(2024, 1, 1))

    page = f"{roost_index.url}/kit-aged/"
    files = {f["filename"]: f for f in json.loads(fetch(page, JSON_V1)[2])["files"]}
    assert files["kit_aged-1.0-py3-none-any.whl"]["upload-time"] == "2023-05-01T12:30:05.250000Z"
    assert files["kit_aged-2.0-py3-none-any.whl"]["upload-time"] == "2024-03-01T07:00:00.000000Z"
    assert files["kit_aged-1.0.tar.gz"]["upload-time"] == "2023-05-01T12:30:05.250000Z"
    assert "upload-time" not in files["kit_aged-3.0-py3-none-any.whl"]
    assert "kit_aged-4.0-py3-none-any.whl" not in files  # refused before anything was added
    assert b"upload-time" not in fetch(page, HTML_V1)[2]  # PEP 700 is JSON only

    # roost reads the times from the page: the filter keeps only what came before 2024.
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "roost_kit_uploads.py").write_text(UPLOAD_TIME_PLUGIN)
    monkeypatch.syspath_prepend(str(plugins))
    venv = roost_venv()
    args = ["--python", str(venv.python), "-i", roost_index.url, "--only-binary", ":all:"]
    run_roost("-p", "roost_kit_uploads", "install", *args, "kit-aged", check=True)
    assert venv.has("kit-aged", "1.0")
    refused = run_roost("-p", "roost_kit_uploads", "install", *args, "kit-aged>1")
    assert refused.returncode == 1
    assert "uploaded 2024-03-01 07:00:00+00:00" in refused.stderr
    assert "kit_aged-3.0-py3-none-any.whl excluded by policy: uploaded None" in refused.stderr


def test_pip_installs_a_made_wheel_from_the_index(
    make_wheel: WheelMaker, roost_index: IndexServer, tmp_path: Path
) -> None:
    """Another installer reads the same index and wheels: they are real."""
    roost_index.add(make_wheel("kit-dep", "2.0"))
    roost_index.add(make_wheel("kit-dep", "1.0"))
    scripts = {"console_scripts": {"kit-app": "kit_app:main"}}
    roost_index.add(make_wheel("kit-app", "1.0", requires=["kit-dep<2"], entry_points=scripts))
    home = tmp_path / "pip-home"
    home.mkdir()
    target = tmp_path / "target"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-cache-dir", "--target", str(target),
         "--index-url", roost_index.url, "kit-app"],
        env=clean_env(home), cwd=home, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert (target / "kit_app-1.0.dist-info" / "RECORD").is_file()
    assert (target / "kit_dep-1.0.dist-info").is_dir()  # the index's Requires-Dist was read
    assert (target / "bin" / "kit-app").is_file()
    run = subprocess.run(
        [sys.executable, "-c", "import kit_app; kit_app.main()"],
        env={**clean_env(home), "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout == "kit-app 1.0\n"
