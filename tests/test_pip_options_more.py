"""pip 26.3's remaining install/download/list options: ``--use-pep517`` (no effect, as
in pip 26.3), ``--no-user``, ``--refresh-package``, ``list``'s selection options,
``download --platform``'s rule, and the options a requirements file gives."""

from __future__ import annotations

import datetime
import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from roost.index.finder import refresh_names
from roost.net.http_cache import page_project
from roost.testing.wheels import build_sdist
from tests.support import reference_pip
from tests.support.envs import make_venv, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec
from tests.test_http_cache import ConditionalServer, dry_run, page_statuses


def site_names(python: Path) -> set[str]:
    site = next((python.parent.parent / "lib").glob("python3*/site-packages"))
    return {p.name.split("-")[0] for p in site.glob("*.dist-info")}


def pip26(
    *args: str | Path, python: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*reference_pip.command(python), *map(str, args)],
        env={**env, "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


# -- --use-pep517 and --no-user -------------------------------------------------------


@pytest.mark.parametrize("command", ["install", "download", "wheel", "lock"])
def test_use_pep517_changes_nothing(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str], command: str
) -> None:
    def run(out: Path, *extra: str) -> str:
        where = {
            "install": ["--dry-run", "--target", str(out)],
            "download": ["-d", str(out)],
            "wheel": ["-w", str(out)],
            "lock": ["-o", str(out / "pylock.toml")],
        }[command]
        done = run_roost(
            command, *where, "-i", index_server.url, *extra, "beta", env=tmp_home, check=True
        )
        if command == "install":
            return next(line for line in done.stdout.splitlines() if "Would install" in line)
        if command == "lock":
            return (out / "pylock.toml").read_text()
        return " ".join(sorted(p.name for p in out.iterdir()))

    plain = run(tmp_path / "plain")
    assert "beta" in plain
    assert run(tmp_path / "pep517", "--use-pep517") == plain


