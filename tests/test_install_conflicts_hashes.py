"""After an install, pip's lines about the requirements it left unmet (and
``--no-warn-conflicts``); ``--no-require-hashes``, and ``download --require-hashes``:
each against pip 26.3 on the same index."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from tests.support import reference_pip
from tests.support.envs import (
    ROOST_COMMAND,
    clean_env,
    installed,
    make_venv,
    manifest,
    run_roost,
)
from tests.support.index import PackageIndex
from tests.support.server import IndexServer

UNMET = "beta 1.0 requires alpha<2,>=1.0, but you have alpha 2.0 which is incompatible."


def pip(python: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*reference_pip.command(python), *args, "--no-cache-dir"],
        env=clean_env(home),
        cwd=home.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def roost(python: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    command, *rest = args
    return run_roost(command, "--python", str(python), *rest, env=clean_env(home), cwd=home.parent)


def sha256(index: PackageIndex, filename: str) -> str:
    return hashlib.sha256((index.files_dir / filename).read_bytes()).hexdigest()


def test_conflicts_an_install_leaves_are_said_as_pip_says_them(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """beta needs alpha<2; upgrading alpha past it is done, and said (exit 0). A broken
    distribution the install did not touch (conflict-a, without its delta) is not."""
    url = index_server.url
    said = {}
    for tool, run in (("pip", pip), ("roost", roost)):
        venv = make_venv(tmp_path / tool / "venv")
        home = tmp_path / tool / "home"
        home.mkdir()
        for args in (("beta",), ("--no-deps", "conflict-a")):
            done = run(venv, "install", "-i", url, *args, home=home)
            assert done.returncode == 0, done.stderr
            assert "incompatible" not in done.stderr
        upgrade = run(venv, "install", "-i", url, "alpha==2.0", home=home)
        assert upgrade.returncode == 0, upgrade.stderr
        assert installed(venv)["alpha"] == "2.0"
        said[tool] = [line for line in upgrade.stderr.splitlines() if " requires " in line]
    assert said["roost"] == said["pip"] == [UNMET]


def test_no_warn_conflicts_and_no_deps_say_nothing(
    tmp_path: Path, index_server: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv")
    home = tmp_path / "home"
    home.mkdir()
    url = index_server.url
    roost(venv, "install", "-i", url, "beta", home=home)
    quiet = roost(venv, "install", "--no-warn-conflicts", "-i", url, "alpha==2.0", home=home)
    assert quiet.returncode == 0, quiet.stderr
    assert "requires" not in quiet.stderr
    roost(venv, "install", "-i", url, "alpha==1.1", home=home)
    no_deps = roost(venv, "install", "--no-deps", "-i", url, "alpha==2.0", home=home)
    assert no_deps.returncode == 0, no_deps.stderr
    assert "requires" not in no_deps.stderr
    warned = roost(venv, "install", "-i", url, "alpha==1.0", home=home)
    assert "requires" not in warned.stderr  # 1.0 meets beta's requirement again
    broken = roost(venv, "install", "-i", url, "alpha==2.0", home=home)
    assert UNMET in broken.stderr
    assert broken.stderr.index(UNMET) > broken.stderr.index("ERROR: ")
    check = roost(venv, "check", home=home)
    assert check.returncode == 1
    assert "beta 1.0 has requirement alpha<2,>=1.0, but you have alpha 2.0." in check.stdout


def test_no_require_hashes(
    tmp_path: Path, index_server: IndexServer, corpus_index: PackageIndex
) -> None:
    """A --hash alone no longer asks every requirement for one (alpha has none), but
    still holds its own file to it; with --require-hashes anywhere, an error, as pip."""
    good = sha256(corpus_index, "beta-1.0-py3-none-any.whl")
    (tmp_path / "hashed.txt").write_text(f"beta==1.0 --hash=sha256:{good}\n")
    (tmp_path / "wrong.txt").write_text(f"beta==1.0 --hash=sha256:{'0' * 64}\n")
    (tmp_path / "line.txt").write_text("--require-hashes\nsix\n")
    url = index_server.url
    cases = [
        (("-r", "hashed.txt"), {}, 1),
        (("--no-require-hashes", "-r", "hashed.txt"), {}, 0),
        (("--no-require-hashes", "-r", "wrong.txt"), {}, 1),
        (("--no-require-hashes", "beta"), {"PIP_REQUIRE_HASHES": "1"}, 1),
        (("--no-require-hashes", "-r", "line.txt"), {}, 1),
    ]
    for number, (args, variables, status) in enumerate(cases):
        codes = {}
        for tool in ("pip", "roost"):
            venv = make_venv(tmp_path / f"{tool}-{number}")
            before = manifest(tmp_path / f"{tool}-{number}")
            env = clean_env(tmp_path)
            env.update(variables)
            if tool == "pip":
                command = [*reference_pip.command(venv), "install", "--no-cache-dir"]
            else:
                command = [*ROOST_COMMAND, "install", "--python", str(venv)]
            done = subprocess.run(
                [*command, "-i", url, *args],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            codes[tool] = done.returncode
            if done.returncode:
                assert manifest(tmp_path / f"{tool}-{number}") == before
            elif tool == "roost":
                assert installed(venv) == {"alpha": "1.1", "beta": "1.0"}
            if tool == "roost" and variables:
                assert "--no-require-hashes" in done.stderr
                assert "--require-hashes (from pip environment (PIP_*))" in done.stderr
        assert codes == {"pip": status, "roost": status}, (args, variables)


def test_download_require_hashes(
    tmp_path: Path, index_server: IndexServer, corpus_index: PackageIndex
) -> None:
    """Every file saved must match a --hash; without one nothing is saved."""
    url = index_server.url
    refused = run_roost(
        "download", "--require-hashes", "-d", str(tmp_path / "a"), "-i", url, "beta==1.0"
    )
    assert refused.returncode == 1
    assert "alpha==1.1 --hash=sha256:" in refused.stderr
    assert not list((tmp_path / "a").glob("*"))
    alpha = sha256(corpus_index, "alpha-1.1-py3-none-any.whl")
    beta = sha256(corpus_index, "beta-1.0-py3-none-any.whl")
    (tmp_path / "req.txt").write_text(
        f"beta==1.0 --hash=sha256:{beta}\nalpha==1.1 --hash=sha256:{alpha}\n"
    )
    saved = run_roost(
        "download", "--require-hashes", "-d", str(tmp_path / "b"), "-i", url, "-r",
        str(tmp_path / "req.txt"), check=True,
    )  # fmt: skip
    assert "Successfully downloaded" in saved.stdout
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "alpha-1.1-py3-none-any.whl",
        "beta-1.0-py3-none-any.whl",
    ]
    loose = run_roost(
        "download", "--require-hashes", "-d", str(tmp_path / "c"), "-i", url, "beta>=1"
    )
    assert loose.returncode == 1
    assert "pinned" in loose.stderr
