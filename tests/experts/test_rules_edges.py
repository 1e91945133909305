"""Experts' rules at their edges: the refusals staff read, word for word.

The experts' directory hands these messages to the coordinator who added the expert or
the absence (as the API error's message), so their text is behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from callrouter.calendar import PARIS, HotlineCalendar
from callrouter.experts.rules import Absence, Expert, ExpertRuleError, on_duty_throughout

HOURS = HotlineCalendar.default().coordinators
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=PARIS)
HOUR = timedelta(hours=1)


def _expert(interface: str = "PJSIP/expert7") -> Expert:
    return Expert("chloe", interface, frozenset({"knx"}), HOURS)


@pytest.mark.parametrize(
    ("refused", "message"),
    [
        (
            lambda: _expert("expert7"),
            "expert 'chloe': interface 'expert7' is not a PBX dial string"
            " such as PJSIP/expert7 or Local/expert7@experts",
        ),
        (
            lambda: Absence(NOON.replace(tzinfo=None), NOON + HOUR),
            "an absence needs timezone-aware start and end",
        ),
        (lambda: Absence(NOON, NOON), "an absence ends after it starts"),
        (
            lambda: on_duty_throughout(_expert(), NOON, NOON - HOUR),
            "a stretch of duty ends after it starts",
        ),
    ],
)
def test_a_refusal_says_what_to_fix(refused: Callable[[], object], message: str) -> None:
    with pytest.raises(ExpertRuleError) as caught:
        refused()
    assert str(caught.value) == message
