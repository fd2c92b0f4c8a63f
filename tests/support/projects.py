"""Real source projects for build tests: pyproject and setup.py projects for real
backends, an in-tree backend, sdists made from them, and git repositories."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import textwrap
from pathlib import Path

from tests.support.index import PackageIndex

#: The backends the build tests use, as ``build-system`` tables.
SETUPTOOLS = (
    '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n'
)
HATCHLING = '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
FLIT = '[build-system]\nrequires = ["flit_core>=3.4"]\nbuild-backend = "flit_core.buildapi"\n'


def pyproject_project(
    root: Path,
    name: str,
    version: str = "1.0",
    *,
    build_system: str = SETUPTOOLS,
    dependencies: tuple[str, ...] = (),
    extras: dict[str, list[str]] | None = None,
    script: bool = True,
    layout: str = "src",
) -> Path:
    """A project with a ``[project]`` table; its module prints a greeting from main()."""
    module = name.replace("-", "_")
    root.mkdir(parents=True, exist_ok=True)
    lines = [
        build_system,
        "[project]",
        f'name = "{name}"',
        f'version = "{version}"',
        f'description = "A {name} for the build tests"',
        f"dependencies = {list(dependencies)!r}".replace("'", '"'),
    ]
    if extras:
        lines.append("[project.optional-dependencies]")
        lines += [f"{key} = {value!r}".replace("'", '"') for key, value in extras.items()]
    if script:
        lines += ["[project.scripts]", f'{name}-tool = "{module}:main"']
    (root / "pyproject.toml").write_text("\n".join(lines) + "\n")
    package = root / "src" / module if layout == "src" else root / module
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(
        f'"""{name}."""\n\nGREETING = "hello from {name} {version}"\n\n\n'
        "def main():\n    print(GREETING)\n"
    )
    return root


def setup_py_project(root: Path, name: str, version: str = "1.0") -> Path:
    """A project with only a setup.py (pip's legacy path: setuptools' __legacy__ backend)."""
    module = name.replace("-", "_")
    root.mkdir(parents=True, exist_ok=True)
    (root / "setup.py").write_text(
        textwrap.dedent(
            f"""\
            from setuptools import setup
            setup(name={name!r}, version={version!r}, py_modules=[{module!r}])
            """
        )
    )
    (root / f"{module}.py").write_text(f'GREETING = "hello from {name} {version}"\n')
    return root


#: A PEP 517 backend small enough to read: a pure-Python wheel of ``<module>.py``,
#: with the config settings it was given written into the module, and a failure on
#: demand (``fail`` in config settings).
IN_TREE_BACKEND = """
import base64, hashlib, json, os, zipfile

NAME, VERSION = "{name}", "{version}"

def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{{path}},sha256={{digest}},{{len(data)}}"

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    log = os.environ.get("INTREE_BUILD_LOG")
    if log:
        with open(log, "a") as handle:
            handle.write(NAME + "\\n")
    if config_settings and "fail" in config_settings:
        print("backend: about to fail as asked")
        raise SystemExit(3)
    tag = "py3-none-any"
    dist = f"{{NAME}}-{{VERSION}}"
    files = {{
        f"{{NAME}}.py": ("SETTINGS = " + json.dumps(config_settings or {{}}) + "\\n").encode(),
        f"{{dist}}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\\nName: {{NAME}}\\nVersion: {{VERSION}}\\n"
        ).encode(),
        f"{{dist}}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\\nGenerator: intree\\nRoot-Is-Purelib: true\\n"
            f"Tag: {{tag}}\\n"
        ).encode(),
    }}
    name = f"{{dist}}-{{tag}}.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        record = []
        for path, data in files.items():
            zf.writestr(path, data)
            record.append(_record_line(path, data))
        record.append(f"{{dist}}.dist-info/RECORD,,")
        zf.writestr(f"{{dist}}.dist-info/RECORD", "\\n".join(record) + "\\n")
    return name
"""


def in_tree_project(root: Path, name: str = "intree", version: str = "1.0") -> Path:
    """A project whose backend lives in the tree (``backend-path``): no downloads at all."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    (root / "backend.py").write_text(IN_TREE_BACKEND.format(name=name, version=version))
    return root


