"""Numbers of points as the ledger accepts them: whole numbers, within bounds.

Points are integers everywhere (prices, packs, balances). Python would let 1.5 or True
through an `int` annotation, and SQLite would store 1.5 in an INTEGER column, so every
number that enters the ledger from outside is checked here first.
"""

from __future__ import annotations

from callrouter.ledger.config import MAX_POINTS
from callrouter.ledger.errors import InvalidAmount


def whole_points(value: object, what: str, *, signed: bool = False) -> int:
    """`value` if it is a whole number of points from 1 to MAX_POINTS (either way when
    `signed`); InvalidAmount, naming `what`, otherwise. A bool is not a number of points."""
    bounds = f"1 to {MAX_POINTS} points" + (" either way" if signed else "")
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount(f"{what} is a whole number of points ({bounds}), not {value!r}")
    if value == 0 or abs(value) > MAX_POINTS or (value < 0 and not signed):
        raise InvalidAmount(f"{what} is {bounds}, not {value}")
    return value
