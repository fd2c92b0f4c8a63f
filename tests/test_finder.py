"""The finder: strategies across sources, tag and Requires-Python filtering, ordering."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from roost.errors import ConfigError, NoIndexConfigured
from roost.index.finder import SDIST_RANK, Finder, FindResult, no_index_configured_message
from roost.manager import Manager
from roost.net.client import Client
from roost.types import IndexSource, Scheme, Target
from roost.util.settings import build_settings
from tests.support.index import PackageIndex
from tests.support.server import IndexServer
from tests.support.wheels import WheelSpec, build_sdist

CLI = dict[str, str | tuple[str, ...] | bool | None]

TAGS = (
    "cp311-cp311-manylinux_2_17_x86_64",
    "cp311-abi3-manylinux_2_17_x86_64",
    "cp311-none-manylinux_2_17_x86_64",
    "py3-none-manylinux_2_17_x86_64",
    "cp311-none-any",
    "py3-none-any",
    "py2.py3-none-any",
)


def make_target(version: tuple[int, int, int] = (3, 11, 7), tags: Sequence[str] = TAGS) -> Target:
    scheme = Scheme("/p/lib", "/p/lib", "/p/include", "/p/bin", "/p")
    return Target(
        executable="/p/bin/python",
        version=version,
        implementation="cpython",
        prefix="/p",
        base_prefix="/p",
        is_venv=True,
        system_site_packages=False,
        user_site_enabled=False,
        user_base="/home/u/.local",
        user_site="/home/u/.local/lib/site-packages",
        default_scheme=scheme,
        user_scheme=scheme,
        prefix_template={},
        user_template={},
        markers={},
        tags=tuple(tags),
        externally_managed=None,
        sys_path=(),
    )


def finder_for(
    manager: Manager,
    client: Client,
    cli: CLI,
    tmp_path: Path,
    **kwargs: str,
) -> Finder:
    """A finder over the sources the real settings and plugins give for *cli*."""
    settings = build_settings(
        "install", cli, manager, env={"ROOST_CONFIG_FILE": str(tmp_path / "none")}
    )
    return Finder(manager, client, manager.index_sources(settings), make_target(), **kwargs)


def versions(result: FindResult) -> list[str]:
    return [str(c.version) for c in result.candidates]


def test_corpus_over_http(
    index_server: IndexServer, manager: Manager, client: Client, tmp_path: Path
) -> None:
    finder = finder_for(manager, client, {"index-url": index_server.url}, tmp_path)
    alpha = finder.find("Alpha")
    assert alpha.project == "alpha"
    assert versions(alpha) == ["2.1rc1", "2.0", "1.5", "1.1", "1.0"]
    assert [c.link.yanked for c in alpha.candidates if str(c.version) == "1.5"] == ["broken"]
    assert all(c.is_wheel and c.tag_rank == TAGS.index("py3-none-any") for c in alpha.candidates)
    assert alpha.rejected == ()
    assert [s.url for s in alpha.sources] == [index_server.url]

    onlynew = finder.find("onlynew")
    assert versions(onlynew) == ["0.9"]
    ((link, reason),) = onlynew.rejected
    assert link.filename == "onlynew-1.0-py3-none-any.whl"
    assert reason == "requires Python >=3.12 but the target is 3.11.7"

    binary = finder.find("binary")
    assert binary.candidates == ()
    assert binary.rejected[0][1] == (
        "no tag matches cp311-cp311-manylinux_2_17_x86_64: has cp27-cp27mu-linux_armv6l"
    )

    sdist = finder.find("sdistonly")
    ((candidate,),) = [sdist.candidates]
    assert not candidate.is_wheel and candidate.tag_rank == SDIST_RANK

    missing = finder.find("nothing-here")
    assert missing.candidates == () and missing.sources == ()


def test_file_index_and_cache(
    corpus_index: PackageIndex, manager: Manager, client: Client, tmp_path: Path
) -> None:
    finder = finder_for(manager, client, {"index-url": corpus_index.file_url}, tmp_path)
    first = finder.find("beta")
    assert versions(first) == ["1.0"]
    assert finder.find("BETA") is first


def _two_indexes(tmp_path: Path) -> tuple[PackageIndex, PackageIndex]:
    private = PackageIndex(tmp_path / "private")
    private.add(WheelSpec("shared", "1.0"))
    private.add(WheelSpec("internal", "1.0"))
    private.write()
    public = PackageIndex(tmp_path / "public")
    public.add(WheelSpec("shared", "99.0"))
    public.add(WheelSpec("only-public", "2.0"))
    public.write()
    return private, public


def test_first_index_strategy(manager: Manager, client: Client, tmp_path: Path) -> None:
    private, public = _two_indexes(tmp_path)
    with IndexServer(private) as first, IndexServer(public) as second:
        # The private index is the extra one: extra indexes are asked before the main one.
        cli: CLI = {"index-url": second.url, "extra-index-url": (first.url,)}
        finder = finder_for(manager, client, cli, tmp_path)
        shared = finder.find("shared")
        # the private index knows "shared": the public one is never asked for it, so its
        # 99.0 cannot win (no dependency confusion)
        assert versions(shared) == ["1.0"]
        assert [s.url for s in shared.sources] == [first.url]
        assert second.requests_for("/simple/shared/") == []
        only = finder.find("only-public")
        assert versions(only) == ["2.0"]
        assert [s.url for s in only.sources] == [second.url]
        assert [s.origin for s in only.sources] == ["command line"]
        assert first.requests_for("/simple/only-public/") != []


def test_unsafe_best_match_merges(manager: Manager, client: Client, tmp_path: Path) -> None:
    private, public = _two_indexes(tmp_path)
    cli: CLI = {"index-url": private.file_url, "extra-index-url": (public.file_url,)}
    finder = finder_for(manager, client, cli, tmp_path, strategy="unsafe-best-match")
    shared = finder.find("shared")
    assert versions(shared) == ["99.0", "1.0"]
    assert len(shared.sources) == 2


def test_find_links_always_merged(manager: Manager, client: Client, tmp_path: Path) -> None:
    private, _ = _two_indexes(tmp_path)
    folder = tmp_path / "wheels"
    build_sdist("shared", "1.5", folder)
    build_sdist("shared", "1.0", folder)
    cli: CLI = {"index-url": private.file_url, "find-links": (str(folder),)}
    finder = finder_for(manager, client, cli, tmp_path)
    shared = finder.find("shared")
    assert [(str(c.version), c.is_wheel) for c in shared.candidates] == [
        ("1.5", False),
        ("1.0", True),  # wheels before sdists of the same version
        ("1.0", False),
    ]
    assert [s.kind for s in shared.sources] == ["index", "find-links"]
    # --no-index: find-links alone
    alone = finder_for(manager, client, {**cli, "no-index": True}, tmp_path)
    assert [s.kind for s in alone.find("shared").sources] == ["find-links"]


def test_tag_rank_orders_wheels_of_one_version(
    manager: Manager, client: Client, tmp_path: Path
) -> None:
    index = PackageIndex(tmp_path / "idx")
    for tag in ["py3-none-any", "cp311-abi3-manylinux_2_17_x86_64", "cp27-none-any"]:
        index.add(WheelSpec("tagged", "1.0", tag=tag, root_is_purelib=False))
    index.write()
    finder = finder_for(manager, client, {"index-url": index.file_url}, tmp_path)
    result = finder.find("tagged")
    assert [c.tag_rank for c in result.candidates] == [1, 5]
    assert "has cp27-none-any" in result.rejected[0][1]


def test_odd_links_are_rejected_with_reasons(
    manager: Manager, client: Client, tmp_path: Path
) -> None:
    page = tmp_path / "simple" / "odd" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text(
        '<a href="odd-1.0-py3-none-any.whl" data-requires-python="&gt;=3.12">a</a>'
        '<a href="odd-1.1-py3-none-any.whl" data-requires-python="&lt;4">b</a>'
        '<a href="odd-1.2-py3-none-any.whl" data-requires-python="not a spec">c</a>'
        '<a href="odd-1.3.exe">d</a>'
        '<a href="other-1.4-py3-none-any.whl">e</a>'
        '<a href="odd-1.5-bad.whl">f</a>'
        '<a href="odd-notaversion.tar.gz">g</a>'
        '<a href="odd-1.6.tar.gz" data-yanked="">h</a>'
    )
    finder = finder_for(manager, client, {"index-url": str(tmp_path / "simple")}, tmp_path)
    result = finder.find("odd")
    assert versions(result) == ["1.6", "1.1"]
    assert result.candidates[0].link.yanked == ""
    reasons = {link.filename: reason for link, reason in result.rejected}
    assert reasons["odd-1.0-py3-none-any.whl"] == (
        "requires Python >=3.12 but the target is 3.11.7"
    )
    assert reasons["odd-1.2-py3-none-any.whl"] == "invalid Requires-Python 'not a spec'"
    assert reasons["odd-1.3.exe"] == "not a wheel or sdist"
    assert reasons["other-1.4-py3-none-any.whl"].startswith("name does not match")
    assert reasons["odd-1.5-bad.whl"].startswith("invalid wheel filename")
    assert reasons["odd-notaversion.tar.gz"].startswith("invalid sdist filename")


def test_parallel_finds_ask_once(
    corpus_index: PackageIndex, manager: Manager, client: Client, tmp_path: Path
) -> None:
    with IndexServer(corpus_index) as server:
        finder = finder_for(manager, client, {"index-url": server.url}, tmp_path)
        results: list[FindResult] = []
        threads = [
            threading.Thread(target=lambda n=name: results.append(finder.find(n)))
            for name in ["alpha", "Alpha", "ALPHA", "beta", "alpha", "beta"] * 3
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(results) == 18
        assert len(server.requests_for("/simple/alpha/")) == 1
        assert len(server.requests_for("/simple/beta/")) == 1


def test_no_sources(manager: Manager, client: Client, tmp_path: Path) -> None:
    finder = Finder(manager, client, [], make_target())  # no error before the first find
    with pytest.raises(NoIndexConfigured) as info:
        finder.find("alpha")
    message = info.value.message
    for needle in [
        "--index-url",
        "-i URL",
        "ROOST_INDEX_URL",
        "index-url = ",
        "PIP_INDEX_URL",
        "pip config set global.index-url",
        "--find-links",
    ]:
        assert needle in message
    assert message == no_index_configured_message()
    assert "pypi" not in message.lower()


def test_source_no_plugin_reads(manager: Manager, client: Client) -> None:
    source = IndexSource("s3://bucket/simple", "index", "pip config /etc/pip.conf")
    finder = Finder(manager, client, [source], make_target())
    with pytest.raises(ConfigError, match=r"s3://bucket/simple \(from pip config /etc/pip.conf\)"):
        finder.find("alpha")


def test_unknown_strategy(manager: Manager, client: Client) -> None:
    with pytest.raises(ConfigError, match="first-index, unsafe-best-match"):
        Finder(manager, client, [], make_target(), strategy="best")
