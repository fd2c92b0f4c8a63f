"""pip's ``Downloading NAME (SIZE)`` and ``Using cached NAME (SIZE)`` lines, against pip
26.3's own on the same loopback index.

pip says one of these lines for each file it gets: ``Downloading`` over the network,
``Using cached`` from its HTTP cache. roost says them for the files it hands over to
install, download or wheel: ``Using cached`` for its wheel cache and for a wheel its
unpacked store holds (never read at all: the network was not asked either way).

pip also says a line for each PEP 658 ``.metadata`` file it reads while resolving
(indented under ``Collecting``); roost says none for those, so they are left out of
the comparison. pip caches plain-HTTP answers only for a ``--trusted-host`` that sends
cache headers, so the index here says its files may be cached, as real indexes do.
"""

from __future__ import annotations

import random
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from roost.util.output import file_size
from tests.support import reference_pip
from tests.support.envs import clean_env, make_venv, run_roost
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec

FILE_VERBS = ("Downloading ", "Using cached ")


class CachingServer(IndexServer):
    """The loopback index, saying its files may be cached for a year (as indexes do)."""

    def _file(self, handler: Any, name: str) -> tuple[int, bytes, dict[str, str]]:
        status, body, headers = super()._file(handler, name)
        if status in (200, 206):
            headers["Cache-Control"] = "max-age=31536000, immutable, public"
        return status, body, headers


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """A project with a dependency: a small wheel (bytes), one of some kB (one decimal),
    one of tens of kB (whole kB)."""
    index = PackageIndex(tmp_path_factory.mktemp("fetch-lines-index"))
    index.add(WheelSpec("top", "1.0", requires=["mid"]))
    index.add(WheelSpec("mid", "1.0", requires=["big"], files={"mid/pad.txt": "m" * 3000}))
    # Random bytes, so that the wheel does not compress below tens of kB.
    noise = random.Random(18).randbytes(60_000)
    index.add(WheelSpec("big", "1.0", files={"big/blob.bin": noise}))
    index.write()
    with CachingServer(index) as running:
        yield running


def file_lines(stdout: str) -> list[str]:
    """The file lines of *stdout* but pip's ``.metadata`` ones, sorted."""
    lines = [line.strip() for line in stdout.splitlines()]
    return sorted(
        line
        for line in lines
        if line.startswith(FILE_VERBS) and not line.split(" (")[0].endswith(".metadata")
    )