def test_no_user_turns_off_a_user_setting(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    venv = make_venv(tmp_path / "venv")
    env = {**tmp_home, "PIP_USER": "1"}
    args = ["install", "--python", str(venv), "-i", index_server.url, "delta"]
    refused = run_roost(*args, env=env)
    assert refused.returncode != 0 and "--user" in refused.stderr
    assert "delta" not in site_names(venv)
    run_roost(*args, "--no-user", env=env, check=True)
    assert "delta" in site_names(venv)


# -- --refresh-package ----------------------------------------------------------------


@pytest.fixture
def fresh_pages(tmp_path: Path) -> Iterator[tuple[PackageIndex, ConditionalServer]]:
    index = PackageIndex(tmp_path / "index")
    index.add(WheelSpec("delta", "1.0"))
    index.add(WheelSpec("zeta", "1.0"))
    index.write()
    with ConditionalServer(index, cache_control="max-age=600") as running:
        yield index, running


def test_refresh_package_asks_again_about_the_named_projects_only(
    tmp_path: Path,
    tmp_home: dict[str, str],
    fresh_pages: tuple[PackageIndex, ConditionalServer],
) -> None:
    index, server = fresh_pages
    url = server.url
    first = dry_run(tmp_home, tmp_path, url, "delta", "zeta")
    assert "delta-1.0" in first and "zeta-1.0" in first
    index.add(WheelSpec("delta", "2.0"))
    index.add(WheelSpec("zeta", "2.0"))
    index.write()
    server.answers.clear()
    # Both pages are fresh by max-age: neither is asked about.
    assert dry_run(tmp_home, tmp_path, url, "delta", "zeta") == first
    assert page_statuses(server) == []
    named = dry_run(tmp_home, tmp_path, url, "--refresh-package", "Delta", "delta", "zeta")
    assert "delta-2.0" in named and "zeta-1.0" in named
    assert [path for path, _ in server.answers if path.startswith("/simple")] == ["/simple/delta/"]
    server.answers.clear()
    cleared = dry_run(tmp_home, tmp_path, url, "--refresh-package", "zeta,:none:", "delta", "zeta")
    assert "zeta-1.0" in cleared and page_statuses(server) == []
    everything = dry_run(tmp_home, tmp_path, url, "--refresh-package", ":all:", "delta", "zeta")
    assert "delta-2.0" in everything and "zeta-2.0" in everything


def test_refresh_package_on_download(
    tmp_path: Path,
    tmp_home: dict[str, str],
    fresh_pages: tuple[PackageIndex, ConditionalServer],
) -> None:
    index, server = fresh_pages
    args = ["download", "-d", str(tmp_path / "d"), "-i", server.url, "zeta"]
    run_roost(*args, env=tmp_home, check=True)
    index.add(WheelSpec("zeta", "2.0"))
    index.write()
    run_roost(*args, env=tmp_home, check=True)
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["zeta-1.0-py3-none-any.whl"]
    run_roost(*args, "--refresh-package", "zeta", env=tmp_home, check=True)
    assert "zeta-2.0-py3-none-any.whl" in {p.name for p in (tmp_path / "d").iterdir()}


@pytest.mark.parametrize(
    ("values", "names"),
    [
        (("Foo_Bar,baz",), {"foo-bar", "baz"}),
        (("foo", ":none:", "bar"), {"bar"}),
        (("foo,:all:,bar",), {":all:"}),
        ((":all:", ":none:,bar"), {"bar"}),
    ],
)
def test_refresh_package_values_read_as_pip_reads_them(
    values: tuple[str, ...], names: set[str]
) -> None:
    assert refresh_names(values) == names


def test_which_cached_pages_belong_to_a_project() -> None:
    assert page_project("https://h/simple/Foo_Bar/") == "foo-bar"
    assert page_project("https://h/simple/foo/index.json") == "foo"
    assert page_project("https://h/simple/foo/?format=json") is None
    assert page_project("https://h/") is None


# -- list's selection options -------------------------------------------------------------

UTC = datetime.timezone.utc


@pytest.fixture(scope="module")
def list_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A venv with proj 0.5 and other 1.0, and an index where proj has a 1.0 wheel, a
    2.0 sdist and a 3.0rc1 wheel (uploaded in 2020, 2022 and 2024) and other 1.0."""
    root = tmp_path_factory.mktemp("list")
    old = PackageIndex(root / "old")
    old.add(WheelSpec("proj", "0.5"))
    old.add(WheelSpec("other", "1.0"))
    old.write()
    home = root / "home"
    home.mkdir()
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    venv = make_venv(root / "venv")
    run_roost(
        "install", "--python", str(venv), "--no-index", "-f", str(old.root / "files"),
        "proj", "other", env=env, check=True,
    )  # fmt: skip
    index = PackageIndex(root / "index")
    index.add(WheelSpec("proj", "1.0"), upload_time=datetime.datetime(2020, 1, 1, tzinfo=UTC))
    index.add_file(
        build_sdist("proj", "2.0", root / "sdists"),
        upload_time=datetime.datetime(2022, 1, 1, tzinfo=UTC),
    )
    index.add(WheelSpec("proj", "3.0rc1"), upload_time=datetime.datetime(2024, 1, 1, tzinfo=UTC))
    index.add(WheelSpec("other", "1.0"), upload_time=datetime.datetime(2020, 1, 1, tzinfo=UTC))
    index.write()
    with IndexServer(index) as server:
        yield venv, server.url


@pytest.mark.parametrize(
    ("options", "latest"),
    [
        ((), ("2.0", "sdist")),
        (("--prefer-binary",), ("1.0", "wheel")),
        (("--only-binary", "proj"), ("1.0", "wheel")),
        (("--only-binary", ":all:", "--no-binary", "proj"), ("2.0", "sdist")),
        (("--pre",), ("3.0rc1", "wheel")),
        (("--all-releases", "proj"), ("3.0rc1", "wheel")),
        (("--all-releases", ":all:", "--only-final", "proj"), ("2.0", "sdist")),
        (("--uploaded-prior-to", "2021-06-01T00:00:00Z"), ("1.0", "wheel")),
    ],
)
def test_list_outdated_picks_the_latest_as_pip(
    list_setup: tuple[Path, str],
    tmp_home: dict[str, str],
    options: tuple[str, ...],
    latest: tuple[str, str],
) -> None:
    venv, url = list_setup
    args = ["list", "--outdated", "--format", "json", "-i", url, *options]
    mine = run_roost(*args, "--python", str(venv), env=tmp_home, check=True)
    rows = json.loads(mine.stdout)
    assert [(r["name"], r["latest_version"], r["latest_filetype"]) for r in rows] == [
        ("proj", *latest)
    ]
    theirs = pip26(*args, python=venv, env=tmp_home)
    assert theirs.returncode == 0, theirs.stderr
    assert rows == json.loads(theirs.stdout)


def test_list_uptodate_and_the_pre_clash(
    list_setup: tuple[Path, str], tmp_home: dict[str, str]
) -> None:
    venv, url = list_setup
    args = ["list", "--uptodate", "--format", "json", "-i", url, "--only-binary", ":all:"]
    mine = run_roost(*args, "--python", str(venv), env=tmp_home, check=True)
    assert json.loads(mine.stdout) == json.loads(pip26(*args, python=venv, env=tmp_home).stdout)
    assert [r["name"] for r in json.loads(mine.stdout)] == ["other"]
    clash = ["list", "--pre", "--all-releases", "proj", "--python", str(venv)]
    done = run_roost(*clash, env=tmp_home)
    assert done.returncode == 2 and "--pre cannot be combined" in done.stderr


# -- download --platform, and install's target options beside a lock -------------------


def test_download_for_another_machine_needs_wheels_only(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    venv = make_venv(tmp_path / "venv")
    base = ["download", "-d", str(tmp_path / "d"), "-i", index_server.url, "--platform",
            "win_amd64", "beta"]  # fmt: skip
    mine = run_roost(*base, env=tmp_home)
    theirs = pip26(*base, python=venv, env=tmp_home)
    assert mine.returncode == theirs.returncode == 1
    assert "--only-binary=:all:" in mine.stderr and "--no-deps" in mine.stderr
    assert not (tmp_path / "d").exists()
    run_roost(*base, "--no-deps", env=tmp_home, check=True)
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["beta-1.0-py3-none-any.whl"]


def test_install_refuses_target_options_with_a_lock(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    lock = tmp_path / "pylock.toml"
    run_roost("lock", "-o", str(lock), "-i", index_server.url, "delta", env=tmp_home, check=True)
    args = ["install", "--dry-run", "-r", str(lock), "--platform", "win_amd64",
            "--only-binary=:all:"]  # fmt: skip
    mine = run_roost(*args, env=tmp_home)
    venv = make_venv(tmp_path / "venv")
    theirs = pip26(*args, python=venv, env=tmp_home)
    assert mine.returncode == theirs.returncode == 1
    assert f"the lock file {lock}" in mine.stderr


# -- options in requirements files --------------------------------------------------------


def test_a_files_require_hashes_line_clashes_with_no_require_hashes(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    wheel = index_server.index.dists_dir / "delta-1.0-py3-none-any.whl"
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    req = tmp_path / "req.txt"
    req.write_text(f"--require-hashes\ndelta==1.0 --hash=sha256:{digest}\n")
    venv = make_venv(tmp_path / "venv")
    args = ["install", "--no-require-hashes", "-r", str(req), "-i", index_server.url]
    mine = run_roost(*args, "--python", str(venv), env=tmp_home)
    theirs = pip26(*args, python=venv, env=tmp_home)
    assert mine.returncode == theirs.returncode == 1
    assert "--no-require-hashes" in mine.stderr
    assert "delta" not in site_names(venv)


@pytest.mark.parametrize(
    ("lines", "wanted"),
    [
        ("--all-releases alpha\nalpha\n", "alpha-2.1rc1"),
        ("--only-final :all:\nalpha>=2.1rc1\n", None),
        ("--only-binary :all:\nsdistonly\n", None),
        ("--pre\nalpha\n", "alpha-2.1rc1"),
    ],
)
def test_selection_options_in_a_file_apply(
    tmp_path: Path,
    index_server: IndexServer,
    tmp_home: dict[str, str],
    lines: str,
    wanted: str | None,
) -> None:
    req = tmp_path / "req.txt"
    req.write_text(lines)
    done = run_roost(
        "install", "--dry-run", "--target", str(tmp_path / "t"), "-i", index_server.url,
        "-r", str(req), env=tmp_home,
    )  # fmt: skip
    if wanted is None:
        assert done.returncode == 1, done.stdout
    else:
        assert done.returncode == 0, done.stderr
        assert wanted in done.stdout


def test_a_files_pre_beside_per_project_choices_on_the_command_line(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    """pip reads a file's --pre as --all-releases :all:, which the command line's
    --only-final NAME narrows; only --pre and --only-final both on the command line
    are refused."""
    req = tmp_path / "req.txt"
    req.write_text("--pre\nalpha\ngamma\n")
    args = ["install", "--dry-run", "--target", str(tmp_path / "t"), "-i", index_server.url]
    done = run_roost(*args, "--only-final", "alpha", "-r", str(req), env=tmp_home, check=True)
    assert "alpha-2.0" in done.stdout
    clash = run_roost(*args, "--pre", "--only-final", "alpha", "-r", str(req), env=tmp_home)
    assert clash.returncode == 2
