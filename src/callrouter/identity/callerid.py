"""Caller IDs in one canonical form, so the number the PBX presents matches the one stored."""

from __future__ import annotations

import re

from callrouter.identity.errors import InvalidCallerId

MIN_DIGITS = 3
MAX_DIGITS = 20
_SEPARATORS = re.compile(r"[\s.\-/()]")


def normalise_caller_id(raw: str) -> str:
    """Digits only, French numbers in national form: "+33 6 12 34 56 78" -> "0612345678".

    "+" and "00" both mean an international prefix, so "+44 20..." and "004420..." agree;
    "+33 (0)6..." drops the "(0)" written out of habit. Raises InvalidCallerId for anything
    that is not a phone number (Asterisk presents "anonymous", "<unknown>" and the like).
    """
    text = raw.strip()
    text = re.sub(r"^\+33\s*\(0\)", "+33", text)
    text = _SEPARATORS.sub("", text)
    if text.startswith("+"):
        text = "00" + text[1:]
    if not text.isdigit() or not text.isascii():
        raise InvalidCallerId(raw, "only digits, spaces, dots, dashes and a leading + are allowed")
    if text.startswith("0033"):
        text = "0" + text[4:]
    if not MIN_DIGITS <= len(text) <= MAX_DIGITS:
        raise InvalidCallerId(raw, f"a phone number has {MIN_DIGITS} to {MAX_DIGITS} digits")
    return text
