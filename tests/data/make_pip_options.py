"""Write pip_26_3_options.json: every option of every pip command, as pip itself parses them.

Run it with the interpreter of the pip release the data is for (26.3 here), once,
whenever roost moves to a newer pip reference::

    PIP26=/path/to/pip-26.3-venv/bin/python
    $PIP26 tests/data/make_pip_options.py > tests/data/pip_26_3_options.json

It reads the option parser behind ``pip <command> --help`` (the same options the help
prints, in the same groups, plus the few pip hides from the help, marked ``hidden``),
so the tests need no pip of that release: CI does not have one. Nothing here runs
during the tests.
"""

from __future__ import annotations

import json
import optparse
import sys


def describe(option: optparse.Option, group: str) -> dict[str, object]:
    takes_value = option.takes_value()
    return {
        "names": [*option._short_opts, *option._long_opts],
        "group": group,
        "takes_value": takes_value,
        "action": option.action,
        "choices": list(option.choices) if option.choices else None,
        "hidden": option.help == optparse.SUPPRESS_HELP,
    }


def main() -> int:
    import pip
    from pip._internal.commands import commands_dict, create_command

    commands: dict[str, list[dict[str, object]]] = {}
    for name in commands_dict:
        parser = create_command(name).parser
        options = [describe(o, "") for o in parser.option_list if o.dest is not None]
        for group in parser.option_groups:
            options.extend(describe(o, group.title) for o in group.option_list)
        commands[name] = options
    # One option per line: small, and a new pip release shows as a readable diff.
    out = [f'{{"pip": {json.dumps(pip.__version__)}, "commands": {{']
    for i, (name, options) in enumerate(sorted(commands.items())):
        lines = ",\n".join("  " + json.dumps(o, sort_keys=True) for o in options)
        end = "," if i < len(commands) - 1 else ""
        out.append(f" {json.dumps(name)}: [\n{lines}\n ]{end}")
    out.append("}}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
