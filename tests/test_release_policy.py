"""Which releases a resolution may take: ``--uploaded-prior-to``/``--exclude-newer``
(PEP 700 upload times), ``--all-releases``/``--only-final`` (pre-releases per project)
and ``--only-deps``, on real indexes served on loopback, as pip 26.3 has them."""

from __future__ import annotations

import datetime
from pathlib import Path

import click
import pytest

from roost.resolve.release_policy import ReleaseChoices, parse_cutoff, release_choices
from roost.testing import IndexServer, VenvMaker, WheelMaker
from tests.support.envs import run_roost

UTC = datetime.timezone.utc
NOW = datetime.datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


# -- reading the options ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T10:00:00Z", datetime.datetime(2024, 3, 1, 10, tzinfo=UTC)),
        ("2024-03-01T10:00:00+02:00", datetime.datetime(2024, 3, 1, 8, tzinfo=UTC)),
        ("P7D", NOW - datetime.timedelta(days=7)),
        ("PT12H", NOW - datetime.timedelta(hours=12)),
        ("P1DT6H30M", NOW - datetime.timedelta(days=1, hours=6, minutes=30)),
        ("P2W", NOW - datetime.timedelta(days=14)),
        ("1 week", NOW - datetime.timedelta(days=7)),
        ("3 days 12 hours", NOW - datetime.timedelta(days=3, hours=12)),
        ("30 minutes ago", NOW - datetime.timedelta(minutes=30)),
        ("2h", NOW - datetime.timedelta(hours=2)),
    ],
)
def test_cutoff_spellings(text: str, expected: datetime.datetime) -> None:
    for option in ("--uploaded-prior-to", "--exclude-newer"):
        assert parse_cutoff(text, option, now=NOW) == expected


def test_a_bare_date_or_time_is_local_and_each_spelling_reads_a_date_as_its_tool() -> None:
    start = datetime.datetime(2024, 3, 1).astimezone()
    # pip: the start of the day; uv: the whole day included.
    assert parse_cutoff("2024-03-01", "--uploaded-prior-to", now=NOW) == start
    assert (
        parse_cutoff("2024-03-01", "--exclude-newer", now=NOW)
        == datetime.datetime(2024, 3, 2).astimezone()
    )
    naive = parse_cutoff("2024-03-01T06:00:00", now=NOW)
    assert naive == datetime.datetime(2024, 3, 1, 6).astimezone()
    assert naive.tzinfo is not None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("soon", "not a date and time"),
        ("P1M", "not an ISO 8601 duration"),
        ("P1Y", "not an ISO 8601 duration"),
        ("P", "not an ISO 8601 duration"),
        ("PT", "not an ISO 8601 duration"),
        ("3 months", "no fixed length"),
        ("1 year", "no fixed length"),
        ("3 fortnights", "not a date and time"),
        ("2024-13-01", "not a date and time"),
        ("P99999999D", "too far"),
    ],
)
def test_cutoffs_refused_clearly(text: str, why: str) -> None:
    with pytest.raises(click.BadParameter, match=why):
        parse_cutoff(text, now=NOW)


def test_release_choices_as_pip_reads_them() -> None:
    choices = release_choices([":all:"], ["demo"])
    assert choices.allows_prereleases("Demo") is False
    assert choices.allows_prereleases("other") is True
    choices = release_choices(["demo,Other_Name"], [":all:"])
    assert choices.allows_prereleases("other-name") is True
    assert choices.allows_prereleases("third") is False
    # :none: empties the option's list so far; later names count again.
    choices = release_choices(["a", ":none:", "b"])
    assert (choices.allows_prereleases("a"), choices.allows_prereleases("b")) == (None, True)
    assert release_choices([], [], pre=True) == ReleaseChoices(frozenset({":all:"}))
    assert release_choices().allows_prereleases("x") is None


@pytest.mark.parametrize(
    ("all_releases", "only_final", "pre", "why"),
    [
        (["demo"], [], True, "--pre cannot be combined"),
        ([], ["demo"], True, "--pre cannot be combined"),
        (["demo"], ["DEMO"], False, "named by both"),
        (["--only-final"], [], False, "looks like an option"),
        (["not a name!"], [], False, "not a project name"),
    ],
)
def test_release_choices_refused(
    all_releases: list[str], only_final: list[str], pre: bool, why: str
) -> None:
    with pytest.raises(click.UsageError, match=why):
        release_choices(all_releases, only_final, pre=pre)


