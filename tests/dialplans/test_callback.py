"""The `[callback]` context callrouter originates the expert's leg into (callbacks/pbx.py):
the expert hears what the call is, then the customer is dialled; the attempt is named on
the AMI so that callrouter ties the legs to it."""

from __future__ import annotations

import pytest

from callrouter.callbacks.legs import ANSWERED_EVENT
from callrouter.callbacks.pbx import (
    ANNOUNCEMENT_VARIABLE,
    ATTEMPT_VARIABLE,
    NUMBER_VARIABLE,
    RING_VARIABLE,
    CallbackDialplan,
)

from .dialplan_model import Dialplan, Step, apps, first, user_event, walk

ORIGINATED = {
    ATTEMPT_VARIABLE: "42",
    NUMBER_VARIABLE: "0612345678",
    ANNOUNCEMENT_VARIABLE: "callback",
    RING_VARIABLE: "25",
}


def test_the_placer_originates_into_this_context(dialplan: Dialplan) -> None:
    context = CallbackDialplan().context
    name, priorities = dialplan.priorities(context, "0612345678")
    assert name == "_X." and priorities


def test_the_expert_is_told_then_the_customer_dialled_through_the_trunk(
    dialplan: Dialplan,
) -> None:
    steps = walk(dialplan, "callback", "0612345678", ORIGINATED, until="Dial")

    event, headers, _ = user_event(first(steps, "UserEvent"))
    assert (event, headers) == (ANSWERED_EVENT, {"Attempt": "42", "Number": "0612345678"})
    assert Step("callback", "0612345678", "Set", "CHANNEL(language)=fr") in steps
    assert first(steps, "Playback").data == "callrouter/annonce-rappel"
    # In this order: tied to the attempt, announced, then the customer rings.
    assert apps(steps).index("UserEvent") < apps(steps).index("Playback")
    dial = steps[-1]
    assert dial.data == "PJSIP/0612345678@hotline-trunk,25"
    assert Step("callback", "0612345678", "Set", "CALLERID(num)=0800100200") in steps


def test_an_appointment_call_has_its_own_announcement(dialplan: Dialplan) -> None:
    variables = ORIGINATED | {ANNOUNCEMENT_VARIABLE: "appointment"}
    steps = walk(dialplan, "callback", "0612345678", variables, until="Dial")

    assert [s.data for s in steps if s.app == "Playback"] == ["callrouter/annonce-rendez-vous"]
    assert steps[-1].data.startswith("PJSIP/0612345678@hotline-trunk,")


def test_without_a_ring_time_from_callrouter_the_dialplans_default_applies(
    dialplan: Dialplan,
) -> None:
    variables = {k: v for k, v in ORIGINATED.items() if k != RING_VARIABLE}
    steps = walk(dialplan, "callback", "0612345678", variables, until="Dial")

    assert steps[-1].data == "PJSIP/0612345678@hotline-trunk,30"


@pytest.mark.parametrize(
    ("tech", "route", "dialled"),
    [
        ("Local/", "@customers", "Local/0612345678@customers"),
        ("PJSIP/", "@sip-out", "PJSIP/0612345678@sip-out"),
    ],
)
def test_the_customers_dial_string_is_set_in_globals(
    dialplan: Dialplan, tech: str, route: str, dialled: str
) -> None:
    variables = ORIGINATED | {"HOTLINE_CALLBACK_TECH": tech, "HOTLINE_CALLBACK_ROUTE": route}
    steps = walk(dialplan, "callback", "0612345678", variables, until="Dial")

    assert steps[-1].data == f"{dialled},25"


def test_the_call_ends_when_the_dial_returns(dialplan: Dialplan) -> None:
    steps = walk(dialplan, "callback", "0612345678", ORIGINATED)

    assert apps(steps)[-2:] == ["Dial", "Hangup"]
