"""The [ledger] section of the configuration: price list, recharge packs, code validity.

Every key is optional; the defaults are the SPEC's tables (seeds/000_0e15b6772b2a7f9e.txt).

    [ledger]
    code_validity_days = 365

    [ledger.prices.standard]      # and [ledger.prices.advanced]; any pass may be omitted
    "4h" = 35
    rdv = 50
    prioritaire = 75

    [ledger.third_party]
    surcharge = 100
    applies_to = ["advanced"]     # SPEC (choice): the brochure prints it under "avancée"

    [ledger.emergency]            # the passes that open emergency assistance, and its price
    prioritaire = 100

    [[ledger.packs]]              # when given, the list replaces the five default packs
    reference = "FSACSP50C"
    points = 50
    price_per_point_eur = "2.69"  # euros as strings (or integers): floats are inexact
    price_eur = "134.64"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from callrouter.errors import ConfigError
from callrouter.ledger.packs import DEFAULT_PACKS, Pack, PackCatalogue
from callrouter.ledger.prices import DEFAULT_PRICE_LIST, AssistanceLevel, Points, PriceList
from callrouter.passes import Pass

SECTION = "ledger"
DEFAULT_CODE_VALIDITY_DAYS = 365
# A sanity bound, not a business rule: it catches a misplaced digit in a price or a pack.
MAX_POINTS = 1_000_000
CENT = Decimal("0.01")
MAX_CODE_VALIDITY_DAYS = 3660
_KEYS = ("prices", "third_party", "emergency", "packs", "code_validity_days")
_PACK_KEYS = ("reference", "points", "price_per_point_eur", "price_eur")


@dataclass(frozen=True)
class LedgerConfig:
    prices: PriceList = DEFAULT_PRICE_LIST
    packs: PackCatalogue = field(default_factory=lambda: DEFAULT_PACKS)
    code_validity: timedelta = timedelta(days=DEFAULT_CODE_VALIDITY_DAYS)


def parse_ledger_config(section: Mapping[str, object]) -> LedgerConfig:
    """Validate the [ledger] section (a parsed TOML table); ConfigError names the key path."""
    _reject_unknown(section, _KEYS, SECTION)
    expert = dict(DEFAULT_PRICE_LIST.expert)
    prices = _table(section, "prices", SECTION)
    _reject_unknown(prices, [level.value for level in AssistanceLevel], f"{SECTION}.prices")
    for level_name, row in prices.items():
        level = AssistanceLevel(level_name)
        path = f"{SECTION}.prices.{level_name}"
        row_table = _as_table(row, path)
        _reject_unknown(row_table, [pass_.value for pass_ in Pass], path)
        for pass_name, value in row_table.items():
            expert[(level, Pass(pass_name))] = _points(value, f"{path}.{pass_name}", minimum=1)

    third_party = _table(section, "third_party", SECTION)
    path = f"{SECTION}.third_party"
    _reject_unknown(third_party, ("surcharge", "applies_to"), path)
    surcharge = DEFAULT_PRICE_LIST.third_party_surcharge
    if "surcharge" in third_party:
        surcharge = _points(third_party["surcharge"], f"{path}.surcharge", minimum=0)
    levels = DEFAULT_PRICE_LIST.third_party_levels
    if "applies_to" in third_party:
        levels = _levels(third_party["applies_to"], f"{path}.applies_to")

    emergency = dict(DEFAULT_PRICE_LIST.emergency)
    if "emergency" in section:
        path = f"{SECTION}.emergency"
        table = _as_table(section["emergency"], path)
        _reject_unknown(table, [pass_.value for pass_ in Pass], path)
        emergency = {
            Pass(name): _points(value, f"{path}.{name}", minimum=1) for name, value in table.items()
        }

    packs = DEFAULT_PACKS
    if "packs" in section:
        packs = _packs(section["packs"], f"{SECTION}.packs")

    validity_days = DEFAULT_CODE_VALIDITY_DAYS
    if "code_validity_days" in section:
        validity_days = _whole(
            section["code_validity_days"],
            f"{SECTION}.code_validity_days",
            minimum=1,
            maximum=MAX_CODE_VALIDITY_DAYS,
        )

    return LedgerConfig(
        prices=PriceList(
            expert=expert,
            third_party_surcharge=surcharge,
            third_party_levels=levels,
            emergency=emergency,
        ),
        packs=packs,
        code_validity=timedelta(days=validity_days),
    )


def _packs(value: object, path: str) -> PackCatalogue:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ConfigError(f"{path}: expected a list of packs ([[{path}]] tables)")
    if not value:
        raise ConfigError(f"{path}: at least one recharge pack must be on sale")
    packs: list[Pack] = []
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        table = _as_table(item, item_path)
        _reject_unknown(table, _PACK_KEYS, item_path)
        for key in _PACK_KEYS:
            if key not in table:
                raise ConfigError(f"{item_path}.{key}: missing")
        reference = table["reference"]
        if not isinstance(reference, str) or not reference.strip():
            raise ConfigError(f"{item_path}.reference: expected the card's reference, a text")
        if any(pack.reference == reference for pack in packs):
            raise ConfigError(f"{item_path}.reference: {reference!r} is listed twice")
        packs.append(
            Pack(
                reference=reference,
                points=_points(table["points"], f"{item_path}.points", minimum=1),
                price_per_point_eur=_euros(
                    table["price_per_point_eur"], f"{item_path}.price_per_point_eur"
                ),
                price_eur=_euros(table["price_eur"], f"{item_path}.price_eur"),
            )
        )
    return PackCatalogue(packs)


def _table(section: Mapping[str, object], key: str, path: str) -> Mapping[str, object]:
    if key not in section:
        return {}
    return _as_table(section[key], f"{path}.{key}")


def _as_table(value: object, path: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise ConfigError(f"{path}: expected a table")
    return value


def _reject_unknown(table: Mapping[str, object], known: Sequence[str], path: str) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(f"{path}.{key}: unknown key (expected one of: {', '.join(known)})")


def _points(value: object, path: str, *, minimum: int) -> Points:
    return _whole(value, path, minimum=minimum, maximum=MAX_POINTS)


def _whole(value: object, path: str, *, minimum: int, maximum: int) -> int:
    # bool is an int in Python; `true` in a price is a typo, not 1 point.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{path}: expected a whole number, got {value!r}")
    if not minimum <= value <= maximum:
        raise ConfigError(f"{path}: {value} is out of range ({minimum} to {maximum})")
    return value


def _euros(value: object, path: str) -> Decimal:
    if isinstance(value, float):
        raise ConfigError(f'{path}: write euros as a string (e.g. "134.64"): floats are inexact')
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"{path}: expected an amount in euros, got {value!r}")
    try:
        amount = Decimal(str(value).replace(" ", ""))
        whole_cents = amount.is_finite() and amount == amount.quantize(CENT)
    except InvalidOperation:
        raise ConfigError(f"{path}: {value!r} is not an amount in euros") from None
    if not whole_cents:
        raise ConfigError(f"{path}: {value!r} is not an amount in euros and cents")
    if amount <= 0:
        raise ConfigError(f"{path}: {value!r} must be a positive amount in euros")
    return amount


def _levels(value: object, path: str) -> frozenset[AssistanceLevel]:
    known = [level.value for level in AssistanceLevel]
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ConfigError(f"{path}: expected a list of levels ({', '.join(known)})")
    levels: set[AssistanceLevel] = set()
    for item in value:
        if item not in known:
            raise ConfigError(f"{path}: unknown level {item!r} (expected: {', '.join(known)})")
        levels.add(AssistanceLevel(item))
    return frozenset(levels)
