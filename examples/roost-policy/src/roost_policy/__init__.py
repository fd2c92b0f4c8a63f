"""roost-policy: a TOML policy (minimum release age, deny and allow lists, allowed
licences) that roost enforces while it resolves and before it installs.

The hooks:

- ``roost_add_options``: ``--policy FILE`` for install, download and wheel.
- ``roost_check_install``: reads the policy before roost looks anything up, so a
  broken policy stops the install at once.
- ``roost_filter_candidates``: release age, deny and allow take files away; roost
  picks among the rest, and says what was excluded and why when nothing is left.
- ``roost_check_plan``: licences (and deny and allow, for files named by path or
  URL) refuse the install before anything is written.

Without a policy file every hook does nothing. See README.md for the file's format.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import click

from roost import hookimpl
from roost.policy_types import CandidateInfo, Exclusion, Plan
from roost.types import NormalizedName, Options, Refusal
from roost_policy.enforce import check_plan, exclusions
from roost_policy.locate import policy_for

__version__ = "1.0"

#: The commands that resolve, and so consult the policy.
COMMANDS = frozenset({"install", "download", "wheel"})


@hookimpl
def roost_add_options(command: str) -> list[click.Option]:
    """``--policy FILE``; its setting is ``policy-file`` (``ROOST_POLICY_FILE``)."""
    if command not in COMMANDS:
        return []
    return [
        click.Option(
            # --policy-file first and longest: roost names the option's setting after
            # it (policy-file, ROOST_POLICY_FILE).
            ["--policy-file", "--policy", "policy_file"],
            metavar="FILE",
            help="Enforce this roost-policy file (default: $ROOST_POLICY_FILE, else "
            "roost-policy.toml in the current directory, if there is one).",
        )
    ]


@hookimpl
def roost_check_install(options: Options) -> list[Refusal]:
    """Read the policy early: a broken one stops the install before any look-up."""
    if options.command == "install":
        policy_for(options)
    return []


@hookimpl
def roost_filter_candidates(
    project: NormalizedName, candidates: Sequence[CandidateInfo], options: Options
) -> list[Exclusion] | None:
    """Release age, deny and allow, per project, before the resolver sees its files."""
    policy = policy_for(options)
    if policy is None or not policy.filters:
        return None
    now = datetime.datetime.now(datetime.timezone.utc)
    return exclusions(policy, project, candidates, now)


@hookimpl
def roost_check_plan(plan: Plan, options: Options) -> list[Refusal]:
    """Licences, deny and allow on what an install is about to write."""
    if plan.command != "install":
        return []  # removing something never breaks a policy
    policy = policy_for(options)
    if policy is None:
        return []
    verdict = check_plan(policy, plan)
    for warning in verdict.warnings:
        # Names and licence text come from metadata: no terminal escapes get through.
        shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in warning)
        click.echo(f"WARNING: {shown}", err=True)
    return list(verdict.refusals)
