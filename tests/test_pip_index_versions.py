"""``roost index versions`` prints pip 26.3's lines for the same index and venv: yanked,
pre-release, incompatible and source-only releases, the installed version, ``--json``,
not-found and usage errors, and ``--uploaded-prior-to``.

The reference pip is :mod:`tests.support.reference_pip`'s; without one, the tests
that compare fail and say so.
"""

from __future__ import annotations

from roost.testing import IndexServer, VenvMaker, WheelMaker
from roost.testing.wheels import build_sdist
from tests.support import pip_and_roost
from tests.support.pip_and_roost import PipRunner, roost

# The shared fixture, bound here so that pytest finds it for this module's tests.
pip26 = pip_and_roost.pip26


# -- index versions -----------------------------------------------------------------------


def test_index_versions_lines_are_pips(
    tmp_home: dict[str, str],
    pip26: PipRunner,
    roost_venv: VenvMaker,
    roost_index: IndexServer,
    make_wheel: WheelMaker,
) -> None:
    for version in ("1.0", "1.1", "2.0rc1"):
        roost_index.add(make_wheel("demo", version))
    roost_index.add(make_wheel("demo", "1.2"), yanked="broken")
    roost_index.add(make_wheel("demo", "1.3", tag="cp27-cp27m-win32"))  # fits no target
    roost_index.add(make_wheel("demo", "1.4", requires_python=">=4"))
    roost_index.add(build_sdist("demo", "1.5", make_wheel.folder / "sdists"))
    venv = roost_venv()
    cases = [
        ["versions", "demo"],
        ["versions", "DEMO", "--pre"],
        ["--json", "versions", "demo"],
        ["versions", "demo", "--pre", "--json"],
        ["versions", "demo", "--only-binary", ":all:"],
        ["versions", "demo", "--no-binary", ":all:"],
        ["versions", "demo", "--ignore-requires-python"],
        ["versions", "demo", "--all-releases", "demo"],
        ["versions", "demo", "--all-releases", ":all:", "--only-final", "demo"],
    ]

    def compare(args: list[str]) -> str:
        ours = roost("index", *args, "-i", roost_index.url, "--python", venv.python, env=tmp_home)
        theirs = pip26("index", *args, "-i", roost_index.url, python=venv.python)
        assert (ours.returncode, theirs.returncode) == (0, 0), (args, ours.stderr, theirs.stderr)
        expected = theirs.stdout.replace("`pip install --pre`", "`roost install --pre`")
        assert ours.stdout == expected, args
        return ours.stdout

    for args in cases:
        compare(args)
    assert compare(cases[0]) == "demo (1.5)\nAvailable versions: 1.5, 1.1, 1.0\n"
    roost(
        "install",
        "--python",
        venv.python,
        "-i",
        roost_index.url,
        "demo==1.0",
        env=tmp_home,
        check=True,
    )
    for args in cases:
        compare(args)
    assert "  INSTALLED: 1.0\n  LATEST:    2.0rc1 (pre-release" in compare(cases[1])
    assert '"installed_version": "1.0"' in compare(cases[2])


def test_index_versions_not_found_and_usage_as_pip(
    tmp_home: dict[str, str],
    pip26: PipRunner,
    roost_venv: VenvMaker,
    roost_index: IndexServer,
    make_wheel: WheelMaker,
) -> None:
    roost_index.add(make_wheel("demo", "1.0rc1"))
    venv = roost_venv()
    for args in (["versions", "nothing-here"], ["versions", "demo"]):  # only a pre-release
        ours = roost("index", *args, "-i", roost_index.url, "--python", venv.python, env=tmp_home)
        theirs = pip26("index", *args, "-i", roost_index.url, python=venv.python)
        assert ours.returncode == theirs.returncode == 1
        line = f"ERROR: No matching distribution found for {args[1]}"
        assert line in theirs.stderr.splitlines()
        assert line in ours.stderr.splitlines()
        assert ours.stdout == ""
    for args in ([], ["versions"], ["versions", "a", "b"], ["list", "demo"]):
        ours = roost("index", *args, "-i", roost_index.url, env=tmp_home)
        theirs = pip26("index", *args, "-i", roost_index.url)
        assert ours.returncode == theirs.returncode == 1, args
        assert ours.stderr.startswith("ERROR: ")
    both = roost(
        "index",
        "versions",
        "demo",
        "--pre",
        "--only-final",
        "demo",
        "-i",
        roost_index.url,
        "--python",
        venv.python,
        env=tmp_home,
    )
    assert both.returncode == 2


def test_index_versions_uploaded_prior_to(
    tmp_home: dict[str, str],
    pip26: PipRunner,
    roost_venv: VenvMaker,
    roost_index: IndexServer,
    make_wheel: WheelMaker,
) -> None:
    import datetime

    utc = datetime.timezone.utc
    roost_index.add(
        make_wheel("timed", "1.0"), upload_time=datetime.datetime(2024, 1, 1, tzinfo=utc)
    )
    roost_index.add(
        make_wheel("timed", "2.0"), upload_time=datetime.datetime(2024, 9, 1, tzinfo=utc)
    )
    roost_index.add(make_wheel("untimed", "1.0"))
    venv = roost_venv()
    for when, latest in (("2024-06-01T00:00:00Z", "1.0"), ("P1D", "2.0")):
        args = ["versions", "timed", "--uploaded-prior-to", when, "-i", roost_index.url]
        ours = roost("index", *args, "--python", venv.python, env=tmp_home, check=True)
        theirs = pip26("index", *args, python=venv.python)
        assert ours.stdout == theirs.stdout
        assert ours.stdout.startswith(f"timed ({latest})\n")
    args = ["versions", "untimed", "--uploaded-prior-to", "P1D", "-i", roost_index.url]
    ours = roost("index", *args, "--python", venv.python, env=tmp_home)
    assert pip26("index", *args, python=venv.python).returncode == ours.returncode == 1
    assert "gives none for untimed-1.0-py3-none-any.whl" in ours.stderr
    bad = roost(
        "index",
        "versions",
        "timed",
        "--uploaded-prior-to",
        "soon",
        "-i",
        roost_index.url,
        "--python",
        venv.python,
        env=tmp_home,
    )
    assert bad.returncode == 2
