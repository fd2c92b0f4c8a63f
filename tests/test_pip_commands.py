"""pip's commands in roost: inspect, index versions, hash, debug, help, completion, cache
and config, each compared with real pip 26.3 on the same environment where the format is
pip's.

The reference pip is :mod:`tests.support.reference_pip`'s; without one, the tests
that compare fail and say so.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import packaging
import pytest
from packaging.version import Version

from roost.testing import IndexServer, VenvMaker, WheelMaker
from roost.testing.wheels import build_sdist
from tests.support import reference_pip
from tests.support.envs import run_roost

ROOT = Path(__file__).resolve().parents[1]
PipRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def pip26(tmp_home: dict[str, str]) -> PipRunner:
    """Run the reference pip: ``pip26(*args, python=None, env=..., cwd=...)``."""
    reference_pip.require()

    def run(
        *args: str | Path,
        python: str | Path | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*reference_pip.command(python), *map(str, args)],
            env=env or tmp_home,
            cwd=cwd or tmp_home["HOME"],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    return run


def roost(
    *args: str | Path, env: dict[str, str], **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    return run_roost(*map(str, args), env=env, **kwargs)


# -- hash ---------------------------------------------------------------------------------


def test_hash_lines_are_pips_byte_for_byte(
    tmp_path: Path, tmp_home: dict[str, str], pip26: PipRunner, make_wheel: WheelMaker
) -> None:
    wheel = make_wheel("demo", "1.0")
    (tmp_path / "other.bin").write_bytes(bytes(range(256)) * 5000)
    names = [str(wheel), "other.bin"]  # an absolute path and a relative one, as typed
    for choice in ([], ["-a", "sha256"], ["-a", "sha384"], ["--algorithm", "sha512"]):
        ours = roost("hash", *choice, *names, env=tmp_home, cwd=tmp_path, check=True)
        theirs = pip26("hash", *choice, *names, cwd=tmp_path)
        assert theirs.returncode == 0, theirs.stderr
        assert ours.stdout == theirs.stdout
    digest = hashlib.sha384((tmp_path / "other.bin").read_bytes()).hexdigest()
    ours = roost("hash", "-a", "sha384", "other.bin", env=tmp_home, cwd=tmp_path, check=True)
    assert ours.stdout == f"other.bin:\n--hash=sha384:{digest}\n"


def test_hash_refuses_what_it_cannot_read(tmp_path: Path, tmp_home: dict[str, str]) -> None:
    nothing = roost("hash", env=tmp_home)
    assert nothing.returncode == 1
    assert "FILE" in nothing.stderr
    for name in ("absent.whl", str(tmp_path)):
        bad = roost("hash", name, env=tmp_home, cwd=tmp_path)
        assert bad.returncode == 1
        assert f"ERROR: cannot read {name}" in bad.stderr
        assert "Traceback" not in bad.stderr
    (tmp_path / "x").write_text("x")
    weak = roost("hash", "-a", "md5", "x", env=tmp_home, cwd=tmp_path)
    assert weak.returncode == 2  # pip's exit status for a bad choice too
    assert "md5" in weak.stderr


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


# -- debug --------------------------------------------------------------------------------


def _tags(output: str) -> tuple[str, list[str]]:
    """The ``Compatible tags: N`` line and the indented lines under it."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Compatible tags: "))
    tags = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        tags.append(line.strip())
    return lines[start].split(" (target")[0], tags


#: packaging 26.3 moved native linux_* tags ahead of manylinux; roost follows the
#: packaging it runs with (the lowest session runs an older one).
_NATIVE_FIRST = Version(packaging.__version__) >= Version("26.3")