# -- on a real index -----------------------------------------------------------------------


@pytest.fixture
def timed_index(roost_index: IndexServer, make_wheel: WheelMaker) -> IndexServer:
    """``timed`` 1.0 (2024-01-01), 2.0 (2024-09-01) and 3.0b1 (2024-10-01); ``needs``
    1.0 requires ``timed``; ``untimed`` 1.0 has no upload time."""
    for version, month in (("1.0", 1), ("2.0", 9), ("3.0b1", 10)):
        roost_index.add(
            make_wheel("timed", version), upload_time=datetime.datetime(2024, month, 1, tzinfo=UTC)
        )
    roost_index.add(
        make_wheel("needs", "1.0", requires=["timed"]),
        upload_time=datetime.datetime(2024, 1, 2, tzinfo=UTC),
    )
    roost_index.add(make_wheel("untimed", "1.0"))
    return roost_index


def _dry_run(index: IndexServer, python: Path, home: dict[str, str], *args: str) -> str:
    result = run_roost(
        "install", "--dry-run", "-i", index.url, "--python", str(python), *args, env=home
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_upload_cutoff_picks_what_was_there_then(
    timed_index: IndexServer, roost_venv: VenvMaker, tmp_home: dict[str, str]
) -> None:
    venv = roost_venv()
    run = lambda *args: _dry_run(timed_index, venv.python, tmp_home, *args)  # noqa: E731
    assert "Would install timed-2.0" in run("timed")
    assert "Would install timed-1.0" in run("timed", "--uploaded-prior-to", "2024-06-01T00:00:00Z")
    # uv's spelling, and a date taken whole: 2024-09-01 itself is in.
    assert "Would install timed-2.0" in run("timed", "--exclude-newer", "2024-09-01")
    assert "Would install timed-1.0" in run("timed", "--uploaded-prior-to", "2024-09-01")
    # Dependencies are held to the cut-off too.
    out = run("needs", "--uploaded-prior-to", "2024-06-01T00:00:00Z")
    assert "needs-1.0" in out and "timed-1.0" in out
    # From settings, as any option.
    env = {**tmp_home, "PIP_UPLOADED_PRIOR_TO": "2024-06-01T00:00:00Z"}
    assert "Would install timed-1.0" in _dry_run(timed_index, venv.python, env, "timed")
    # A duration: everything here is older than a day.
    assert "Would install timed-2.0" in run("timed", "--uploaded-prior-to", "P1D")
    assert venv.installed() == {}


def test_upload_cutoff_says_what_it_excluded_and_refuses_files_without_times(
    timed_index: IndexServer, roost_venv: VenvMaker, tmp_home: dict[str, str]
) -> None:
    venv = roost_venv()
    base = ("install", "-i", timed_index.url, "--python", str(venv.python))
    late = run_roost(
        *base, "timed>=2", "--uploaded-prior-to", "2024-06-01T00:00:00Z", env=tmp_home
    )
    assert late.returncode == 1
    assert "No matching distribution found for timed>=2" in late.stderr
    assert "timed-2.0-py3-none-any.whl excluded by policy: uploaded 2024-09-01 00:00:00 UTC" in (
        late.stderr
    )
    assert "(--uploaded-prior-to)" in late.stderr
    untimed = run_roost(*base, "untimed", "--exclude-newer", "P1D", env=tmp_home)
    assert untimed.returncode == 1
    assert "gives none for untimed-1.0-py3-none-any.whl" in untimed.stderr
    assert "Traceback" not in untimed.stderr
    both = run_roost(
        *base, "timed", "--uploaded-prior-to", "P1D", "--exclude-newer", "P2D", env=tmp_home
    )
    assert both.returncode == 2 and "give one of them" in both.stderr
    bad = run_roost(*base, "timed", "--exclude-newer", "6 months", env=tmp_home)
    assert bad.returncode == 2 and "no fixed length" in bad.stderr
    assert venv.installed() == {}


def test_local_files_have_no_upload_time_and_are_never_held_back(
    roost_venv: VenvMaker, tmp_home: dict[str, str], make_wheel: WheelMaker
) -> None:
    make_wheel("local", "1.0")
    venv = roost_venv()
    result = run_roost(
        "install",
        "--no-index",
        "-f",
        str(make_wheel.folder),
        "--python",
        str(venv.python),
        "--uploaded-prior-to",
        "P1D",
        "local",
        env=tmp_home,
        check=True,
    )
    assert result.returncode == 0
    assert venv.installed().get("local") == "1.0"


def test_download_and_index_versions_take_the_same_cutoff(
    timed_index: IndexServer, roost_venv: VenvMaker, tmp_home: dict[str, str], tmp_path: Path
) -> None:
    venv = roost_venv()
    dest = tmp_path / "saved"
    run_roost(
        "download",
        "-d",
        str(dest),
        "-i",
        timed_index.url,
        "--python",
        str(venv.python),
        "--exclude-newer",
        "2024-06-01T00:00:00Z",
        "timed",
        env=tmp_home,
        check=True,
    )
    assert sorted(p.name for p in dest.iterdir()) == ["timed-1.0-py3-none-any.whl"]
    listing = run_roost(
        "index",
        "versions",
        "timed",
        "--exclude-newer",
        "2024-09-15",
        "--all-releases",
        "timed",
        "-i",
        timed_index.url,
        "--python",
        str(venv.python),
        env=tmp_home,
        check=True,
    )
    assert listing.stdout.startswith("timed (2.0)\nAvailable versions: 2.0, 1.0\n")


def test_only_final_refuses_prereleases_even_when_a_specifier_names_one(
    timed_index: IndexServer, roost_venv: VenvMaker, tmp_home: dict[str, str]
) -> None:
    venv = roost_venv()
    run = lambda *args: _dry_run(timed_index, venv.python, tmp_home, *args)  # noqa: E731
    assert "Would install timed-3.0b1" in run("timed>=3.0b1")
    assert "Would install timed-3.0b1" in run("timed", "--pre")
    base = ("install", "-i", timed_index.url, "--python", str(venv.python))
    refused = run_roost(*base, "timed>=3.0b1", "--only-final", "timed", env=tmp_home)
    assert refused.returncode == 1
    assert "No matching distribution found for timed>=3.0b1" in refused.stderr
    assert "3.0b1 is a pre-release, and --only-final limits timed" in refused.stderr
    # Another project's --only-final leaves timed's specifier to decide.
    assert "Would install timed-3.0b1" in run("timed>=3.0b1", "--only-final", "needs")
    clash = run_roost(*base, "timed", "--pre", "--only-final", "timed", env=tmp_home)
    assert clash.returncode == 2 and "--pre cannot be combined" in clash.stderr
    assert venv.installed() == {}


def test_all_releases_allows_one_projects_prereleases(
    timed_index: IndexServer, roost_venv: VenvMaker, tmp_home: dict[str, str]
) -> None:
    """Needs the provider to ask ``Policy.allows_prereleases`` (see the report)."""
    venv = roost_venv()
    run = lambda *args: _dry_run(timed_index, venv.python, tmp_home, *args)  # noqa: E731
    assert "Would install timed-2.0" in run("timed")
    assert "Would install timed-3.0b1" in run("timed", "--all-releases", "timed")
    assert "Would install timed-3.0b1" in run(
        "timed", "--only-final", "needs", "--all-releases", ":all:"
    )
    assert "Would install timed-2.0" in run("timed", "--all-releases", "needs")
    assert "Would install timed-2.0" in run(
        "timed", "--all-releases", ":all:", "--only-final", "timed"
    )


def test_only_deps_installs_the_dependencies_alone(
    timed_index: IndexServer, roost_venv: VenvMaker, tmp_home: dict[str, str]
) -> None:
    """Needs the resolution stages to drop the named projects (see the report)."""
    venv = roost_venv()
    base = ("install", "-i", timed_index.url, "--python", str(venv.python))
    run_roost(*base, "--only-deps", "needs", env=tmp_home, check=True)
    assert venv.installed() == {"timed": "2.0"}
    for extra, named in (
        (["--no-deps"], "--no-deps"),
        (["--group", "dev"], "--group"),
        (["-r", "requirements.txt"], "--requirement"),
    ):
        clash = run_roost(*base, "--only-deps", "needs", *extra, env=tmp_home)
        assert clash.returncode == 1, extra
        assert f"--only-deps cannot be combined with {named}" in clash.stderr
    assert venv.installed() == {"timed": "2.0"}