def make_sdist(project: Path, dest: Path, name: str, version: str) -> Path:
    """``<name>-<version>.tar.gz`` of *project* under one top-level folder, as sdists are."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / f"{name.replace('-', '_')}-{version}.tar.gz"
    top = f"{name.replace('-', '_')}-{version}"
    with tarfile.open(archive, "w:gz") as tf:
        for path in sorted(project.rglob("*")):
            if "build" in path.relative_to(project).parts or path.suffix == ".pyc":
                continue
            tf.add(path, arcname=f"{top}/{path.relative_to(project)}", recursive=False)
    return archive


def evil_sdist(dest: Path) -> Path:
    """A tar.gz whose member climbs out of the folder it is unpacked into."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / "evil-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        data = b"owned = True\n"
        info = tarfile.TarInfo("evil-1.0/../../escaped.py")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return archive


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "roost tests",
        "GIT_AUTHOR_EMAIL": "tests@roost.invalid",
        "GIT_COMMITTER_NAME": "roost tests",
        "GIT_COMMITTER_EMAIL": "tests@roost.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    out = subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def git_repository(root: Path) -> Path:
    """A repository holding in-tree projects: v1.0 tagged, then a 2.0 commit on main."""
    in_tree_project(root, "gitproj", "1.0")
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "gitproj 1.0")
    git(root, "tag", "v1.0")
    in_tree_project(root, "gitproj", "2.0")
    in_tree_project(root / "sub", "subproj", "0.5")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "gitproj 2.0, subproj 0.5")
    return root


#: poetry-core and pdm-backend, both reading the ``[project]`` table (PEP 621).
POETRY = (
    '[build-system]\nrequires = ["poetry-core>=2.0"]\nbuild-backend = "poetry.core.masonry.api"\n'
)
PDM = '[build-system]\nrequires = ["pdm-backend"]\nbuild-backend = "pdm.backend"\n'

#: One C function, ``add(a, b)``, for the compiled-extension build test.
C_SOURCE = """
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *add(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b))
        return NULL;
    return PyLong_FromLong(a + b);
}

static PyMethodDef methods[] = {
    {"add", add, METH_VARARGS, "Add two integers in C."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
"""


def c_extension_project(root: Path, name: str = "cext", version: str = "1.0") -> Path:
    """A setuptools project whose package holds ``_speedups``, compiled from C."""
    module = name.replace("-", "_")
    pyproject_project(root, name, version)
    (root / "src" / module / "_speedups.c").write_text(C_SOURCE)
    (root / "setup.py").write_text(
        textwrap.dedent(
            f"""\
            from setuptools import Extension, setup
            setup(ext_modules=[Extension(
                "{module}._speedups", ["src/{module}/_speedups.c"]
            )])
            """
        )
    )
    return root


def git_of(project: Path, tag: str) -> Path:
    """*project* made a git repository of one commit, tagged *tag*."""
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", ".")
    git(project, "commit", "--quiet", "-m", f"{project.name} {tag}")
    git(project, "tag", tag)
    return project


#: The project of :func:`linked_sdist`: modules ``linked``, and ``alias`` and ``copy_of``
#: when the archive's links provide them.
LINKED_PROJECT = {
    "pyproject.toml": SETUPTOOLS
    + '[project]\nname = "linked"\nversion = "1.0"\n'
    + '[tool.setuptools]\npy-modules = ["linked", "alias", "copy_of"]\n',
    "linked.py": "VALUE = 'linked'\n",
}


def linked_sdist(
    dest: Path, *, symlinks: dict[str, str] | None = None, hardlinks: dict[str, str] | None = None
) -> Path:
    """``linked-1.0.tar.gz`` of :data:`LINKED_PROJECT` under ``linked-1.0/``, then
    symlinks (member -> target as stored) and hard links (member -> member)."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / "linked-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for path, text in LINKED_PROJECT.items():
            info = tarfile.TarInfo(f"linked-1.0/{path}")
            info.size = len(text.encode())
            tf.addfile(info, io.BytesIO(text.encode()))
        links = [(path, target, tarfile.SYMTYPE) for path, target in (symlinks or {}).items()]
        for path, target in (hardlinks or {}).items():
            # A hard link names another member of the archive.
            links.append((path, f"linked-1.0/{target}", tarfile.LNKTYPE))
        for path, target, kind in links:
            info = tarfile.TarInfo(f"linked-1.0/{path}")
            info.type = kind
            info.linkname = target
            tf.addfile(info)
    return archive


def backend_index(root: Path, backends: tuple[str, ...]) -> PackageIndex:
    """A loopback index of real build backends (fetched once by nox) and ``extra-dep``,
    a plain wheel for projects and extras to depend on."""
    from tests.support.fetched import fetched_wheel
    from tests.support.wheels import WheelSpec

    index = PackageIndex(root)
    for project in backends:
        index.add(fetched_wheel(project, "3.11"))
    index.add(WheelSpec("extra-dep", "1.0"))
    index.write()
    return index
