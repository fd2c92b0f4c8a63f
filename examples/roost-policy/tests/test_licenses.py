"""[licenses]: the plan check reads each distribution's licence from its metadata and
refuses the whole install, before anything is written, when one is not allowed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Install

from roost.testing import IndexServer, VenvMaker, WheelMaker

POLICY = """
[licenses]
allowed = ["MIT", "bsd-3-clause", "Apache-2.0"]
"""


def test_a_refused_licence_leaves_the_venv_as_it_was(
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    install: Install,
    write_policy: Callable[..., Path],
) -> None:
    roost_index.add(make_wheel("base", "1.0", license_expression="MIT"))
    roost_index.add(make_wheel("base", "2.0", license_expression="MIT"))
    roost_index.add(make_wheel("copyleft", "1.0", license_expression="GPL-3.0-only"))
    policy = write_policy(POLICY)
    venv = roost_venv()
    assert install(venv, "base==1.0", policy=policy).returncode == 0
    before = venv.installed()

    # An upgrade the policy allows, beside a distribution it does not.
    result = install(venv, "base==2.0", "copyleft", policy=policy)

    assert result.returncode == 1
    assert "the install plan (2 distribution(s) in" in result.stderr
    assert "was refused; nothing was changed" in result.stderr
    assert (
        "policy: copyleft 1.0 is licensed GPL-3.0-only (from License-Expression), and "
        "GPL-3.0-only is not among the licences [licenses] allowed "
        f"(MIT, BSD-3-Clause, Apache-2.0) in {policy}"
    ) in result.stderr
    assert "- if copyleft may be used anyway, list it in [licenses] exempt" in result.stderr
    assert venv.installed() == before == {"base": "1.0"}

    exempt = write_policy(POLICY + 'exempt = ["copyleft"]\n', "exempt.toml")
    assert install(venv, "base==2.0", "copyleft", policy=exempt).returncode == 0
    assert venv.installed() == {"base": "2.0", "copyleft": "1.0"}


@pytest.mark.parametrize(
    ("expression", "refused"),
    [
        ("MIT OR GPL-3.0-only", None),  # a choice: one allowed alternative is enough
        ("gpl-3.0-only or apache-2.0", None),
        ("MIT AND BSD-3-Clause", None),
        ("(MIT OR GPL-2.0-only) AND Apache-2.0", None),
        ("MIT AND GPL-3.0-only", "GPL-3.0-only"),  # both apply: both must be allowed
        ("(MIT AND LGPL-2.1-only) OR GPL-2.0-only", "LGPL-2.1-only, GPL-2.0-only"),
        ("Apache-2.0 WITH LLVM-exception", None),  # an exception only grants more
        ("GPL-2.0-only WITH Classpath-exception-2.0", "GPL-2.0-only WITH"),
    ],
)
def test_spdx_or_needs_one_allowed_and_needs_all(
    *,
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    install: Install,
    write_policy: Callable[..., Path],
    expression: str,
    refused: str | None,
) -> None:
    roost_index.add(make_wheel("licensed", "1.0", license_expression=expression))
    venv = roost_venv()

    result = install(venv, "licensed", policy=write_policy(POLICY))

    if refused is None:
        assert result.returncode == 0, result.stderr
        assert venv.installed() == {"licensed": "1.0"}
    else:
        assert result.returncode == 1
        assert f"and {refused}" in result.stderr
        assert venv.installed() == {}


def test_the_license_field_and_classifiers_are_read_when_there_is_no_expression(
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    install: Install,
    write_policy: Callable[..., Path],
) -> None:
    osi = "License :: OSI Approved :: "
    roost_index.add(make_wheel("old-mit", "1.0", license="MIT License"))
    roost_index.add(make_wheel("old-bsd", "1.0", license="BSD-3-Clause"))
    roost_index.add(
        make_wheel("by-classifier", "1.0", classifier=[f"{osi}Apache Software License"])
    )
    roost_index.add(
        make_wheel("old-gpl", "1.0", classifier=[f"{osi}GNU General Public License v3 (GPLv3)"])
    )
    policy = write_policy(POLICY)
    venv = roost_venv()

    assert install(venv, "old-mit", "old-bsd", "by-classifier", policy=policy).returncode == 0
    result = install(venv, "old-gpl", policy=policy)

    assert result.returncode == 1
    assert "old-gpl 1.0 is licensed GPL-3.0-only (from classifiers)" in result.stderr
    assert venv.installed() == {"by-classifier": "1.0", "old-bsd": "1.0", "old-mit": "1.0"}


def test_an_unreadable_licence_is_refused_or_warned_about_as_the_policy_says(
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    install: Install,
    write_policy: Callable[..., Path],
) -> None:
    roost_index.add(
        make_wheel("vague", "1.0", classifier=["License :: OSI Approved :: BSD License"])
    )
    roost_index.add(make_wheel("silent", "1.0"))
    venv = roost_venv()

    refused = install(venv, "vague", "silent", policy=write_policy(POLICY))

    assert refused.returncode == 1
    assert (
        "policy: vague 1.0: its licence cannot be checked (the classifier "
        "'License :: OSI Approved :: BSD License' names no single SPDX licence), and "
        '[licenses] unknown = "refuse"'
    ) in refused.stderr
    assert (
        "policy: silent 1.0: its licence cannot be checked (no License-Expression, License "
        "or License classifier)"
    ) in refused.stderr
    assert venv.installed() == {}

    warn = write_policy(POLICY + 'unknown = "warn"\n', "warn.toml")
    warned = install(venv, "vague", "silent", policy=warn)

    assert warned.returncode == 0, warned.stderr
    assert "WARNING: vague 1.0: its licence cannot be checked" in warned.stderr
    assert f'let through, as [licenses] unknown = "warn" in {warn}' in warned.stderr
    assert venv.installed() == {"silent": "1.0", "vague": "1.0"}


def test_a_choice_of_classifiers_with_a_vague_one_passes_only_on_a_readable_one(
    make_wheel: WheelMaker,
    roost_index: IndexServer,
    roost_venv: VenvMaker,
    install: Install,
    write_policy: Callable[..., Path],
) -> None:
    osi = "License :: OSI Approved :: "
    bsd = f"{osi}BSD License"
    roost_index.add(make_wheel("dual", "1.0", classifier=[f"{osi}MIT License", bsd]))
    gpl = f"{osi}GNU General Public License v3 (GPLv3)"
    roost_index.add(make_wheel("unsure", "1.0", classifier=[gpl, bsd]))
    policy = write_policy(POLICY)
    venv = roost_venv()

    # MIT is allowed, so what the BSD classifier means does not matter.
    assert install(venv, "dual", policy=policy).returncode == 0
    # GPL-3.0-only is not, and the BSD one might or might not be: unknown, not refused.
    result = install(venv, "unsure", policy=policy)
    assert result.returncode == 1
    assert f"unsure 1.0: its licence cannot be checked (the classifier '{bsd}'" in result.stderr
    assert venv.installed() == {"dual": "1.0"}
