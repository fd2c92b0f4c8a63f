"""roost's main job, end to end: a `--user` install from the configured package index.

The multi-stage story in one script: a "build stage" installs flask with
`roost install --user` into a fresh user base, the base is copied somewhere else
(as `COPY --from=build /home/app/.local /home/app/.local` would), and the
"runtime stage" imports flask and runs its console script from the copy.

The index comes from your configuration, as roost always takes it: `--index-url`,
`ROOST_INDEX_URL`, roost's config file, or pip's configuration. Nothing outside a
temporary folder is changed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGES = sys.argv[1:] or ["flask"]


def base_python() -> str:
    """The interpreter this venv was made from: a real, non-venv Python for --user."""
    for name in ("python3", "python"):
        candidate = Path(sys.base_prefix) / "bin" / name
        if candidate.exists():
            return str(candidate)
    raise SystemExit(f"no interpreter under {sys.base_prefix}")


def run(cmd: list[str], env: dict[str, str]) -> str:
    print("$", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, env=env, text=True, capture_output=True, check=False)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"demo failed: {cmd[0]} exited {done.returncode}")
    return done.stdout


def main() -> None:
    python = base_python()
    roost = [sys.executable, "-m", "roost"]
    with tempfile.TemporaryDirectory(prefix="roost-demo-") as tmp:
        build_base = Path(tmp) / "build" / ".local"
        env = {**os.environ, "PYTHONUSERBASE": str(build_base)}
        env.pop("VIRTUAL_ENV", None)
        print(f"== build stage: roost install --user into {build_base}")
        # --ignore-installed: the base Python may ship some of these already; a build
        # stage wants its own copy in the user base, which is what gets copied.
        run(
            [
                *roost,
                "-v",
                "install",
                "--user",
                "--ignore-installed",
                "--python",
                python,
                *PACKAGES,
            ],
            env,
        )
        run([*roost, "plugins"], env)

        runtime_base = Path(tmp) / "runtime" / ".local"
        print(f"== COPY {build_base} -> {runtime_base}")
        shutil.copytree(build_base, runtime_base, symlinks=True)
        runtime = {**env, "PYTHONUSERBASE": str(runtime_base)}
        print("== runtime stage")
        module = PACKAGES[0].replace("-", "_")
        where = run([python, "-c", f"import {module}; print({module}.__file__)"], runtime)
        if not where.startswith(str(runtime_base)):
            raise SystemExit(f"demo failed: {module} was imported from {where.strip()}")
        script = runtime_base / "bin" / PACKAGES[0]
        if script.exists():
            # Executed directly, no shell: the shebang must name the target interpreter.
            run([str(script), "--version"], runtime)
        print("demo: OK")


if __name__ == "__main__":
    main()
