"""``--requirements-from-script``: PEP 723 inline script metadata, read as pip 26.3
reads it (its block rules compared with pip's own reader), and the option on install,
download, wheel and lock."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from roost.errors import RequirementError
from roost.resolve.script_metadata import (
    MAX_SCRIPT_BYTES,
    metadata_blocks,
    read_script_metadata,
)
from tests.support import reference_pip
from tests.support.envs import make_venv, run_roost
from tests.support.server import IndexServer

DEPS = '# /// script\n# requires-python = ">=3.8"\n# dependencies = [\n#   "beta",\n# ]\n# ///\n'

#: Scripts whose reading pip and roost must agree on: what they read, or that both fail.
SCRIPTS = {
    "plain": DEPS + "print('hi')\n",
    "after code": "import sys\n\n" + DEPS,
    "no final newline": DEPS.rstrip("\n"),
    "crlf": DEPS.replace("\n", "\r\n"),
    "bare hash lines": '# /// script\n#\n# dependencies = ["beta"]\n#\n# ///\n',
    "other type first": "# /// tool\n# x = 1\n# ///\n" + DEPS,
    "closer inside": '# /// script\n# dependencies = ["beta"]\n# ///\n# x = 1\n# ///\n',
    "closer then text": '# /// script\n# dependencies = ["beta"]\n# ///\n#not a content line\n',
    "no block": "print('hi')\n",
    "unclosed": '# /// script\n# dependencies = ["beta"]\n',
    "empty block": "# /// script\n# ///\n",
    "two blocks": DEPS + "\n" + DEPS,
    "bad toml": "# /// script\n# dependencies = [\n# ///\n",
    "indented opener": '  # /// script\n# dependencies = ["beta"]\n# ///\n',
    "opener with trailing space": '# /// script \n# dependencies = ["beta"]\n# ///\n',
    "no requires-python": '# /// script\n# dependencies = ["alpha<2", "gamma[fast]"]\n# ///\n',
}

_PIP_READER = """
import json, sys
sys.path.insert(0, sys.argv[1]) if sys.argv[1] else None
from pip._internal.req.pep723 import pep723_metadata
answers = {}
for name, path in json.loads(sys.argv[2]).items():
    try:
        answers[name] = pep723_metadata(path)
    except Exception as exc:
        answers[name] = {"error": type(exc).__name__}
