"""pip's smaller commands in roost: hash, debug, help and version, completion and cache,
each compared with real pip 26.3 on the same environment where the format is pip's.
inspect, index versions and config have modules of their own (test_pip_inspect.py,
test_pip_index_versions.py, test_pip_config_command.py).

The reference pip is :mod:`tests.support.reference_pip`'s; without one, the tests
that compare fail and say so.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import packaging
from packaging.version import Version

from roost.testing import IndexServer, VenvMaker, WheelMaker
from tests.support import pip_and_roost, reference_pip
from tests.support.pip_and_roost import PipRunner, roost

# The shared fixture, bound here so that pytest finds it for this module's tests.
pip26 = pip_and_roost.pip26


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
