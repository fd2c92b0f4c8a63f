"""Build wheels and prepare metadata with the project's PEP 517 backend, via pyproject-hooks.

The default implementation of ``roost_build_wheel`` and ``roost_prepare_metadata``
(``trylast``, so a third-party plugin, say a remote build service or a sandbox, can
answer first). It reads ``[build-system]`` as pip does (no table: setuptools with
its legacy backend), asks the build environment to install ``build-system.requires``
and what the backend's ``get_requires_for_build_*`` hook adds, and runs each hook in
a subprocess of the environment's interpreter with its output captured. On Linux with
Landlock each hook may write only beneath the build's own folders
(:mod:`roost.plugins.build_sandbox`).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roost.errors import BuildError, RoostError
from roost.hookspecs import hookimpl
from roost.plugins.build_sandbox import (
    Sandbox,
    describe,
    for_request,
    refusal_note,
    sandbox_mode,
    unavailable_notice,
)
from roost.types import BuildRequest, BuildResult

#: pip's defaults for a project without ``[build-system]`` (PEP 518).
LEGACY_REQUIRES = ("setuptools>=40.8.0",)
LEGACY_BACKEND = "setuptools.build_meta:__legacy__"
#: Lines of a failed hook's output shown without ``-v``.
TAIL_LINES = 25
#: The most output kept from one hook (a C build can print megabytes).
KEPT_OUTPUT = 256 * 1024
#: Variables that would let the build see more than its environment holds.
_LEAKY = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE")


@dataclass(frozen=True)
class BuildSystem:
    """A project's ``[build-system]``, with pip's defaults filled in."""

    requires: tuple[str, ...]
    backend: str
    backend_path: tuple[str, ...] | None


def _load_toml(path: Path, shown: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - roost runs on 3.10 too
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BuildError(f"{shown}: pyproject.toml could not be read: {exc}") from None
    return data


def build_system(source_dir: str, shown: str) -> BuildSystem:
    """``[build-system]`` of the project in *source_dir*, as pip reads it."""
    root = Path(source_dir)
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        if not (root / "setup.py").is_file():
            raise BuildError(
                f"{shown} does not appear to be a Python project: neither 'setup.py' nor "
                "'pyproject.toml' found."
            )
        return BuildSystem(LEGACY_REQUIRES, LEGACY_BACKEND, None)
    table = _load_toml(pyproject, shown).get("build-system")
    if table is None:
        return BuildSystem(LEGACY_REQUIRES, LEGACY_BACKEND, None)
    if not isinstance(table, dict) or "requires" not in table:
        raise BuildError(
            f"{shown} has an invalid pyproject.toml: the [build-system] table has no "
            "'requires' key (PEP 518 makes it mandatory)."
        )
    requires = table["requires"]
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise BuildError(
            f"{shown} has an invalid pyproject.toml: build-system.requires must be a list "
            "of strings."
        )
    backend = table.get("build-backend") or LEGACY_BACKEND
    path = table.get("backend-path")
    if path is not None and (
        not isinstance(path, list) or not all(isinstance(p, str) for p in path)
    ):
        raise BuildError(f"{shown}: build-system.backend-path must be a list of strings.")
    return BuildSystem(tuple(requires), str(backend), None if path is None else tuple(path))


class _Runner:
    """Runs one hook subprocess: the build environment's variables, output kept, time bound."""

    def __init__(self, request: BuildRequest, backend: str, sandbox: Sandbox | None) -> None:
        self.request = request
        self.backend = backend
        self.sandbox = sandbox
        self.output = ""
        self.hook = ""

    def __call__(
        self,
        cmd: Sequence[str],
        cwd: str | None = None,
        extra_environ: Mapping[str, str] | None = None,
    ) -> None:
        environment = self.request.environment
        env = dict(os.environ)
        if environment.isolated:
            for name in _LEAKY:
                env.pop(name, None)
        env.update(environment.environ())
        env.update(extra_environ or {})
        with contextlib.ExitStack() as stack:
            command, sink_dir = list(cmd), None
            if self.sandbox is not None:
                call = stack.enter_context(self.sandbox.hook(cmd, env))
                command, env, sink_dir = call.command, call.environ, str(call.tmpdir)
            # Output goes to a file, not a pipe: a chatty compiler cannot fill a pipe
            # buffer and stall, and only the end of it is kept in memory. In the sandbox
            # the file lies in the backend's own folder, so a tool that opens
            # /dev/stdout by name may write it.
            sink = stack.enter_context(tempfile.TemporaryFile(dir=sink_dir))
            try:
                proc = subprocess.run(
                    command,
                    cwd=cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    timeout=self.request.timeout,
                    check=False,
                )
                returncode: int | None = proc.returncode
            except subprocess.TimeoutExpired:
                returncode = None
            except OSError as exc:
                raise BuildError(
                    f"building {self._shown()} failed: could not run {cmd[0]}: {exc}"
                ) from None
            size = sink.seek(0, os.SEEK_END)
            sink.seek(max(0, size - KEPT_OUTPUT))
            self.output = sink.read().decode("utf-8", "replace")
        if returncode == 0:
            return
        if returncode is None:
            what = f"did not finish within {self.request.timeout:.0f} seconds"
        else:
            what = f"exited with status {returncode}"
        raise BuildError(self.failure(what))

    def _shown(self) -> str:
        return self.request.display or self.request.source_dir

    def failure(self, what: str) -> str:
        lines = self.output.rstrip().splitlines()[-TAIL_LINES:]
        tail = "\n".join(f"  {line}" for line in lines) or "  (no output)"
        hook = f"the {self.hook} hook of " if self.hook else ""
        message = (
            f"building {self._shown()} failed: {hook}the backend {self.backend!r} {what}.\n"
            f"The last lines of its output:\n{tail}\n"
            "(run with -v to see all of it)"
        )
        refused = self.sandbox.refused(self.output) if self.sandbox is not None else []
        return message + ("\n" + refusal_note(refused) if refused else "")

    def verbose_output(self) -> str:
        """The hook's output for ``-v``, after a line about the sandbox."""
        note: str | None
        if self.sandbox is not None:
            note = describe(self.sandbox)
        else:
            note = unavailable_notice() if sandbox_mode(self.request) == "auto" else None
        return f"{note}\n{self.output}" if note else self.output


