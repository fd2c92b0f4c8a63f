"""``roost debug``: the target's facts as roost sees them, for bug reports.

The lines pip's ``debug`` prints (with the target's values: roost may run from another
Python than the one it installs into), then what roost adds: where the target's
files go, its marker environment, and the wheel tags it accepts, best first. ``-v``
shows every tag; otherwise the first ten and the count, as pip does. The
``--platform``, ``--python-version``, ``--implementation`` and ``--abi`` options of
``download`` show the tags roost would use for that other machine.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import click

from roost.cli.options import python_option

if TYPE_CHECKING:
    from roost.types import Settings, Target

#: Tags shown without ``-v``.
TAG_LIMIT = 10
#: The target's own answers that the introspection cache does not keep.
_PROBE = """\
import json, locale, sys
try:
    encoding = locale.getencoding()
except AttributeError:
    encoding = locale.getpreferredencoding(False)
print(json.dumps({
    "sys.version": sys.version,
    "sys.executable": sys.executable,
    "sys.getdefaultencoding": sys.getdefaultencoding(),
    "sys.getfilesystemencoding": sys.getfilesystemencoding(),
    "locale.getencoding": encoding,
    "sys.platform": sys.platform,
    "sys.implementation.name": sys.implementation.name,
}))
"""
CAVEAT = (
    "roost debug is for reading, not for scripts: what it prints, and its options, "
    "may change in any release."
)


def target_answers(executable: str) -> dict[str, str]:
    """What the target interpreter says of itself; each missing answer says why."""
    import subprocess

    keys = (
        "sys.version",
        "sys.executable",
        "sys.getdefaultencoding",
        "sys.getfilesystemencoding",
        "locale.getencoding",
        "sys.platform",
        "sys.implementation.name",
    )
    try:
        # -S: nothing of the target's site-packages (.pth files) runs for this.
        done = subprocess.run(
            [executable, "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        answer = json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        answer, reason = None, str(exc)
    else:
        reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
    if not isinstance(answer, dict):
        return {key: f"(unknown: {reason})" for key in keys}
    return {key: str(answer.get(key)) for key in keys}


def _setting_line(settings: Settings, key: str) -> str:
    found = settings.lookup(key)
    if found is None:
        return "Not specified"
    value, layer = found
    text = value if isinstance(value, str) else " ".join(value)
    return f"{text} (from {layer.name})"


def _target_description(params: dict[str, Any]) -> str:
    given = [
        ("python_version", params.get("python_version")),
        ("platforms", ",".join(params.get("platforms") or ())),
        ("implementation", params.get("implementation")),
        ("abis", ",".join(params.get("abis") or ())),
    ]
    return " ".join(f"{name}={value}" for name, value in given if value)


def report_lines(
    target: Target, base: Target, settings: Settings, params: dict[str, Any], *, verbose: bool
) -> list[str]:
    """Every line ``roost debug`` prints to stdout."""
    from roost.cli.commands.help import version_line
    from roost.types import redact_text

    answers = target_answers(base.executable)
    lines = [f"roost version: {version_line()}"]
    lines += [
        f"{key}: {answers[key]}"
        for key in (
            "sys.version",
            "sys.executable",
            "sys.getdefaultencoding",
            "sys.getfilesystemencoding",
            "locale.getencoding",
            "sys.platform",
        )
    ]
    lines += ["sys.implementation:", f"  name: {answers['sys.implementation.name']}"]
    lines.append(f"'cert' config value: {redact_text(_setting_line(settings, 'cert'))}")
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        lines.append(f"{variable}: {os.environ.get(variable)}")
    lines += [
        "target:",
        f"  prefix: {base.prefix}",
        f"  base prefix: {base.base_prefix}",
        f"  virtual environment: {'yes' if base.is_venv else 'no'}",
        f"  user site: {base.user_site if base.user_site_enabled else '(disabled)'}",
        f"  purelib: {base.default_scheme.purelib}",
        f"  scripts: {base.default_scheme.scripts}",
        f"  externally managed: {base.externally_managed or 'no'}",
        "markers:",
    ]
    lines += [f"  {name}: {value}" for name, value in sorted(target.markers.items())]
    tags = list(target.tags)
    given = _target_description(params)
    suffix = f" (target: {given})" if given else ""
    lines.append(f"Compatible tags: {len(tags)}{suffix}")
    shown = tags if verbose or len(tags) <= TAG_LIMIT else tags[:TAG_LIMIT]
    lines += [f"  {tag}" for tag in shown]
    if len(shown) < len(tags):
        lines += ["  ...", f"[First {TAG_LIMIT} tags shown. Pass -v to show all.]"]
    return lines


def debug_command() -> click.Command:
    @click.command("debug")
    @click.option(
        "--platform",
        "platforms",
        multiple=True,
        metavar="PLATFORM",
        help="Show the tags for this platform (repeatable), e.g. manylinux2014_x86_64.",
    )
    @click.option(
        "--python-version", metavar="VERSION", help="... for this Python: 3.12, 312 or 3.12.1."
    )
    @click.option("--implementation", metavar="IMPL", help="... for cp, pp, ip, jy or py.")
    @click.option("--abi", "abis", multiple=True, metavar="ABI", help="... for this ABI tag.")
    @python_option
    @click.pass_context
    def debug(ctx: click.Context, /, **_: Any) -> None:
        """Show the target's facts, markers and compatible wheel tags (-v: every tag).
        For people reading it: the format may change."""
        from roost.cli.invocation import invocation
        from roost.flows.environment import load_context
        from roost.target.foreign import foreign_target
        from roost.util.output import Output

        out = ctx.find_object(Output) or Output()
        out.warning(CAVEAT)
        context = load_context(invocation(ctx, "debug"))
        params = context.params
        target = foreign_target(
            context.target,
            platforms=params.get("platforms") or (),
            python_version=params.get("python_version"),
            implementation=params.get("implementation"),
            abis=params.get("abis") or (),
        )
        for line in report_lines(
            target, context.target, context.settings, params, verbose=out.verbose > 0
        ):
            click.echo(line)

    return debug
