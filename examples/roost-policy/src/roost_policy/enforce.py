"""A policy applied: the candidates it takes away, and the plan entries it refuses.

Every reason names the rule and the policy file, so a user who hits one knows which
line to read and whom to ask. Release age works per file (each file of a version has
its own upload time); deny and allow work per version. Deny and allow are checked again
on the plan, for distributions named by path or URL, which no index lists and so no
candidate filter sees; release age cannot be (such files have no upload time).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from roost.policy_types import CandidateInfo, Exclusion, Plan
from roost.types import Refusal
from roost_policy.durations import describe
from roost_policy.licenses import declared_license
from roost_policy.policy import LicenseRules, Policy, ReleaseAge
from roost_policy.spdx import ExpressionError, evaluate

PLUGIN = "policy"


def exclusions(
    policy: Policy,
    project: str,
    candidates: Sequence[CandidateInfo],
    now: datetime.datetime,
) -> list[Exclusion]:
    """What *policy* takes away of *project*'s *candidates*, with reasons."""
    name = str(canonicalize_name(project))
    found: list[Exclusion] = []
    refused_versions: set[str] = set()
    for version in dict.fromkeys(candidate.version for candidate in candidates):
        reason = version_problem(policy, name, version)
        if reason is not None:
            refused_versions.add(version)
            found.append(Exclusion(version=version, reason=reason, plugin=PLUGIN))
    age = policy.release_age
    if age is not None and name not in age.exempt:
        for candidate in candidates:
            if candidate.version in refused_versions:
                continue  # already out, and said once
            reason = _age_problem(policy, age, candidate, now)
            if reason is not None:
                found.append(
                    Exclusion(
                        version=candidate.version,
                        filename=candidate.filename,
                        reason=reason,
                        plugin=PLUGIN,
                    )
                )
    return found


def version_problem(policy: Policy, name: str, version: str) -> str | None:
    """Why the deny or allow rules keep *name* *version* out, or None."""
    where = policy.path
    for rule in policy.deny:
        if rule.project == name and rule.matches(version):
            return f"denied by [[deny]] {rule.display} in {where}: {rule.reason}"
    if policy.allow is None:
        return None
    listed = [rule for rule in policy.allow if rule.project == name]
    if not listed:
        return f"{name} is not on the allow-list ([[allow]] in {where})"
    if any(rule.matches(version) for rule in listed):
        return None
    ranges = " or ".join(str(rule.versions) for rule in listed)
    return f"the allow-list admits {name} {ranges} only ([[allow]] in {where})"


def _age_problem(
    policy: Policy, age: ReleaseAge, candidate: CandidateInfo, now: datetime.datetime
) -> str | None:
    minimum = describe(age.minimum)
    where = f"([release-age] minimum = {age.minimum_text!r} in {policy.path})"
    uploaded = candidate.upload_time
    if uploaded is None:
        return (
            "its index gives no upload time (PEP 700), so its age cannot be checked "
            f"against the minimum release age of {minimum} {where}; list "
            f"{candidate.name} in [release-age] exempt, or use an index that gives "
            "upload times"
        )
    old = now - uploaded
    if old >= age.minimum:
        return None
    stamp = uploaded.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    when = "in the future" if old.total_seconds() < 0 else f"{describe(old)} ago"
    return f"uploaded {stamp}, {when}, and the minimum release age is {minimum} {where}"


@dataclass(frozen=True)
class PlanVerdict:
    """What the plan check says: refusals stop the install, warnings are only shown."""

    refusals: tuple[Refusal, ...] = ()
    warnings: tuple[str, ...] = ()


def check_plan(policy: Policy, plan: Plan) -> PlanVerdict:
    """The refusals (and warnings) *policy* has for an install *plan*."""
    refusals: list[Refusal] = []
    warnings: list[str] = []
    for entry in plan.entries:
        if entry.action == "remove":
            continue
        name = str(canonicalize_name(entry.name))
        problem = version_problem(policy, name, entry.version)
        if problem is not None:
            refusals.append(Refusal(PLUGIN, f"{entry.name} {entry.version}: {problem}"))
            continue
        if policy.licenses is not None and name not in policy.licenses.exempt:
            refusal, warning = _license_problem(
                policy, policy.licenses, entry.name, entry.version, entry.metadata
            )
            if refusal is not None:
                refusals.append(refusal)
            if warning is not None:
                warnings.append(warning)
    return PlanVerdict(tuple(refusals), tuple(warnings))


def _license_problem(
    policy: Policy, rules: LicenseRules, name: str, version: str, metadata: str
) -> tuple[Refusal | None, str | None]:
    """A refusal or a warning for one distribution's licence (both None: allowed)."""
    declared = declared_license(metadata)
    problem = declared.problem
    if declared.expression is not None:
        try:
            verdict = evaluate(declared.expression, rules.allowed)
        except ExpressionError as exc:  # canonical text always parses: only a guard
            problem = f"{declared.source} {declared.expression!r} cannot be read ({exc})"
        else:
            if verdict.allowed:
                return None, None
            if not problem:
                allowed = ", ".join(rules.allowed) or "none"
                reason = (
                    f"{name} {version} is licensed {declared.expression} (from "
                    f"{declared.source}), and {', '.join(verdict.refused)} is not among "
                    f"the licences [licenses] allowed ({allowed}) in {policy.path}"
                )
                remedy = f"if {name} may be used anyway, list it in [licenses] exempt"
                return Refusal(PLUGIN, reason, (remedy,)), None
            # Some alternatives could not be read: one of them might be allowed.
    if rules.unknown == "warn":
        return None, (
            f"{name} {version}: its licence cannot be checked ({problem}); let through, "
            f'as [licenses] unknown = "warn" in {policy.path}'
        )
    reason = (
        f"{name} {version}: its licence cannot be checked ({problem}), and "
        f'[licenses] unknown = "refuse" in {policy.path}'
    )
    remedies = (
        f"check its licence by hand, then list {name} in [licenses] exempt",
        'or set [licenses] unknown = "warn" to install such distributions with a warning',
    )
    return Refusal(PLUGIN, reason, remedies), None
