"""Phone numbers: mainland mobiles (11 digits, 1[3-9]) and landlines with an area code; digits only."""

from __future__ import annotations

import re

from extractors.text import Reading, nfkc

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")
# ten digits that are a mobile but for its first: "8787556441", "87-8755-6441" (1 87-8755-6441)
# (not a 400 / 800 service number, ten digits too)
_HEADLESS_MOBILE = re.compile(r"^\D*(?![48]00)(?:[3-9]\d{9}|[3-9]\d[\s-]\d{4}[\s-]\d{4})\D*$")
_CANDIDATE = re.compile(r"(?:\+?86[\s-]?)?(?:\(?0\d{2,3}\)?[\s-]?\d{3,4}[\s-]?\d{4}|1[3-9]\d[\s-]?\d{4}[\s-]?\d{4})(?!\d)")


def read_phone(text: str) -> Reading | None:
    s = nfkc(text).replace("O", "0").replace("o", "0")
    m = _CANDIDATE.search(s)
    if m is None:
        digits = re.sub(r"\D", "", s)
        if _HEADLESS_MOBILE.search(s):
            # a mobile whose leading 1 OCR did not read (printed over a form's rule, out of
            # register): the rest is a mobile's; offered repaired, unconfirmed (a valid reading
            # elsewhere on the page wins; this one goes to review)
            return Reading("1" + digits, False, "mobile", 0.5, "the leading 1 was not read: repaired, unconfirmed")
        return Reading(digits, False, "", 0.2, "not a phone number") if len(digits) >= 7 else None
    digits = re.sub(r"\D", "", m.group(0))
    if digits.startswith("86") and len(digits) in (13, 12, 11 + 2) and not _LANDLINE.match(digits):
        digits = digits[2:]
    if _MOBILE.match(digits):
        return Reading(digits, True, "mobile", 1.0)
    if _LANDLINE.match(digits):
        return Reading(digits, True, "landline", 1.0)
    return Reading(digits, False, "", 0.3, "not a mobile or landline number")