class Tool:
    """pip's or roost's runs from *folder*, with one cache of their own."""

    def __init__(self, folder: Path, tool: str, url: str) -> None:
        self.folder, self.tool, self.url = folder, tool, url
        self.home = folder / f"home-{tool}"
        self.home.mkdir()
        self.cache = folder / f"cache-{tool}"

    def __call__(self, command: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = clean_env(self.home)
        common = ["-i", self.url, "--cache-dir", str(self.cache)]
        if self.tool == "roost":
            result = run_roost(command, *common, *args, env=env, cwd=self.folder)
        else:
            python, rest = None, list(args)
            if "--python" in rest:
                at = rest.index("--python")
                python = rest.pop(at + 1)
                rest.pop(at)
            result = subprocess.run(
                [*reference_pip.command(python), command, *common, "--trusted-host",
                 "127.0.0.1", *rest],
                env=env, cwd=self.folder, capture_output=True, text=True, timeout=300,
                check=False,
            )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result


def venv_run(tool: Tool, *args: str) -> subprocess.CompletedProcess[str]:
    """An install into a fresh venv (the last one made is moved aside)."""
    folder = tool.folder / f"venvs-{tool.tool}"
    folder.mkdir(exist_ok=True)
    python = make_venv(folder / str(len(list(folder.iterdir()))))
    return tool("install", "--python", str(python), *args)


def test_sizes_are_written_as_pip_writes_them() -> None:
    said = {n: file_size(n) for n in (0, 999, 1000, 1001, 9999, 10_000, 10_001, 601_268)}
    assert said == {
        0: "0 bytes",
        999: "999 bytes",
        1000: "1000 bytes",
        1001: "1.0 kB",
        9999: "10.0 kB",
        10_000: "10.0 kB",
        10_001: "10 kB",
        601_268: "601 kB",
    }
    assert file_size(1_000_001) == "1.0 MB" and file_size(123_456_789) == "123.5 MB"


def test_install_cold_then_warm_says_what_pip_says(tmp_path: Path, server: IndexServer) -> None:
    """Cold: Downloading each wheel. Warm (a fresh venv, the same cache): Using cached,
    pip's from its HTTP cache, roost's from its store. The lines come after the
    Collecting lines and before Installing collected packages, as pip's do."""
    said: dict[str, list[list[str]]] = {}
    for name in ("pip", "roost"):
        tool = Tool(tmp_path, name, server.url)
        runs = [venv_run(tool, "top"), venv_run(tool, "top")]
        said[name] = [file_lines(run.stdout) for run in runs]
        for run in runs:
            lines = run.stdout.splitlines()
            verbs = [n for n, line in enumerate(lines) if line.startswith(FILE_VERBS)]
            collecting = [n for n, line in enumerate(lines) if line.startswith("Collecting ")]
            installing = lines.index("Installing collected packages: big, mid, top")
            assert max(collecting) < min(verbs) and max(verbs) < installing, run.stdout
    assert said["roost"] == said["pip"]
    cold, warm = said["roost"]
    assert [line.split(" (")[0] for line in cold] == [
        "Downloading big-1.0-py3-none-any.whl",
        "Downloading mid-1.0-py3-none-any.whl",
        "Downloading top-1.0-py3-none-any.whl",
    ]
    assert warm == [line.replace("Downloading", "Using cached") for line in cold]
    assert any(line.endswith(" kB)") and "." not in line.split(" (")[1] for line in cold)


def test_quiet_says_no_file_lines(tmp_path: Path, server: IndexServer) -> None:
    for name in ("pip", "roost"):
        run = venv_run(Tool(tmp_path, name, server.url), "-q", "top")
        assert run.stdout == "", (name, run.stdout)


def test_download_says_what_pip_says(tmp_path: Path, server: IndexServer) -> None:
    """Cold and warm, the file lines before the Saved lines."""
    said: dict[str, list[list[str]]] = {}
    closing: dict[str, list[str]] = {}
    for name in ("pip", "roost"):
        tool = Tool(tmp_path, name, server.url)
        runs = [tool("download", "-d", f"dest-{name}-{n}", "top") for n in (1, 2)]
        said[name] = [file_lines(run.stdout) for run in runs]
        # "Saved ./dest/FILE" (relative, as pip shows it) and the projects' names.
        first = runs[0].stdout.splitlines()
        saved_lines = [line for line in first if line.startswith("Saved ")]
        names = " ".join(sorted(first[-1].split()[2:]))
        closing[name] = [*sorted(s.replace(f"dest-{name}-", "dest-") for s in saved_lines), names]
        for run in runs:
            lines = run.stdout.splitlines()
            verbs = [n for n, line in enumerate(lines) if line.startswith(FILE_VERBS)]
            saved = [n for n, line in enumerate(lines) if line.startswith("Saved ")]
            assert len(saved) == 3 and max(verbs) < min(saved), run.stdout
    assert said["roost"] == said["pip"]
    assert closing["roost"] == closing["pip"]
    assert all(line.startswith("Downloading ") for line in said["roost"][0])
    assert all(line.startswith("Using cached ") for line in said["roost"][1])


def test_wheel_says_what_pip_says(tmp_path: Path, server: IndexServer) -> None:
    said: dict[str, list[list[str]]] = {}
    for name in ("pip", "roost"):
        tool = Tool(tmp_path, name, server.url)
        runs = [tool("wheel", "-w", f"dest-{name}-{n}", "top") for n in (1, 2)]
        said[name] = [file_lines(run.stdout) for run in runs]
    assert said["roost"] == said["pip"]
    assert len(said["roost"][0]) == 3
    assert all(line.startswith("Using cached ") for line in said["roost"][1])
