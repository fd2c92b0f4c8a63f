"""What licence a distribution's core metadata declares, as an SPDX expression.

Read in the order the metadata grew up: ``License-Expression`` (PEP 639, an SPDX
expression by definition), then the free-text ``License`` field (used when it is an
SPDX expression or a well-known spelling of one), then the ``License ::`` trove
classifiers (several are read as a choice between them, which is what projects
listing more than one mean). Whatever cannot be pinned to SPDX licences (``BSD``,
``GPL`` with no version, pasted licence text) is *unknown*, not refused: the policy
decides what unknown means.
"""

from __future__ import annotations

import email.parser
import re
from dataclasses import dataclass

from roost_policy.spdx import ExpressionError, canonical

#: Spellings of the legacy ``License`` field that name exactly one SPDX licence,
#: compared lower-case with runs of spaces, commas and dashes as one space.
_ALIASES = {
    "mit": "MIT",
    "mit license": "MIT",
    "mit licence": "MIT",
    "the mit license": "MIT",
    "expat": "MIT",
    "apache 2": "Apache-2.0",
    "apache 2.0": "Apache-2.0",
    "apache2": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache license version 2.0": "Apache-2.0",
    "apache software license 2.0": "Apache-2.0",
    "asl 2.0": "Apache-2.0",
    "bsd 2 clause": "BSD-2-Clause",
    "2 clause bsd": "BSD-2-Clause",
    "simplified bsd": "BSD-2-Clause",
    "bsd 3 clause": "BSD-3-Clause",
    "3 clause bsd": "BSD-3-Clause",
    "new bsd": "BSD-3-Clause",
    "new bsd license": "BSD-3-Clause",
    "modified bsd": "BSD-3-Clause",
    "revised bsd": "BSD-3-Clause",
    "isc license": "ISC",
    "psf": "PSF-2.0",
    "psf license": "PSF-2.0",
    "python software foundation license": "PSF-2.0",
    "mpl 2.0": "MPL-2.0",
    "mozilla public license 2.0": "MPL-2.0",
    "the unlicense": "Unlicense",
}

#: ``License ::`` classifiers that name one SPDX licence. Those that do not (``BSD
#: License``, ``GNU General Public License (GPL)``) are missing on purpose.
_CLASSIFIERS = {
    "OSI Approved :: MIT License": "MIT",
    "OSI Approved :: MIT No Attribution License (MIT-0)": "MIT-0",
    # In practice always 2.0; version 1.1 has not been used for new work since 2004.
    "OSI Approved :: Apache Software License": "Apache-2.0",
    "OSI Approved :: ISC License (ISCL)": "ISC",
    "OSI Approved :: Python Software Foundation License": "PSF-2.0",
    "OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "OSI Approved :: Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "OSI Approved :: zlib/libpng License": "Zlib",
    "OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
    "OSI Approved :: Universal Permissive License (UPL)": "UPL-1.0",
    "OSI Approved :: GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "OSI Approved :: GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "OSI Approved :: GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "OSI Approved :: GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
    "OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)": (
        "LGPL-2.0-or-later"
    ),
    "OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)": (
        "LGPL-3.0-or-later"
    ),
    "OSI Approved :: GNU Affero General Public License v3": "AGPL-3.0-only",
    "OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)": (
        "AGPL-3.0-or-later"
    ),
    "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
}
#: Shown of an unreadable ``License`` value: it may be a whole licence text.
_SHOWN = 60


@dataclass(frozen=True)
class DeclaredLicense:
    """What the metadata says: an SPDX ``expression``, or None and ``problem`` saying
    why none could be read; ``source`` names the field it came from, for messages."""

    expression: str | None
    source: str
    problem: str = ""


def declared_license(metadata: str) -> DeclaredLicense:
    """The licence *metadata* (a ``METADATA`` file's text) declares."""
    fields = email.parser.Parser().parsestr(metadata, headersonly=True)
    problems: list[str] = []
    expression = (fields.get("License-Expression") or "").strip()
    if expression:
        try:
            return DeclaredLicense(canonical(expression), "License-Expression")
        except ExpressionError as exc:
            # PEP 639 makes this field authoritative: a broken one is not guessed around.
            return DeclaredLicense(
                None,
                "License-Expression",
                f"License-Expression {_shown(expression)} is not a valid SPDX expression ({exc})",
            )
    legacy = (fields.get("License") or "").strip()
    if legacy and legacy.upper() != "UNKNOWN":
        found = _from_legacy(legacy)
        if found is not None:
            return DeclaredLicense(found, "License")
        problems.append(f"License {_shown(legacy)} names no SPDX licence")
    classifiers = [
        value.strip()[len("License :: ") :].strip()
        for value in fields.get_all("Classifier") or []
        if value.strip().startswith("License :: ")
    ]
    named = [_CLASSIFIERS[c] for c in classifiers if c in _CLASSIFIERS]
    vague = [c for c in classifiers if c not in _CLASSIFIERS and c != "OSI Approved"]
    if named and not vague:
        unique = list(dict.fromkeys(named))
        return DeclaredLicense(" OR ".join(unique), "classifiers")
    if vague:
        shown = ", ".join(_shown(f"License :: {c}") for c in vague[:5])
        problems.append(
            f"the classifier {shown} names no single SPDX licence"
            if len(vague) == 1
            else f"the classifiers {shown} name no single SPDX licence"
        )
        if named:
            # A choice that includes an unreadable alternative: what is known may still
            # be enough (the caller allows it if one named licence is allowed).
            unique = list(dict.fromkeys(named))
            return DeclaredLicense(" OR ".join(unique), "classifiers", "; ".join(problems))
    if not problems:
        problems.append("no License-Expression, License or License classifier")
    return DeclaredLicense(None, "metadata", "; ".join(problems))


def _from_legacy(text: str) -> str | None:
    """The legacy ``License`` field as an SPDX expression, or None when it is not one."""
    if "\n" in text:  # a pasted licence text
        return None
    key = re.sub(r"[\s,\-]+", " ", text.lower()).strip()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return canonical(text)
    except ExpressionError:
        return None


def _shown(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= _SHOWN else flat[: _SHOWN - 3] + "...")
