"""``roost inspect`` is pip 26.3's report for the same venv: the same JSON, field order
and layout, including the odd cases pip handles (credentials in direct_url.json, legacy
hashes, old metadata fields, INSTALLER files), and pip's ``--path``/``--user``/``--local``
filters.

The reference pip is :mod:`tests.support.reference_pip`'s; without one, the tests
that compare fail and say so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from roost.testing import IndexServer, VenvMaker, WheelMaker
from tests.support import pip_and_roost
from tests.support.pip_and_roost import PipRunner, roost

# The shared fixture, bound here so that pytest finds it for this module's tests.
pip26 = pip_and_roost.pip26


# -- inspect ------------------------------------------------------------------------------

_ALPHA_METADATA = """\
Metadata-Version: 2.1
Name: alpha
Version: 1.0
Summary: Alpha, with "quotes" and \u00fcn\u00efcode
Keywords: fast, small,tiny
Author: A. Person
License: first line
        second line
Classifier: Programming Language :: Python :: 3
Classifier: License :: OSI Approved :: MIT License
Project-URL: Homepage, https://example.invalid/alpha
Requires: an-old-field
Provides-Extra: fast
Requires-Dist: beta>=1
Description-Content-Type: text/markdown

# Alpha

The body, in **markdown**, with \u00fcn\u00efcode.
"""
_BETA_METADATA = """\
Metadata-Version: 1.2
Name: beta
Version: 2.0
Keywords: one two three
Description: line one
        |line two
"""
#: direct_url.json of each distribution: credentials pip removes and ones it keeps,
#: each kind of PEP 610 info, a legacy hash, and one file pip finds invalid.
_DIRECT_URLS = {
    "alpha": {
        "url": "https://user:secret@example.invalid/alpha-1.0-py3-none-any.whl",
        "archive_info": {"hashes": {"sha256": "a" * 64, "md5": "b" * 32}},
    },
    "beta": {
        "url": "git+https://${TOKEN}@example.invalid/beta.git",
        "vcs_info": {"vcs": "git", "commit_id": "c" * 40, "requested_revision": "main"},
        "subdirectory": "src/beta",
    },
    "gamma": {"url": "file:///somewhere/gamma", "dir_info": {"editable": True}},
    "delta": {"url": "https://example.invalid/delta", "dir_info": {}},
    "epsilon": {
        "url": "https://example.invalid/e.tar.gz",
        "archive_info": {"hash": "sha256=" + "d" * 64},
    },
}


def _installed_venv(
    roost_venv: VenvMaker, roost_index: IndexServer, make_wheel: WheelMaker, env: dict[str, str]
) -> Path:
    """A venv with five distributions installed by roost, their files then rewritten so
    every odd case pip handles is there."""
    roost_index.add(make_wheel("alpha", "1.0", requires=["beta>=1"]))
    roost_index.add(make_wheel("beta", "2.0"))
    for name in ("gamma", "delta", "epsilon"):
        roost_index.add(make_wheel(name, "1.0"))
    venv = roost_venv()
    roost(
        "install",
        "--python",
        venv.python,
        "-i",
        roost_index.url,
        "alpha",
        "gamma",
        "delta",
        "epsilon",
        env=env,
        check=True,
    )
    site = next(venv.path.glob("lib/python*/site-packages"))
    for info in site.glob("*.dist-info"):
        name = info.name.split("-")[0]
        (info / "direct_url.json").write_text(json.dumps(_DIRECT_URLS[name]))
    (next(site.glob("alpha-*.dist-info")) / "METADATA").write_text(_ALPHA_METADATA)
    (next(site.glob("beta-*.dist-info")) / "METADATA").write_text(_BETA_METADATA)
    (next(site.glob("gamma-*.dist-info")) / "INSTALLER").write_text("\n  other-tool  \nsecond\n")
    (next(site.glob("delta-*.dist-info")) / "INSTALLER").write_text("")
    return venv.python


def _by_name(report: dict[str, Any]) -> dict[str, Any]:
    report["installed"].sort(key=lambda item: item["metadata"]["name"])
    return report


def test_inspect_is_pips_report_for_the_same_venv(
    tmp_home: dict[str, str],
    pip26: PipRunner,
    roost_venv: VenvMaker,
    roost_index: IndexServer,
    make_wheel: WheelMaker,
) -> None:
    from roost.version import __version__

    python = _installed_venv(roost_venv, roost_index, make_wheel, tmp_home)
    ours = roost("inspect", "--python", python, env=tmp_home, check=True)
    theirs = pip26("inspect", python=python)
    assert theirs.returncode == 0, theirs.stderr
    report = json.loads(ours.stdout)
    # pip's layout: two-space indentation, non-ASCII text as it is.
    assert ours.stdout == json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    assert "\u00fcn\u00efcode" in ours.stdout
    assert report.pop("roost_version") == __version__
    expected = json.loads(theirs.stdout)
    assert list(report) == list(expected)
    assert _by_name(report) == _by_name(expected)
    for mine, pips in zip(report["installed"], expected["installed"], strict=True):
        assert list(mine["metadata"]) == list(pips["metadata"])  # pip's field order
        assert list(mine) == list(pips)
    # The cases themselves, so a change on both sides cannot pass unnoticed.
    alpha, beta, delta, epsilon, gamma = report["installed"]
    assert alpha["direct_url"]["url"] == "https://example.invalid/alpha-1.0-py3-none-any.whl"
    assert alpha["requested"] is True and beta["requested"] is False
    assert alpha["metadata"]["keywords"] == ["fast", "small", "tiny"]
    assert alpha["metadata"]["license"] == "first line\nsecond line"
    assert "requires" not in alpha["metadata"]
    assert beta["metadata"]["description"] == "line one\n|line two"
    assert beta["direct_url"]["url"].startswith("git+https://${TOKEN}@")
    assert "direct_url" not in delta and "installer" not in delta
    assert epsilon["direct_url"]["archive_info"]["hashes"] == {"sha256": "d" * 64}
    assert gamma["installer"] == "other-tool"
    assert "delta" in ours.stderr  # its direct_url.json is left out, with a warning


def test_inspect_filters_as_pip(
    tmp_home: dict[str, str],
    pip26: PipRunner,
    roost_venv: VenvMaker,
    roost_index: IndexServer,
    make_wheel: WheelMaker,
) -> None:
    roost_index.add(make_wheel("solo", "1.0"))
    venv = roost_venv()
    roost(
        "install", "--python", venv.python, "-i", roost_index.url, "solo", env=tmp_home, check=True
    )
    site = str(next(venv.path.glob("lib/python*/site-packages")))
    for args in (["--path", site], ["--user"], ["--local"]):
        ours = json.loads(
            roost("inspect", "--python", venv.python, *args, env=tmp_home, check=True).stdout
        )
        theirs = json.loads(pip26("inspect", *args, python=venv.python).stdout)
        ours.pop("roost_version")
        assert ours == theirs, args
    assert [i["metadata"]["name"] for i in ours["installed"]] == ["solo"]
    both = roost("inspect", "--python", venv.python, "--path", site, "--user", env=tmp_home)
    assert both.returncode == 2
