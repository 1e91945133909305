"""Caller IDs in one canonical form, so the number the PBX presents matches the one stored.

Parsing is Google's libphonenumber (the `phonenumbers` package): French trunks present the
same mobile as `0612345678`, `+33612345678`, `0033612345678` or `33612345678`, and people
type it with spaces, dots, dashes or "+33 (0)6". The stored form is the one the hotline
reads aloud and people recognise: French numbers in national form (`0612345678`), other
countries as `00` + country code + number (`00442079460000`), and what is not a full
phone number (short numbers like 3900, PBX extensions) as its digits.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from callrouter.identity.errors import InvalidCallerId

MIN_DIGITS = 3
MAX_DIGITS = 20
#: Numbers written without a country code are French: the hotline's trunks are French.
HOME_REGION = "FR"
HOME_COUNTRY_CODE = 33
_WRITTEN = re.compile(r"\+?[0-9\s.\-/()]+")


# Every routed call normalises its caller ID, and libphonenumber's parse costs about
# 0.06 ms of CPU; a hotline's callers call again and again. Errors are not remembered.
@lru_cache(maxsize=8192)
def normalise_caller_id(raw: str) -> str:
    """The canonical form of `raw`; raises InvalidCallerId for anything that is not a phone
    number (Asterisk presents "anonymous", "<unknown>" and the like)."""
    text = raw.strip()
    if not text.isascii() or _WRITTEN.fullmatch(text) is None:
        raise InvalidCallerId(raw, "only digits, spaces, dots, dashes and a leading + are allowed")
    digits = "".join(character for character in text if character.isdigit())
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise InvalidCallerId(raw, f"a phone number has {MIN_DIGITS} to {MAX_DIGITS} digits")
    try:
        number = phonenumbers.parse(text, HOME_REGION)
    except phonenumbers.NumberParseException:
        return digits
    if not phonenumbers.is_possible_number(number):
        return digits
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number.country_code == HOME_COUNTRY_CODE:
        return "0" + international.removeprefix(f"+{HOME_COUNTRY_CODE}")
    return "00" + international.removeprefix("+")
