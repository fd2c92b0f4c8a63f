"""A distribution's declared licences, as CycloneDX licence objects.

Sources, as PEP 639 ranks them: ``License-Expression`` alone when present; else the
``License`` field and the ``License ::`` classifiers together. Every licence is marked
``declared``: it is what the project says, not what anyone concluded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cyclonedx.model import AttachedText
from cyclonedx.model.license import (
    DisjunctiveLicense,
    License,
    LicenseAcknowledgement,
    LicenseExpression,
)
from cyclonedx.spdx import fixup_id, is_expression

from roost_sbom.environment import Distribution

#: Classifiers that name exactly one SPDX licence without saying it in brackets. Others
#: (``BSD License``, ``Apache Software License``) leave the version open and become names.
CLASSIFIER_IDS = {
    "MIT License": "MIT",
    "ISC License (ISCL)": "ISC",
    "Python Software Foundation License": "PSF-2.0",
    "Mozilla Public License 1.0 (MPL)": "MPL-1.0",
    "Mozilla Public License 1.1 (MPL 1.1)": "MPL-1.1",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
    "GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
    "GNU Affero General Public License v3": "AGPL-3.0-only",
    "GNU Affero General Public License v3 or later (AGPLv3+)": "AGPL-3.0-or-later",
    "European Union Public Licence 1.0 (EUPL 1.0)": "EUPL-1.0",
    "European Union Public Licence 1.1 (EUPL 1.1)": "EUPL-1.1",
    "European Union Public Licence 1.2 (EUPL 1.2)": "EUPL-1.2",
    "Universal Permissive License (UPL)": "UPL-1.0",
    "zlib/libpng License": "Zlib",
    "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
}
#: Classifiers that say nothing about which licence.
_VAGUE = {"License :: OSI Approved", "License :: DFSG approved"}
_BRACKETED = re.compile(r"\(([^()]+)\)\s*$")
#: A ``License`` value longer than this, or of several lines, is a licence's text.
_NAME_LIMIT = 120
_DECLARED = LicenseAcknowledgement.DECLARED


def _by_id_or_name(value: str) -> DisjunctiveLicense:
    spdx = fixup_id(value)
    if spdx is not None:
        return DisjunctiveLicense(id=spdx, acknowledgement=_DECLARED)
    return DisjunctiveLicense(name=value, acknowledgement=_DECLARED)


def from_expression(value: str) -> License:
    """A ``License-Expression`` (PEP 639): one SPDX id, or an expression."""
    value = " ".join(value.split())
    spdx = fixup_id(value)
    if spdx is not None:
        return DisjunctiveLicense(id=spdx, acknowledgement=_DECLARED)
    if is_expression(value) or "LicenseRef-" in value:
        return LicenseExpression(value, acknowledgement=_DECLARED)
    return DisjunctiveLicense(name=value, acknowledgement=_DECLARED)


def from_classifier(classifier: str) -> DisjunctiveLicense | None:
    """``License :: OSI Approved :: MIT License`` -> MIT; None for a vague classifier."""
    parts = [part.strip() for part in classifier.split("::")]
    if len(parts) < 2 or parts[0] != "License" or " :: ".join(parts) in _VAGUE:
        return None
    last = parts[-1]
    known = CLASSIFIER_IDS.get(last)
    if known is not None:
        return DisjunctiveLicense(id=known, acknowledgement=_DECLARED)
    bracketed = _BRACKETED.search(last)
    spdx = fixup_id(bracketed.group(1).strip()) if bracketed else None
    if spdx is not None:
        return DisjunctiveLicense(id=spdx, acknowledgement=_DECLARED)
    return DisjunctiveLicense(name=last, acknowledgement=_DECLARED)


def from_license_field(value: str, project: str) -> License | None:
    """The legacy ``License`` field: an SPDX id or expression, a short name, or a text."""
    text = value.strip()
    if not text or text.upper() in ("UNKNOWN", "NONE"):
        return None
    if "\n" in text or len(text) > _NAME_LIMIT:
        return DisjunctiveLicense(
            name=f"License text of {project}",
            text=AttachedText(content=text),
            acknowledgement=_DECLARED,
        )
    if fixup_id(text) is None and is_expression(text):
        return LicenseExpression(text, acknowledgement=_DECLARED)
    return _by_id_or_name(text)


def licences(dist: Distribution) -> Sequence[License]:
    """The licences *dist* declares: one expression, or a list of licences (CycloneDX
    allows no mix of the two)."""
    expression = dist.field("License-Expression")
    if expression and expression.strip():
        return [from_expression(expression)]
    found: list[License] = []
    field = dist.field("License")
    from_field = from_license_field(field, dist.name) if field else None
    if isinstance(from_field, LicenseExpression):
        return [from_field]
    if from_field is not None:
        found.append(from_field)
    for classifier in dist.fields_list("Classifier"):
        licence = from_classifier(classifier)
        if licence is not None and licence not in found:
            found.append(licence)
    return found
