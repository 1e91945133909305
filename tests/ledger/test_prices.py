"""Every price of the SPEC's table (seeds/000_0e15b6772b2a7f9e.txt), as the ledger debits it."""

from __future__ import annotations

import pytest

from callrouter.ledger.prices import (
    DEFAULT_PRICE_LIST,
    ON_QUOTE,
    AssistanceLevel,
    Classification,
    EmergencyUnavailable,
    points_due,
)
from callrouter.passes import Pass

STANDARD, ADVANCED = AssistanceLevel.STANDARD, AssistanceLevel.ADVANCED


@pytest.mark.parametrize(
    ("level", "pass_", "points"),
    [
        (STANDARD, Pass.FOUR_HOURS, 35),
        (STANDARD, Pass.APPOINTMENT, 50),
        (STANDARD, Pass.PRIORITY, 75),
        (ADVANCED, Pass.FOUR_HOURS, 75),
        (ADVANCED, Pass.APPOINTMENT, 100),
        (ADVANCED, Pass.PRIORITY, 150),
    ],
)
def test_expert_assistance_price_by_level_and_pass(
    level: AssistanceLevel, pass_: Pass, points: int
) -> None:
    assert DEFAULT_PRICE_LIST.price(level=level, pass_=pass_) == points


@pytest.mark.parametrize(
    ("pass_", "points"), [(Pass.FOUR_HOURS, 175), (Pass.APPOINTMENT, 200), (Pass.PRIORITY, 250)]
)
def test_third_party_product_adds_100_to_advanced_assistance(pass_: Pass, points: int) -> None:
    assert DEFAULT_PRICE_LIST.price(level=ADVANCED, pass_=pass_, third_party=True) == points


def test_third_party_surcharge_does_not_apply_to_standard_by_default() -> None:
    assert DEFAULT_PRICE_LIST.price(level=STANDARD, pass_=Pass.FOUR_HOURS, third_party=True) == 35


@pytest.mark.parametrize("level", list(AssistanceLevel))
def test_emergency_costs_100_with_the_priority_pass(level: AssistanceLevel) -> None:
    price = DEFAULT_PRICE_LIST.price(level=level, pass_=Pass.PRIORITY, emergency=True)
    assert price == 100
    with_third_party = DEFAULT_PRICE_LIST.price(
        level=level, pass_=Pass.PRIORITY, emergency=True, third_party=True
    )
    assert with_third_party == 100


@pytest.mark.parametrize("pass_", [Pass.FOUR_HOURS, Pass.APPOINTMENT])
@pytest.mark.parametrize("classification", list(Classification))
def test_emergency_is_not_available_without_the_priority_pass(
    pass_: Pass, classification: Classification
) -> None:
    with pytest.raises(EmergencyUnavailable) as refused:
        DEFAULT_PRICE_LIST.price(
            level=STANDARD, pass_=pass_, emergency=True, classification=classification
        )
    # The API (422 emergency-unavailable) and the CLI show this text as it is.
    assert str(refused.value) == (
        f"emergency assistance is not available with the {pass_.value} pass "
        "(seeds/000: only the Prioritaire pass opens it)"
    )
    assert refused.value.pass_ is pass_


@pytest.mark.parametrize("pass_", list(Pass))
@pytest.mark.parametrize("level", list(AssistanceLevel))
def test_non_attributable_assistance_is_free(pass_: Pass, level: AssistanceLevel) -> None:
    price = DEFAULT_PRICE_LIST.price(
        level=level,
        pass_=pass_,
        third_party=True,
        classification=Classification.NON_ATTRIBUTABLE,
    )
    assert price == 0


@pytest.mark.parametrize("pass_", list(Pass))
def test_on_site_assistance_is_on_quote_and_debits_nothing(pass_: Pass) -> None:
    price = DEFAULT_PRICE_LIST.price(
        level=ADVANCED, pass_=pass_, classification=Classification.ON_SITE
    )
    assert price is ON_QUOTE
    assert points_due(price) == 0
    assert str(price) == "on quote"


def test_points_due_of_a_points_price_is_the_price() -> None:
    assert points_due(150) == 150
