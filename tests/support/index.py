"""The standard test corpus, in a :class:`PackageIndex` (now :mod:`roost.testing.index`).

The index class moved to roost.testing, where plugin authors get it through the
``roost_index`` fixture; it is re-exported here so the tests keep one import.

The standard corpus (:func:`standard_corpus`, the ``corpus_index`` fixture):

============  =================  ===========================================================
project       versions           what is special
============  =================  ===========================================================
alpha         1.0 1.1 2.0        console script ``alpha``; ``data/share/alpha/alpha.txt``
              2.1rc1             a pre-release (same contents)
              1.5                yanked, reason ``broken``
beta          1.0                requires ``alpha>=1.0,<2`` (so alpha 1.1, never yanked 1.5)
gamma         1.0                extras ``fast`` (requires ``delta``) and ``slow`` (nothing)
delta         1.0
epsilon       1.0                ``delta; python_version < "3.11"``,
                                 ``zeta; python_version >= "3.11"``
zeta          1.0
onlynew       1.0 0.9            1.0 has Requires-Python ``>=3.12``; 0.9 has none
binary        1.0                only tag ``cp27-cp27mu-linux_armv6l`` (installable nowhere)
conflict-a    1.0                requires ``delta==1.0``
conflict-b    1.0                requires ``delta>1.0`` (unsatisfiable with conflict-a)
scripted      1.0                console ``scripted``, gui ``scripted-gui``, a ``scripts/``
                                 file ``scripted-sh``, header ``scripted.h``,
                                 ``data/share/scripted/readme.txt``
nometa        1.0                no PEP 658 metadata file offered
sdistonly     1.0                only an sdist (``sdistonly-1.0.tar.gz``), no wheel
============  =================  ===========================================================

Every wheel is ``py3-none-any`` unless said otherwise; ``main()`` of each package prints
``"<name> <version>"``, so ``alpha`` 1.1's console script prints ``alpha 1.1``.
"""

from __future__ import annotations

from roost.testing.index import (
    API_VERSION,
    FROM_WHEEL,
    IndexFile,
    PackageIndex,
    read_wheel_metadata,
)
from roost.testing.wheels import WheelSpec, build_sdist

__all__ = [
    "API_VERSION",
    "FROM_WHEEL",
    "IndexFile",
    "PackageIndex",
    "read_wheel_metadata",
    "standard_corpus",
]


def _alpha(version: str) -> WheelSpec:
    return WheelSpec(
        "alpha",
        version,
        console_scripts={"alpha": "alpha:main"},
        data={"data/share/alpha/alpha.txt": f"alpha {version}\n"},
    )


def standard_corpus(index: PackageIndex) -> PackageIndex:
    """Fill *index* with the corpus in this module's docstring and write its pages."""
    for version in ("1.0", "1.1", "2.0", "2.1rc1"):
        index.add(_alpha(version))
    index.add(_alpha("1.5"), yanked="broken")
    index.add(WheelSpec("beta", "1.0", requires=["alpha>=1.0,<2"]))
    index.add(
        WheelSpec("gamma", "1.0", extras=["fast", "slow"], requires=['delta; extra == "fast"'])
    )
    index.add(WheelSpec("delta", "1.0"))
    index.add(
        WheelSpec(
            "epsilon",
            "1.0",
            requires=['delta; python_version < "3.11"', 'zeta; python_version >= "3.11"'],
        )
    )
    index.add(WheelSpec("zeta", "1.0"))
    index.add(WheelSpec("onlynew", "1.0", requires_python=">=3.12"))
    index.add(WheelSpec("onlynew", "0.9"))
    index.add(WheelSpec("binary", "1.0", tag="cp27-cp27mu-linux_armv6l", root_is_purelib=False))
    index.add(WheelSpec("conflict-a", "1.0", requires=["delta==1.0"]))
    index.add(WheelSpec("conflict-b", "1.0", requires=["delta>1.0"]))
    index.add(
        WheelSpec(
            "scripted",
            "1.0",
            console_scripts={"scripted": "scripted:main"},
            gui_scripts={"scripted-gui": "scripted:gui"},
            data={
                "scripts/scripted-sh": "#!/bin/sh\necho scripted-sh\n",
                "headers/scripted.h": "#define SCRIPTED 1\n",
                "data/share/scripted/readme.txt": "scripted data\n",
            },
        )
    )
    index.add(WheelSpec("nometa", "1.0"), metadata=False)
    index.add_file(build_sdist("sdistonly", "1.0", index.root / "build"))
    index.write()
    return index
