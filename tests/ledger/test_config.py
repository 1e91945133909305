"""The [ledger] section: SPEC defaults, overrides, and errors that name the key path."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from callrouter.errors import ConfigError
from callrouter.ledger.config import LedgerConfig, parse_ledger_config
from callrouter.ledger.packs import DEFAULT_PACKS, UnknownPack
from callrouter.ledger.prices import AssistanceLevel, EmergencyUnavailable
from callrouter.passes import Pass


def test_an_empty_section_gives_the_spec_tables() -> None:
    config = parse_ledger_config({})

    assert config == LedgerConfig()
    assert config.code_validity == timedelta(days=365)
    assert [
        (pack.reference, pack.points, pack.price_per_point_eur, pack.price_eur)
        for pack in config.packs.values()
    ] == [
        ("FSACSP50C", 50, Decimal("2.69"), Decimal("134.64")),
        ("FSACSP100C", 100, Decimal("2.56"), Decimal("256.79")),
        ("FSACSP200C", 200, Decimal("2.44"), Decimal("488.90")),
        ("FSACSP500C", 500, Decimal("2.32"), Decimal("1160.01")),
        ("FSACSP1000C", 1000, Decimal("2.19"), Decimal("2195.80")),
    ]


def test_one_price_can_be_overridden_and_the_rest_keep_their_defaults() -> None:
    config = parse_ledger_config({"prices": {"standard": {"4h": 40}}})

    assert config.prices.price(level=AssistanceLevel.STANDARD, pass_=Pass.FOUR_HOURS) == 40
    assert config.prices.price(level=AssistanceLevel.STANDARD, pass_=Pass.APPOINTMENT) == 50


def test_third_party_surcharge_and_its_levels_are_configurable() -> None:
    config = parse_ledger_config(
        {"third_party": {"surcharge": 80, "applies_to": ["standard", "advanced"]}}
    )

    price = config.prices.price(level=AssistanceLevel.STANDARD, pass_=Pass.APPOINTMENT)
    assert price == 50
    assert (
        config.prices.price(level=AssistanceLevel.STANDARD, pass_=Pass.FOUR_HOURS, third_party=True)
        == 115
    )


def test_emergency_passes_are_configurable() -> None:
    config = parse_ledger_config({"emergency": {"rdv": 120}})

    assert (
        config.prices.price(level=AssistanceLevel.STANDARD, pass_=Pass.APPOINTMENT, emergency=True)
        == 120
    )
    with pytest.raises(EmergencyUnavailable):
        config.prices.price(level=AssistanceLevel.STANDARD, pass_=Pass.PRIORITY, emergency=True)


def test_packs_replace_the_default_list() -> None:
    config = parse_ledger_config(
        {
            "packs": [
                {
                    "reference": "TEST10",
                    "points": 10,
                    "price_per_point_eur": "3",
                    "price_eur": "30.00",
                }
            ],
            "code_validity_days": 30,
        }
    )

    assert list(config.packs) == ["TEST10"]
    assert config.packs.pack("TEST10").price_eur == Decimal("30.00")
    assert config.code_validity == timedelta(days=30)
    with pytest.raises(UnknownPack, match="FSACSP50C"):
        config.packs.pack("FSACSP50C")


def test_unknown_pack_names_the_packs_on_sale() -> None:
    with pytest.raises(UnknownPack, match="known: FSACSP50C, FSACSP100C"):
        DEFAULT_PACKS.pack("FSACSP20C")


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"price": {}}, r"ledger\.price: unknown key"),
        ({"prices": []}, r"ledger\.prices: expected a table"),
        ({"prices": {"premium": {}}}, r"ledger\.prices\.premium: unknown key"),
        ({"prices": {"standard": {"5h": 10}}}, r"ledger\.prices\.standard\.5h: unknown key"),
        ({"prices": {"standard": {"4h": "35"}}}, r"ledger\.prices\.standard\.4h: expected a whole"),
        ({"prices": {"standard": {"4h": True}}}, r"ledger\.prices\.standard\.4h: expected a whole"),
        ({"prices": {"advanced": {"rdv": 0}}}, r"ledger\.prices\.advanced\.rdv: 0 is out of range"),
        ({"prices": {"advanced": {"rdv": 35.5}}}, r"ledger\.prices\.advanced\.rdv: expected"),
        ({"third_party": {"surcharge": -1}}, r"ledger\.third_party\.surcharge: -1 is out"),
        ({"third_party": {"applies_to": "advanced"}}, r"ledger\.third_party\.applies_to: expected"),
        ({"third_party": {"applies_to": ["expert"]}}, r"applies_to: unknown level 'expert'"),
        ({"emergency": {"night": 100}}, r"ledger\.emergency\.night: unknown key"),
        ({"packs": []}, r"ledger\.packs: at least one"),
        ({"packs": {"reference": "X"}}, r"ledger\.packs: expected a list"),
        ({"packs": [{"reference": "X", "points": 1}]}, r"ledger\.packs\[0\]\.price_per_point_eur"),
        ({"code_validity_days": 0}, r"ledger\.code_validity_days: 0 is out of range"),
    ],
)
def test_invalid_values_name_the_key_path(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_ledger_config(section)


def _pack(**overrides: object) -> dict[str, object]:
    pack: dict[str, object] = {
        "reference": "P1",
        "points": 10,
        "price_per_point_eur": "2.50",
        "price_eur": "25.00",
    }
    pack.update(overrides)
    return pack


@pytest.mark.parametrize(
    ("pack", "message"),
    [
        (_pack(price_eur=134.64), r"ledger\.packs\[0\]\.price_eur: write euros as a string"),
        (_pack(price_eur="12.345"), r"price_eur: '12.345' is not an amount in euros and cents"),
        (_pack(price_eur="abc"), r"price_eur: 'abc' is not an amount in euros"),
        (_pack(price_eur="-1"), r"price_eur: '-1' must be a positive amount"),
        (_pack(price_eur="NaN"), r"price_eur: 'NaN' is not an amount"),
        (_pack(points=0), r"ledger\.packs\[0\]\.points: 0 is out of range"),
        (_pack(reference=""), r"ledger\.packs\[0\]\.reference: expected"),
        (_pack(colour="red"), r"ledger\.packs\[0\]\.colour: unknown key"),
    ],
)
def test_invalid_packs_name_the_pack_and_key(pack: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_ledger_config({"packs": [pack]})


def test_a_pack_reference_listed_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"ledger\.packs\[1\]\.reference: 'P1' is listed twice"):
        parse_ledger_config({"packs": [_pack(), _pack()]})


def test_euros_accept_integers_and_spaced_thousands() -> None:
    config = parse_ledger_config({"packs": [_pack(price_eur="1 160.01", price_per_point_eur=3)]})

    assert config.packs.pack("P1").price_eur == Decimal("1160.01")
    assert config.packs.pack("P1").price_per_point_eur == Decimal(3)