def _caller(request: BuildRequest, system: BuildSystem) -> tuple[Any, _Runner]:
    from pyproject_hooks import BuildBackendHookCaller

    runner = _Runner(request, system.backend, for_request(request))
    caller = BuildBackendHookCaller(
        request.source_dir,
        system.backend,
        backend_path=list(system.backend_path) if system.backend_path is not None else None,
        runner=runner,
        python_executable=request.environment.python,
    )
    return caller, runner


def _settings(request: BuildRequest) -> dict[str, str | list[str]]:
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in request.config_settings.items()
    }


def _prepared(request: BuildRequest) -> tuple[Any, _Runner, BuildSystem]:
    """A hook caller whose environment holds the backend and what it asks for."""
    from pyproject_hooks import BackendUnavailable

    shown = request.display or request.source_dir
    system = build_system(request.source_dir, shown)
    _install(request, system.requires, "build-system.requires")
    caller, runner = _caller(request, system)
    runner.hook = f"get_requires_for_build_{request.kind}"
    getter = (
        caller.get_requires_for_build_editable
        if request.kind == "editable"
        else caller.get_requires_for_build_wheel
    )
    try:
        extra = getter(_settings(request))
    except BackendUnavailable as exc:
        raise BuildError(_unavailable(shown, system, exc)) from None
    if extra:
        _install(request, list(extra), f"what the backend's {runner.hook} hook asked for")
    return caller, runner, system


def _install(request: BuildRequest, requirements: Sequence[str], why: str) -> None:
    try:
        request.environment.install(requirements, why)
    except BuildError:
        raise
    except RoostError as exc:
        # Say whose build needed it: the nested install's own words name no project.
        shown = request.display or request.source_dir
        raise BuildError(
            f"building {shown} failed: its {why} ({', '.join(requirements)}) could not be "
            f"installed into the build environment: {exc.message}"
        ) from None


def _unavailable(shown: str, system: BuildSystem, exc: Exception) -> str:
    detail = str(getattr(exc, "message", "") or "").strip().splitlines()[-1:] or [""]
    return (
        f"building {shown} failed: cannot import the build backend {system.backend!r}"
        f"{': ' + detail[0] if detail[0] else ''}. Is it in build-system.requires "
        "(or installed, with --no-build-isolation)?"
    )


@hookimpl(trylast=True)
def roost_build_wheel(request: BuildRequest) -> BuildResult:
    from pyproject_hooks import BackendUnavailable, HookMissing

    shown = request.display or request.source_dir
    caller, runner, system = _prepared(request)
    runner.hook = f"build_{request.kind}"
    try:
        if request.kind == "editable":
            name = caller.build_editable(request.output_dir, _settings(request))
        else:
            name = caller.build_wheel(request.output_dir, _settings(request))
    except HookMissing:
        raise BuildError(
            f"{shown} cannot be installed in editable mode: its build backend "
            f"{system.backend!r} has no 'build_editable' hook (PEP 660). Install it "
            "without -e, or use a backend that supports editables."
        ) from None
    except BackendUnavailable as exc:
        raise BuildError(_unavailable(shown, system, exc)) from None
    return BuildResult(
        os.path.join(request.output_dir, name), system.backend, runner.verbose_output()
    )


@hookimpl(trylast=True)
def roost_prepare_metadata(request: BuildRequest) -> BuildResult | None:
    from pyproject_hooks import BackendUnavailable, HookMissing

    shown = request.display or request.source_dir
    caller, runner, system = _prepared(request)
    runner.hook = f"prepare_metadata_for_build_{request.kind}"
    prepare = (
        caller.prepare_metadata_for_build_editable
        if request.kind == "editable"
        else caller.prepare_metadata_for_build_wheel
    )
    try:
        name = prepare(request.output_dir, _settings(request), _allow_fallback=False)
    except HookMissing:
        return None  # roost builds the wheel and reads its metadata instead
    except BackendUnavailable as exc:
        raise BuildError(_unavailable(shown, system, exc)) from None
    return BuildResult(os.path.join(request.output_dir, name), system.backend, runner.output)