print(json.dumps(answers))
"""


def _pip_reads(paths: dict[str, str]) -> dict[str, dict[str, object]]:
    kind, where = reference_pip.require()
    python, path_entry = (sys.executable, where) if kind == "wheel" else (where, "")
    done = subprocess.run(
        [python, "-c", _PIP_READER, path_entry, json.dumps(paths)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    answers: dict[str, dict[str, object]] = json.loads(done.stdout)
    return answers


def test_blocks_are_read_as_pip_reads_them(tmp_path: Path) -> None:
    paths = {}
    for name, text in SCRIPTS.items():
        path = tmp_path / f"{name.replace(' ', '_')}.py"
        path.write_bytes(text.encode())
        paths[name] = str(path)
    pip = _pip_reads(paths)
    for name, path in paths.items():
        try:
            read = read_script_metadata(path)
        except RequirementError:
            assert "error" in pip[name], (name, pip[name])
            continue
        assert "error" not in pip[name], (name, pip[name])
        assert list(read.dependencies) == pip[name].get("dependencies", []), name
        wanted = pip[name].get("requires-python")
        assert (None if read.requires_python is None else str(read.requires_python)) == wanted


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("print(1)\n", "has no inline script metadata"),
        (DEPS + "\n" + DEPS, "has 2 '# /// script' blocks"),
        ("# /// script\n# dependencies = [\n# ///\n", "is not valid TOML"),
        ('# /// script\n# dependencies = ["beta >>= 1"]\n# ///\n', "Invalid requirement: "),
        ('# /// script\n# dependencies = "beta"\n# ///\n', "must be an array"),
        ('# /// script\n# requires-python = "three"\n# ///\n', "is not a version specifier"),
        ("# /// script\n# requires-python = 3\n# ///\n", "must be a string"),
    ],
)
def test_bad_metadata_is_a_clear_error(tmp_path: Path, text: str, said: str) -> None:
    script = tmp_path / "s.py"
    script.write_text(text)
    with pytest.raises(RequirementError) as caught:
        read_script_metadata(script)
    assert said in caught.value.message
    assert str(script) in caught.value.message


def test_size_is_bounded(tmp_path: Path) -> None:
    script = tmp_path / "big.py"
    with script.open("wb") as handle:
        handle.write(DEPS.encode())
        handle.truncate(MAX_SCRIPT_BYTES + 1)
    with pytest.raises(RequirementError) as caught:
        read_script_metadata(script)
    assert "larger than 16 MiB" in caught.value.message


def test_many_unclosed_openers_take_linear_time() -> None:
    # Each opener's comment run reaches the end of the file: a backtracking reader
    # goes over the rest of the file once per opener.
    text = "# /// script\n# x = 1\n" * 40_000
    started = time.monotonic()
    assert metadata_blocks(text) == []
    assert time.monotonic() - started < 5


def script(tmp_path: Path, dependencies: str, requires_python: str | None = None) -> Path:
    lines = ["# /// script"]
    if requires_python is not None:
        lines.append(f'# requires-python = "{requires_python}"')
    lines.append(f"# dependencies = [{dependencies}]")
    lines.append("# ///")
    path = tmp_path / "tool.py"
    path.write_text("#!/usr/bin/env python\n" + "\n".join(lines) + "\nprint('tool')\n")
    return path


def installed(python: Path) -> set[str]:
    site = next((python.parent.parent / "lib").glob("python3*/site-packages"))
    return {p.name.split("-")[0] for p in site.glob("*.dist-info")}


def test_install_takes_the_scripts_dependencies_beside_other_requirements(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    venv = make_venv(tmp_path / "venv")
    path = script(tmp_path, '"beta"', ">=3.8")
    (tmp_path / "req.txt").write_text("delta\n")
    done = run_roost(
        "install", "--python", str(venv), "-i", index_server.url,
        "--requirements-from-script", str(path), "-r", str(tmp_path / "req.txt"), "zeta",
        env=tmp_home, check=True,
    )  # fmt: skip
    assert installed(venv) >= {"alpha", "beta", "delta", "zeta"}
    assert "Successfully installed" in done.stdout


def test_a_script_for_another_python_changes_nothing(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    venv = make_venv(tmp_path / "venv")
    before = installed(venv)
    path = script(tmp_path, '"delta"', ">=4")
    args = ["install", "--python", str(venv), "-i", index_server.url]
    refused = run_roost(*args, "--requirements-from-script", str(path), env=tmp_home)
    assert refused.returncode == 1
    assert f"The script {path} requires Python >=4" in refused.stderr
    assert installed(venv) == before
    # As pip: --ignore-requires-python skips the check.
    run_roost(
        *args, "--ignore-requires-python", "--requirements-from-script", str(path),
        env=tmp_home, check=True,
    )  # fmt: skip
    assert "delta" in installed(venv)


def test_the_python_checked_is_the_one_resolved_for(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    path = script(tmp_path, '"delta"', ">=3.99")
    args = [
        "download", "-d", str(tmp_path / "d"), "-i", index_server.url, "--only-binary=:all:",
        "--requirements-from-script", str(path),
    ]  # fmt: skip
    assert run_roost(*args, env=tmp_home).returncode == 1
    run_roost(*args, "--python-version", "3.99", env=tmp_home, check=True)
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["delta-1.0-py3-none-any.whl"]


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (("--only-deps",), "--only-deps cannot be combined with --requirements-from-script"),
        (("--requirements-from-script", "again.py"), "can be given only once"),
    ],
)
def test_refused_combinations(
    tmp_path: Path, tmp_home: dict[str, str], extra: tuple[str, ...], said: str
) -> None:
    path = script(tmp_path, '"delta"')
    done = run_roost(
        "download", "-d", str(tmp_path / "d"), "--no-index",
        "--requirements-from-script", str(path), *extra, env=tmp_home,
    )  # fmt: skip
    assert done.returncode == 1
    assert said in done.stderr
    assert not (tmp_path / "d").exists()


def test_wheel_and_lock_take_a_script(
    tmp_path: Path, index_server: IndexServer, tmp_home: dict[str, str]
) -> None:
    path = script(tmp_path, '"beta"')
    run_roost(
        "wheel", "-w", str(tmp_path / "w"), "-i", index_server.url,
        "--requirements-from-script", str(path), env=tmp_home, check=True,
    )  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == [
        "alpha-1.1-py3-none-any.whl",
        "beta-1.0-py3-none-any.whl",
    ]
    lock = tmp_path / "pylock.toml"
    run_roost(
        "lock", "-o", str(lock), "-i", index_server.url,
        "--requirements-from-script", str(path), env=tmp_home, check=True,
    )  # fmt: skip
    text = lock.read_text()
    assert 'name = "beta"' in text and 'name = "alpha"' in text