def test_debug_tags_are_pip_debug_verbose_tags(
    tmp_home: dict[str, str], pip26: PipRunner, roost_venv: VenvMaker
) -> None:
    venv = roost_venv()  # pip 26.3 runs on 3.9 and later; this is the tests' Python
    every: list[list[str]] = []
    for extra in ([], ["--python-version", "3.12"]):
        ours = roost("debug", "-v", "--python", venv.python, *extra, env=tmp_home, check=True)
        theirs = pip26("debug", "--verbose", *extra, python=venv.python)
        assert theirs.returncode == 0, theirs.stderr
        if _NATIVE_FIRST:
            assert _tags(ours.stdout) == _tags(theirs.stdout)
        else:
            # roost orders tags by the packaging it runs with: before 26.3, native
            # linux_* tags came after manylinux (pip 26.3 vendors the newer rule).
            assert _tags(ours.stdout)[0] == _tags(theirs.stdout)[0]
            assert sorted(_tags(ours.stdout)[1]) == sorted(_tags(theirs.stdout)[1])
        every.append(_tags(ours.stdout)[1])
    assert len(every[0]) > 100 and every[0] != every[1]
    short = roost("debug", "--python", venv.python, env=tmp_home, check=True)
    count, shown = _tags(short.stdout)
    theirs = pip26("debug", python=venv.python)
    assert count == _tags(theirs.stdout)[0]
    assert shown[:10] == every[0][:10] and shown[10] == "..."
    assert "[First 10 tags shown. Pass -v to show all.]" in short.stdout
    assert short.stderr.startswith("WARNING: roost debug is for reading, not for scripts")
    facts = dict(line.split(": ", 1) for line in theirs.stdout.splitlines() if ": " in line)
    for key in ("sys.version", "sys.executable", "sys.platform", "sys.getfilesystemencoding"):
        assert f"{key}: {facts[key]}\n" in short.stdout


def test_debug_for_another_machine(tmp_home: dict[str, str], roost_venv: VenvMaker) -> None:
    venv = roost_venv()
    args = [
        "--platform",
        "manylinux2014_x86_64",
        "--python-version",
        "3.12",
        "--implementation",
        "cp",
        "--abi",
        "cp312",
    ]
    out = roost("debug", "-v", "--python", venv.python, *args, env=tmp_home, check=True).stdout
    _, tags = _tags(out)
    assert tags[0] == "cp312-cp312-manylinux_2_17_x86_64"
    assert "cp312-cp312-manylinux2014_x86_64" in tags
    assert all(t.endswith(("_x86_64", "-any")) for t in tags)
    assert "  python_version: 3.12\n" in out


# -- help and version ---------------------------------------------------------------------


def test_help_is_the_commands_help(tmp_home: dict[str, str]) -> None:
    from roost.cli.commands.help import version_line

    for topic in (["install"], [], ["cache", "list"], ["index"]):
        via_help = roost("help", *topic, env=tmp_home, check=True).stdout
        direct = roost(*topic, "--help", env=tmp_home, check=True).stdout
        assert via_help == direct, topic
    unknown = roost("help", "instal", env=tmp_home)
    assert unknown.returncode == 1
    assert "unknown command 'instal' - maybe you meant 'install'" in unknown.stderr
    assert roost("help", "hash", "more", env=tmp_home).returncode == 1
    line = version_line()
    assert re.fullmatch(r"roost \S+ from .+ \(python \d+\.\d+\)", line)
    assert Path(line.split(" from ")[1].rsplit(" (", 1)[0], "cli").is_dir()
    short = roost("-V", env=tmp_home, check=True).stdout
    assert short == roost("--version", env=tmp_home, check=True).stdout
    assert short.startswith("roost ")


# -- completion ---------------------------------------------------------------------------


