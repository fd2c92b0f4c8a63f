"""The source of each third-party plugin the plugin tests install, and its wheel.

Each plugin is a real distribution with an entry point in the group ``roost``, built by
``build_plugin_wheel``. The demo plugin is docs/plugins.md's worked example, byte for
byte (tests/test_plugin_docs.py checks it); the others misbehave on purpose (a broken
import, an unknown hook, a taken name) or override a default (a scheme, TLS, events),
and ``SHOUT_PLUGIN`` is a bare module for ``-p``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tests.support.wheels import WheelSpec, build_wheel

# The worked example of docs/plugins.md (test_docs_show_the_tested_plugin keeps them equal).
DEMO_PLUGIN = '''\
"""roost-demo-plugin: a local folder of wheels as an index source, and an install report."""

from __future__ import annotations

import json
import os
from pathlib import Path

from packaging.utils import parse_wheel_filename

from roost import hookimpl
from roost.types import IndexSource, Link, ProjectLinks

SOURCE = IndexSource(url="demo://local", kind="demo", origin="roost-demo-plugin")


@hookimpl
def roost_index_sources(settings):
    """Ask the demo source after the configured indexes."""
    return [SOURCE]


@hookimpl
def roost_index_lookup(project, source, client):
    """List the wheels of *project* in $ROOST_DEMO_WHEELS; None for other sources."""
    if source.kind != "demo":
        return None  # not ours: let simple_index or find_links answer
    folder = Path(os.environ.get("ROOST_DEMO_WHEELS", "."))
    links = tuple(
        Link(url=path.resolve().as_uri(), filename=path.name, source=source)
        for path in sorted(folder.glob("*.whl"))
        if parse_wheel_filename(path.name)[0] == project
    )
    return ProjectLinks(project=project, source=source, links=links, found=bool(links))


@hookimpl
def roost_post_install(target, scheme, installed, options):
    """Write what was installed, as JSON, to $ROOST_DEMO_REPORT."""
    report = os.environ.get("ROOST_DEMO_REPORT")
    if report:
        data = {
            "python": target.executable,
            "scheme": scheme.name,
            "installed": [{"name": d.name, "version": d.version} for d in installed],
        }
        Path(report).write_text(json.dumps(data, indent=2))
'''

BROKEN_PLUGIN = 'raise ImportError("roost_broken_plugin needs a module that is not here")\n'

UNKNOWN_HOOK_PLUGIN = """\
import os
from pathlib import Path

from roost import hookimpl


@hookimpl
def roost_no_such_hook():
    return None


@hookimpl
def roost_post_install(target, scheme, installed, options):
    Path(os.environ["ROOST_UNKNOWN_REPORT"]).write_text("ran")
"""

# Registered under the taken name "simple_index": if it replaced the built-in, no
# project would ever be found.
DUPLICATE_PLUGIN = """\
from roost import hookimpl
from roost.types import ProjectLinks


@hookimpl
def roost_index_lookup(project, source, client):
    return ProjectLinks(project=project, source=source, found=False)
"""

VENDOR_PLUGIN = """\
import os
import ssl
from pathlib import Path

import click

from roost import hookimpl
from roost.types import Scheme


@hookimpl
def roost_add_options(command):
    if command != "install":
        return []
    return [click.Option(["--vendor"], is_flag=True, help="Install into $ROOST_VENDOR_DIR.")]


@hookimpl
def roost_select_scheme(target, options):
    if not options.flag("vendor"):
        return None
    base = os.environ["ROOST_VENDOR_DIR"]
    return Scheme(
        purelib=base,
        platlib=base,
        headers=os.path.join(base, "include"),
        scripts=os.path.join(base, "bin"),
        data=base,
        name="vendor",
    )


@hookimpl
def roost_ssl_context(settings):
    Path(os.environ["ROOST_VENDOR_TLS_MARK"]).write_text("vendor")
    return ssl.create_default_context()


@hookimpl
def roost_install_event(event):
    with open(os.environ["ROOST_VENDOR_EVENTS"], "a") as log:
        log.write(f"{event.kind} {event.name} {event.version} {event.index}/{event.total}\\n")
"""

SHOUT_PLUGIN = """\
import click

from roost import hookimpl


@hookimpl
def roost_add_options(command):
    if command != "install":
        return []
    return [click.Option(["--shout"], is_flag=True, help="Announce what was installed.")]


@hookimpl
def roost_post_install(target, scheme, installed, options):
    if options.flag("shout"):
        print("SHOUT: " + ", ".join(d.name.upper() for d in installed))
"""


def build_plugin_wheel(
    name: str, module: str, source: str, entry_points: Mapping[str, str], dest: Path
) -> Path:
    """A wheel of *module* whose entry_points.txt has a ``[roost]`` group."""
    spec = WheelSpec(
        name,
        "1.0",
        module=module,
        files={f"{module}/__init__.py": source},
        entry_points={"roost": dict(entry_points)},
    )
    return build_wheel(spec, dest)
