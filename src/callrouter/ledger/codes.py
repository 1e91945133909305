"""One-time recharge codes of the pack cards ("le code de rechargement fourni dans le package
carte à Points Services", seeds/000_0e15b6772b2a7f9e.txt).

A code carries 140 random bits, so a plain SHA-256 is enough to store it: nobody can guess
one, and the ledger finds a code by its hash with a unique index (a salted slow hash would
make that lookup impossible).
"""

from __future__ import annotations

import hashlib
import secrets

# Crockford's base 32: no I, L, O, U, so a code read off a card is typed back right.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS, GROUP_LENGTH = 7, 4
_CODE_LENGTH = GROUPS * GROUP_LENGTH
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def generate_recharge_code() -> str:
    """28 symbols of base 32 (140 bits), printed in groups: "7KQ2-XM9D-..."."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(_CODE_LENGTH))
    return "-".join(
        symbols[start : start + GROUP_LENGTH] for start in range(0, _CODE_LENGTH, GROUP_LENGTH)
    )


def normalise_recharge_code(typed: str) -> str:
    """The code as it was drawn, from what a person typed: any case, with or without dashes
    or spaces, O for 0 and I or L for 1 forgiven."""
    return "".join(typed.split()).replace("-", "").upper().translate(_LOOKALIKES)


def hash_recharge_code(typed: str) -> str:
    """The stored form of a code: SHA-256 of its normalised symbols, in hex."""
    return hashlib.sha256(normalise_recharge_code(typed).encode("ascii", "replace")).hexdigest()