def test_completion_spellings_and_powershell(tmp_home: dict[str, str]) -> None:
    from tests.support.envs import ROOST_COMMAND

    for shell, spellings in (
        ("bash", ["-b", "--bash"]),
        ("zsh", ["-z", "--zsh"]),
        ("fish", ["-f", "--fish"]),
        ("powershell", ["-p", "--powershell"]),
    ):
        script = roost("completion", shell, env=tmp_home, check=True).stdout
        assert "_ROOST_COMPLETE" in script
        for flag in spellings:
            assert roost("completion", flag, env=tmp_home, check=True).stdout == script
    assert "Register-ArgumentCompleter -Native -CommandName roost" in script
    answer = subprocess.run(
        ROOST_COMMAND,
        env={
            **tmp_home,
            "_ROOST_COMPLETE": "powershell_complete",
            "COMP_WORDS": "roost install --us",
            "COMP_CWORD": "2",
        },
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "--user" in answer.stdout.splitlines()
    none = roost("completion", env=tmp_home)
    assert none.returncode == 1
    assert "--bash" in none.stderr and "--powershell" in none.stderr
    assert roost("completion", "bash", "--zsh", env=tmp_home).returncode == 2


# -- cache --------------------------------------------------------------------------------


def test_cache_formats_patterns_and_sizes(
    tmp_home: dict[str, str],
    pip26: PipRunner,
    roost_venv: VenvMaker,
    roost_index: IndexServer,
    make_wheel: WheelMaker,
) -> None:
    from roost.cli.commands.cache import format_size

    # Sizes as pip's own function writes them, asked of the reference pip.
    kind, where = reference_pip.require()
    sizes = [0, 999, 1000, 1001, 9999, 10001, 999_999, 1_000_001, 123_456_789]
    code = (
        "import sys; sys.path[:0] = [p for p in sys.argv[1:2] if p]; "
        "from pip._internal.utils.misc import format_size as f; "
        f"print('|'.join(f(n) for n in {sizes}))"
    )
    python, wheel = (sys.executable, where) if kind == "wheel" else (where, "")
    pips = subprocess.run(
        [python, "-c", code, wheel], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert "|".join(format_size(n) for n in sizes) == pips

    env = {**tmp_home, "ROOST_CACHE_DIR": str(Path(tmp_home["HOME"]) / "cache")}
    roost_index.add(make_wheel("alpha", "1.0", files={"alpha/data.bin": os.urandom(30000)}))
    roost_index.add(make_wheel("beta", "1.0", requires=["alpha"]))
    venv = roost_venv()
    roost("install", "--python", venv.python, "-i", roost_index.url, "beta", env=env, check=True)
    paths = roost("cache", "list", "--format", "abspath", env=env, check=True).stdout.splitlines()
    names = sorted(Path(p).name for p in paths)
    assert names == ["alpha-1.0-py3-none-any.whl", "beta-1.0-py3-none-any.whl"]
    assert paths == sorted(paths)
    alpha = next(p for p in paths if "alpha" in p)
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in paths)
    before = roost("cache", "--format", "abspath", "list", env=env, check=True).stdout
    assert before.splitlines() == paths
    human = roost("cache", "list", "alpha-1", env=env, check=True).stdout
    size = format_size(Path(alpha).stat().st_size)
    assert human == f"Cache contents:\n\n - alpha-1.0-py3-none-any.whl ({size})\n"
    assert roost("cache", "list", "nothing", "--format", "abspath", env=env).stdout == ""
    removed = roost("cache", "remove", "alpha", env=env, check=True).stdout
    assert f"Files removed: 1 ({size})" in removed
    assert not Path(alpha).parent.exists()  # the wheel, its digest and its folder
    off = roost("cache", "dir", env={**env, "PIP_NO_CACHE_DIR": "1"})
    assert off.returncode == 1
    assert "cache is disabled" in off.stderr


# -- config -------------------------------------------------------------------------------


@pytest.fixture
def pip_env(tmp_home: dict[str, str]) -> dict[str, str]:
    """tmp_home with pip's config files read (no ``PIP_CONFIG_FILE``)."""
    return {k: v for k, v in tmp_home.items() if k != "PIP_CONFIG_FILE"}


def test_config_set_global_index_url_is_what_the_next_install_uses(
    pip_env: dict[str, str],
    pip26: PipRunner,
    roost_venv: VenvMaker,
    roost_index: IndexServer,
    make_wheel: WheelMaker,
) -> None:
    roost_index.add(make_wheel("demo", "1.0"))
    user_file = Path(pip_env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
    done = roost("config", "set", "global.index-url", roost_index.url, env=pip_env, check=True)
    assert done.stdout == f"Writing to {user_file}\n"
    assert "[global]\nindex-url = " in user_file.read_text()
    assert (
        pip26("config", "get", "global.index-url", env=pip_env).stdout.strip() == roost_index.url
    )
    venv = roost_venv()
    roost("install", "--python", venv.python, "demo", env=pip_env, check=True)
    assert venv.has("demo", "1.0")
    # pip's own writing reads back the same way.
    roost("config", "unset", "global.index-url", env=pip_env, check=True)
    gone = pip26("config", "get", "global.index-url", env=pip_env)
    assert gone.returncode == 1
    again = roost("config", "unset", "global.index-url", env=pip_env)
    assert again.returncode == 1
    assert "ERROR: No such key - global.index-url" in again.stderr
    assert "ERROR: No such key - global.index-url" in gone.stderr


def test_config_listings_are_pips(
    pip_env: dict[str, str], pip26: PipRunner, roost_venv: VenvMaker
) -> None:
    venv = roost_venv()
    env = {**pip_env, "PIP_DEFAULT_TIMEOUT": "60", "VIRTUAL_ENV": str(venv.path)}
    for name, value in (
        ("global.timeout", "30"),
        ("install.no-compile", "yes"),
        ("download.extra-index-url", "http://a.invalid/s http://b.invalid/s"),
    ):
        roost("config", "--user", "set", name, *value.split(), env=env, check=True)
    roost("config", "set", "global.retries", "2", "--site", env=env, check=True)
    assert (venv.path / "pip.conf").read_text() == "[global]\nretries = 2\n\n"
    # pip reads its site file from its own prefix: run it in the venv.
    pip = {"python": venv.python}
    listed = {}
    for scope in ("--user", "--global", "--site"):
        listed[scope] = roost("config", scope, "list", env=env, check=True).stdout
        assert listed[scope] == pip26("config", scope, "list", env=env, **pip).stdout, scope
    assert "install.no-compile='yes'\n:env:.default-timeout='60'\n" in listed["--user"]
    assert listed["--site"].startswith("global.retries='2'\n")
    ours_debug = roost("config", "debug", env=env, check=True).stdout
    pips_debug = pip26("config", "debug", env=env, **pip).stdout
    assert ours_debug.startswith(pips_debug)
    assert "download.extra-index-url: http://a.invalid/s http://b.invalid/s\n" in pips_debug
    assert ours_debug[len(pips_debug) :].startswith("roost env_var:\nroost:\n")
    for scope in ([], ["--user"], ["--site"]):
        for name in ("global.timeout", "global.retries", "global.index-url"):
            ours_get = roost("config", *scope, "get", name, env=env)
            theirs = pip26("config", *scope, "get", name, env=env, **pip)
            assert (ours_get.returncode, ours_get.stdout) == (theirs.returncode, theirs.stdout)
    # The site file exists, so a change without a scope goes there, as with pip.
    roost("config", "set", "global.proxy", "http://p.invalid:3128", env=env, check=True)
    assert "proxy = http://p.invalid:3128" in (venv.path / "pip.conf").read_text()
    isolated = roost("--isolated", "config", "--user", "list", env=env, check=True).stdout
    assert isolated == pip26("--isolated", "config", "--user", "list", env=env).stdout == ""


def test_config_follows_pip_config_file(
    tmp_path: Path, pip_env: dict[str, str], pip26: PipRunner
) -> None:
    explicit = tmp_path / "chosen.conf"
    explicit.write_text("[global]\nretries = 1\n")
    env = {**pip_env, "PIP_CONFIG_FILE": str(explicit)}
    done = roost("config", "set", "global.timeout", "5", env=env, check=True)
    assert done.stdout == f"Writing to {explicit}\n"
    assert "PIP_CONFIG_FILE is set" in done.stderr
    assert pip26("config", "get", "global.timeout", env=env).stdout == "5\n"
    assert not (Path(pip_env["XDG_CONFIG_HOME"]) / "pip").exists()
    nowhere = {**pip_env, "PIP_CONFIG_FILE": os.devnull}
    refused = roost("config", "set", "global.timeout", "5", env=nowhere)
    assert refused.returncode == 1
    assert "os.devnull" in refused.stderr
    assert not (Path(pip_env["XDG_CONFIG_HOME"]) / "pip").exists()


def test_config_names_go_where_they_are_read(tmp_path: Path, pip_env: dict[str, str]) -> None:
    roost_file = tmp_path / "roost.toml"
    env = {**pip_env, "ROOST_CONFIG_FILE": str(roost_file)}
    user_file = Path(pip_env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
    roost("config", "set", "install.link-mode", "copy", env=env, check=True)
    roost("config", "set", "global.build-sandbox", "off", env=env, check=True)
    roost("config", "set", "index-url", "http://bare.invalid/simple", env=env, check=True)
    assert roost_file.read_text() == (
        'build-sandbox = false\nindex-url = "http://bare.invalid/simple"\n\n'
        '[install]\nlink-mode = "copy"\n'
    )
    assert not user_file.exists()
    assert roost("config", "get", "install.link-mode", env=env, check=True).stdout == "copy\n"
    seen = roost("config", "list", "--command", "install", env=env, check=True).stdout
    assert f"link-mode='copy'  # roost config {roost_file}" in seen
    roost("config", "set", "install.user", "true", env=env, check=True)
    assert user_file.read_text() == "[install]\nuser = true\n\n"
    # pip's keys that an older roost wrote into its own tables are unset from there.
    roost_file.write_text('[install]\nno-deps = true\n\n[global]\nindex-url = "x"\n')
    roost("config", "unset", "install.no-deps", env=env, check=True)
    roost("config", "unset", "global.index-url", env=env, check=True)
    assert roost_file.read_text() == ""
    for args, message in (
        (["--user", "set", "link-mode", "copy"], "roost config set link-mode VALUE"),
        (["--user", "set", "index-url", "x"], "'global.index-url'"),
        (["set", "instal.user", "true"], "'instal' is not a section pip reads"),
        (["--global", "--user", "list"], "only one of --user, --global and --site"),
        (["set", "global.timeout", "1", "2"], "takes one value"),
    ):
        refused = roost("config", *args, env=env)
        assert refused.returncode in (1, 2), args
        assert message in refused.stderr, (args, refused.stderr)
    assert user_file.read_text() == "[install]\nuser = true\n\n"


def test_config_edit_runs_the_editor_on_the_right_file(
    tmp_path: Path, pip_env: dict[str, str], pip26: PipRunner
) -> None:
    # An "editor" that appends a prepared text to the file it is given.
    editor = tmp_path / "editor.py"
    editor.write_text("import sys\nopen(sys.argv[2], 'a').write(open(sys.argv[1]).read())\n")
    (tmp_path / "pip.txt").write_text("[global]\nretries = 4\n")
    (tmp_path / "roost.txt").write_text("timeout = 9\n")
    roost_file = tmp_path / "roost.toml"
    env = {**pip_env, "ROOST_CONFIG_FILE": str(roost_file)}
    pip_edit = f"{sys.executable} {editor} {tmp_path / 'pip.txt'}"
    roost("config", "--user", "edit", "--editor", pip_edit, env=env, check=True)
    assert pip26("config", "get", "global.retries", env=env).stdout == "4\n"
    roost_edit = f"{sys.executable} {editor} {tmp_path / 'roost.txt'}"
    roost("config", "--editor", roost_edit, "edit", env=env, check=True)
    assert roost("config", "get", "timeout", env=env, check=True).stdout == "9\n"
    assert "timeout = 9" in roost_file.read_text()
