"""Requirements files parsed the way pip parses them, from real files on disk: lines,
comments and continuations, environment variables, requirement forms, hashes, options,
errors and encodings, and single requirement lines from the command line.

Nested and remote files: test_reqfile_includes.py; properties over generated lines:
test_reqfile_properties.py.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from roost.errors import RequirementError
from roost.resolve.reqfile import parse_requirements_file
from roost.resolve.requirement_line import parse_requirement_line
from tests.support.reqfiles import names, only, parse, write
from tests.support.wheels import WheelSpec, build_wheel

# --- lines, comments, continuations -------------------------------------------------


def test_comments_blank_lines_and_origins(tmp_path: Path) -> None:
    result = parse(
        tmp_path,
        "# a comment\n\n   \nalpha>=1  # trailing comment\n  # indented comment\nbeta\n",
    )
    assert names(result) == ["alpha>=1", "beta"]
    assert [r.origin for r in result.requirements] == [
        f"{tmp_path / 'requirements.txt'}:4",
        f"{tmp_path / 'requirements.txt'}:6",
    ]
    assert result.requirements[0].line == "alpha>=1"


def test_hash_glued_to_a_url_is_not_a_comment(tmp_path: Path) -> None:
    result = parse(
        tmp_path,
        "beta @ https://files.invalid/beta-1.0-py3-none-any.whl#sha256=abcd  # pinned\n"
        "https://files.invalid/gamma-2.0.tar.gz#egg=gamma\n",
    )
    beta, gamma = result.requirements
    assert beta.url == "https://files.invalid/beta-1.0-py3-none-any.whl#sha256=abcd"
    assert beta.requirement is not None and beta.requirement.name == "beta"
    assert gamma.url == "https://files.invalid/gamma-2.0.tar.gz#egg=gamma"
    assert str(gamma.requirement) == "gamma"


def test_continuation_lines_are_joined_and_keep_the_first_line_number(tmp_path: Path) -> None:
    result = parse(tmp_path, "alpha\\\n>=1,\\\n<2\nbeta\n")
    alpha, beta = result.requirements
    assert str(alpha.requirement) == "alpha<2,>=1"
    assert alpha.origin.endswith(":1")
    assert beta.origin.endswith(":4")


def test_a_comment_ending_in_backslash_does_not_continue(tmp_path: Path) -> None:
    result = parse(tmp_path, "# comment \\\nalpha\n")
    assert names(result) == ["alpha"]
    assert only(result).origin.endswith(":2")


def test_a_continuation_into_a_comment_line_ends_the_line(tmp_path: Path) -> None:
    result = parse(tmp_path, "alpha \\\n# a comment\nbeta\\\n")
    assert names(result) == ["alpha", "beta"]


def test_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"alpha==1\r\nbeta \\\r\n  >=2\r\n")
    assert names(parse_requirements_file(path, env={})) == ["alpha==1", "beta>=2"]


# --- environment variables ----------------------------------------------------------


def test_only_braced_uppercase_variables_are_expanded(tmp_path: Path) -> None:
    env = {"PKG": "alpha", "VERSION_1": "1.0", "lower": "no", "EMPTY": "", "HOST": "h.invalid"}
    result = parse(
        tmp_path,
        "${PKG}==${VERSION_1}\n"
        "beta @ https://${HOST}/beta-1.0.tar.gz#egg=beta\n"
        "-i https://$HOST/${lower}/${UNSET}/${EMPTY}\n",
        env=env,
    )
    assert names(result) == ["alpha==1.0", "beta @ https://h.invalid/beta-1.0.tar.gz#egg=beta"]
    assert result.index_url == "https://$HOST/${lower}/${UNSET}/${EMPTY}"
    # ``line`` is what was written: a secret in a variable never reaches messages.
    assert result.requirements[0].line == "${PKG}==${VERSION_1}"


def test_a_variable_holding_a_token_is_used_but_not_shown(tmp_path: Path) -> None:
    result = parse(
        tmp_path,
        "beta @ https://${TOKEN}@h.invalid/beta-1.0-py3-none-any.whl\n",
        env={"TOKEN": "s3cr3t"},
    )
    beta = only(result)
    assert beta.url == "https://s3cr3t@h.invalid/beta-1.0-py3-none-any.whl"
    assert "s3cr3t" not in beta.line


def test_environment_defaults_to_os_environ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOST_TEST_PROJECT", "delta")
    path = write(tmp_path / "r.txt", "${ROOST_TEST_PROJECT}\n")
    assert names(parse_requirements_file(path)) == ["delta"]


# --- requirement forms --------------------------------------------------------------


def test_extras_markers_and_specifiers(tmp_path: Path) -> None:
    req = only(parse(tmp_path, 'alpha[fast, Slow]>=1,!=1.5 ; python_version < "4"\n'))
    assert req.requirement is not None
    assert req.requirement.name == "alpha"
    assert req.requirement.extras == {"fast", "Slow"}
    assert req.requirement.specifier == SpecifierSet(">=1,!=1.5")
    assert req.requirement.marker == Marker('python_version < "4"')
    assert req.marker == Marker('python_version < "4"')
    assert req.url is None and not req.editable and not req.constraint


def test_bare_wheel_path_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = build_wheel(WheelSpec("gamma", "1.2"), tmp_path / "dist")
    # The file lives elsewhere: pip resolves the path from the cwd, not the file's folder.
    reqs = write(tmp_path / "sub" / "requirements.txt", "./dist/gamma-1.2-py3-none-any.whl[x]\n")
    monkeypatch.chdir(tmp_path)
    req = only(parse_requirements_file(reqs, env={}))
    assert req.url == wheel.resolve().as_uri()
    assert str(req.requirement) == "gamma[x]==1.2"


def test_bare_wheel_url_with_marker_needs_a_space_before_the_semicolon(tmp_path: Path) -> None:
    result = parse(
        tmp_path,
        'https://h.invalid/delta-2.0-py3-none-any.whl ; python_version > "3"\n'
        "https://h.invalid/x.tar.gz;v=1#egg=eps\n",
    )
    delta, eps = result.requirements
    assert delta.url == "https://h.invalid/delta-2.0-py3-none-any.whl"
    assert str(delta.requirement) == 'delta==2.0; python_version > "3"'
    assert eps.url == "https://h.invalid/x.tar.gz;v=1#egg=eps"
    assert eps.marker is None


def test_unnamed_archive_and_project_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "pyproject.toml").write_text("[project]\nname='p'\n")
    monkeypatch.chdir(tmp_path)
    result = parse(tmp_path, "https://h.invalid/thing.tar.gz\n./proj\n")
    archive, project = result.requirements
    assert archive.requirement is None and archive.url == "https://h.invalid/thing.tar.gz"
    assert project.requirement is None and project.url == (tmp_path / "proj").as_uri()


def test_directory_without_project_files_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RequirementError, match=r"requirements\.txt:1: directory './empty'"):
        parse(tmp_path, "./empty\n")


def test_editable_lines_are_marked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "proj").mkdir()
    monkeypatch.chdir(tmp_path)
    result = parse(
        tmp_path,
        "-e ./proj\n"
        "--editable git+https://h.invalid/repo.git#egg=repo\n"
        # Options are shell-split, as in pip: a direct reference needs quotes.
        "-e 'name @ git+https://h.invalid/name.git'\n",
    )
    local, vcs, direct = result.requirements
    assert all(r.editable for r in result.requirements)
    assert local.url == (tmp_path / "proj").as_uri() and local.requirement is None
    assert vcs.url == "git+https://h.invalid/repo.git#egg=repo"
    assert str(vcs.requirement) == "repo"
    assert direct.requirement is not None and direct.requirement.name == "name"
    assert local.line == "-e ./proj"


def test_editable_that_is_neither_path_nor_url(tmp_path: Path) -> None:
    with pytest.raises(RequirementError, match="not a valid editable requirement"):
        parse(tmp_path, "-e ./does-not-exist\n")


# --- hashes -------------------------------------------------------------------------


def test_hashes_are_grouped_by_algorithm(tmp_path: Path) -> None:
    result = parse(
        tmp_path,
        "alpha==1.0 \\\n"
        "    --hash=sha256:aaaa \\\n"
        "    --hash sha256:bbbb \\\n"
        "    --hash=sha512:cccc\n"
        "beta==2.0\n",
    )
    alpha, beta = result.requirements
    assert alpha.hashes == {"sha256": ("aaaa", "bbbb"), "sha512": ("cccc",)}
    assert beta.hashes == {}
    assert result.require_hashes


def test_require_hashes_option_and_its_absence(tmp_path: Path) -> None:
    assert parse(tmp_path, "--require-hashes\nalpha\n").require_hashes
    assert not parse(tmp_path, "alpha\n").require_hashes
    # A --hash without a requirement is ignored, as pip does (with a warning).
    assert not parse(tmp_path, "--hash=sha256:aa\n").require_hashes


@pytest.mark.parametrize("bad", ["--hash=md5:aa", "--hash=sha256", "--hash"])
def test_bad_hash_options(tmp_path: Path, bad: str) -> None:
    with pytest.raises(RequirementError) as info:
        parse(tmp_path, f"alpha\nalpha==1 {bad}\n")
    assert "requirements.txt:2" in str(info.value)


# --- options ------------------------------------------------------------------------


def test_index_and_source_options(tmp_path: Path) -> None:
    (tmp_path / "wheels").mkdir()
    result = parse(
        tmp_path,
        "-i https://first.invalid/simple\n"
        "--index-url=https://second.invalid/simple\n"
        "--extra-index-url https://extra1.invalid/simple\n"
        "--extra-index-url=https://extra2.invalid/simple\n"
        "-f wheels\n"
        "--find-links not-here\n"
        "-f https://links.invalid/\n"
        "--no-index\n"
        "--pre\n"
        "--trusted-host first.invalid --trusted-host second.invalid:8080\n",
    )
    assert result.index_url == "https://second.invalid/simple"
    assert result.extra_index_urls == (
        "https://extra1.invalid/simple",
        "https://extra2.invalid/simple",
    )
    assert result.find_links == (str(tmp_path / "wheels"), "not-here", "https://links.invalid/")
    assert result.no_index and result.pre
    assert result.trusted_hosts == ("first.invalid", "second.invalid:8080")
    assert result.requirements == ()
    assert result.options == {}


def test_binary_options_are_kept_for_the_caller(tmp_path: Path) -> None:
    result = parse(
        tmp_path,
        "--prefer-binary\n--only-binary :all:\n--no-binary=alpha,beta\n--only-binary gamma\n",
    )
    assert result.options == {
        "prefer-binary": (),
        "only-binary": (":all:", "gamma"),
        "no-binary": ("alpha,beta",),
    }
    assert not result.pre


def test_long_options_may_be_abbreviated_as_in_pip(tmp_path: Path) -> None:
    result = parse(tmp_path, "--extra-index https://x.invalid/simple\n--no-ind\n")
    assert result.extra_index_urls == ("https://x.invalid/simple",)
    assert result.no_index


def test_unknown_option_names_file_line_and_option(tmp_path: Path) -> None:
    with pytest.raises(RequirementError) as info:
        parse(tmp_path, "alpha\n\n--frobnicate yes\n")
    message = str(info.value)
    assert "requirements.txt:3" in message
    assert "--frobnicate" in message


def test_unknown_option_on_a_requirement_line(tmp_path: Path) -> None:
    with pytest.raises(RequirementError, match=r"requirements\.txt:1: .*--install-option"):
        parse(tmp_path, "alpha --install-option=x\n")


def test_unbalanced_quotes_in_options(tmp_path: Path) -> None:
    with pytest.raises(RequirementError, match=r"requirements\.txt:1"):
        parse(tmp_path, "--trusted-host 'oops\n")


# --- errors -------------------------------------------------------------------------


def test_bad_requirement_names_file_line_and_text(tmp_path: Path) -> None:
    with pytest.raises(RequirementError) as info:
        parse(tmp_path, "alpha\n# fine\nbeta>=>1\n")
    message = str(info.value)
    assert "(from line 3 of " in message and message.endswith("requirements.txt)")
    assert "beta>=>1" in message


def test_single_equals_gets_a_hint(tmp_path: Path) -> None:
    with pytest.raises(RequirementError, match="did you mean =="):
        parse(tmp_path, "alpha=1\n")


def test_credentials_are_redacted_in_errors_and_lines(tmp_path: Path) -> None:
    with pytest.raises(RequirementError) as info:
        parse(tmp_path, "beta @ https://user:hunter2@h.invalid/b.whl ; bogus_marker\n")
    assert "hunter2" not in str(info.value)
    assert "requirements.txt:1" in str(info.value)
    req = only(parse(tmp_path, "beta @ https://user:hunter2@h.invalid/beta-1-py3-none-any.whl\n"))
    assert "hunter2" not in req.line
    assert req.url == "https://user:hunter2@h.invalid/beta-1-py3-none-any.whl"


def test_bad_marker_and_bad_wheel_name(tmp_path: Path) -> None:
    with pytest.raises(RequirementError, match=r":1: invalid marker"):
        parse(tmp_path, "alpha ; python_version <<< '3'\n")
    with pytest.raises(RequirementError, match=r":1: invalid wheel file name"):
        parse(tmp_path, "https://h.invalid/not-a-wheel.whl\n")


# --- encodings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "encoding"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
    ],
)
def test_byte_order_marks(tmp_path: Path, prefix: bytes, encoding: str) -> None:
    path = tmp_path / "r.txt"
    path.write_bytes(prefix + "alpha==1  # café\nbeta\n".encode(encoding))
    assert names(parse_requirements_file(path, env={})) == ["alpha==1", "beta"]


def test_coding_line_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_bytes("# -*- coding: latin-1 -*-\nbeta==1  # café\n".encode("latin-1"))
    assert names(parse_requirements_file(path, env={})) == ["beta==1"]


def test_unknown_coding_and_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_bytes(b"# coding: no-such-codec\nalpha\n")
    with pytest.raises(RequirementError, match="could not decode"):
        parse_requirements_file(path, env={})
    path.write_bytes(b"alpha\n# caf\xe9\n")
    try:  # falls back to the locale's encoding, as pip does
        result = parse_requirements_file(path, env={})
    except RequirementError as exc:
        assert "could not decode" in str(exc)
    else:
        assert names(result) == ["alpha"]


# --- command-line strings -----------------------------------------------------------


def test_parse_requirement_line_forms() -> None:
    plain = parse_requirement_line('alpha[fast]==1; python_version<"4"', "command line")
    assert str(plain.requirement) == 'alpha[fast]==1; python_version < "4"'
    assert plain.origin == "command line" and plain.hashes == {} and not plain.constraint
    direct = parse_requirement_line("name @ https://h.invalid/name-1.0.tar.gz", "cli")
    assert direct.url == "https://h.invalid/name-1.0.tar.gz"
    with pytest.raises(RequirementError, match=r"^cli: Invalid requirement: 'alpha >>'"):
        parse_requirement_line("alpha >>", "cli")
