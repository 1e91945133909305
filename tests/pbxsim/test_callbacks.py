"""Callbacks in the simulator as callrouter places them (callbacks/pbx.py): the expert's leg
into our `[callback]`, the announcement, the customer's leg, answer / no answer / busy per
endpoint; the experts' queue status follows their phone. Followed by the real leg tracker,
on virtual time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callrouter.ami import Message
from callrouter.callbacks.legs import ANSWERED_EVENT, LegTracker, action_id_tag
from callrouter.callbacks.placing import AttemptResult
from callrouter.callbacks.rules import Outcome
from callrouter.errors import ConfigError
from callrouter.pbxsim.calls import OriginateRequest
from callrouter.pbxsim.settings import DEFAULT_PROMPTS

from .harness import Harness

EXPERT = "Local/agent3@agents"  # Chloé Bernard, of the experts queue


def placed(
    attempt: int, customer: str, announcement: str = "callback", expert: str = EXPERT
) -> OriginateRequest:
    return OriginateRequest(
        expert,
        context="callback",
        exten=customer,
        caller_id=f'"Rappel 4H" <{customer}>',
        timeout=20.0,
        variables=(
            ("CALLBACK_ATTEMPT", str(attempt)),
            ("CALLBACK_NUMBER", customer),
            ("CALLBACK_ANNOUNCEMENT", announcement),
            ("CALLBACK_RING_SECS", "20"),
        ),
        action_id=f"cr-1-{action_id_tag(attempt)}",
    )


class Stamped(Harness):
    """The harness, each event read with its model time."""

    def __init__(self, **overrides: object) -> None:
        super().__init__(**overrides)
        self.stamped: list[tuple[datetime, Message]] = []
        self.model.subscribe(
            lambda e: self.stamped.append((datetime.fromtimestamp(self.clock.now(), UTC), e))
        )

    def results(self, *attempts: int, seconds: float = 60.0) -> list[AttemptResult]:
        tracker = LegTracker()
        for attempt in attempts:
            tracker.expect(attempt)
        self.clock.advance(seconds)
        return [r for at, e in self.stamped for r in tracker.feed(e, at)]


def index(sim: Harness, name: str, **headers: str) -> int:
    message = sim.named(name, **headers)[0]
    return next(i for i, e in enumerate(sim.events) if e is message)


def test_the_expert_hears_the_callback_then_the_customer_is_dialled_and_bridged() -> None:
    sim = Stamped()
    sim.model.originate(placed(42, "0612345678"))
    [answered] = sim.results(42)

    assert answered.outcome is Outcome.CONNECTED
    [told] = sim.named("UserEvent", UserEvent=ANSWERED_EVENT)
    expert_channel = told["Channel"]
    assert (told["Attempt"], told["Number"]) == ("42", "0612345678")
    assert told["Context"] == "callback"
    # Answered, tied to the attempt, announced (its sound's length), then the customer.
    response = index(sim, "OriginateResponse", ActionID="cr-1-callback-42")
    dialled = index(sim, "DialBegin", Channel=expert_channel)
    assert response < sim.events.index(told) < dialled
    assert answered.customer_answered_at is not None and answered.expert_answered_at is not None
    announced = (answered.customer_answered_at - answered.expert_answered_at).total_seconds()
    assert announced == pytest.approx(DEFAULT_PROMPTS["callrouter/annonce-rappel"] + 2.0)


def test_the_originates_variables_are_on_the_experts_channel_for_getvar() -> None:
    sim = Harness()
    sim.model.originate(placed(7, "0612345678"))
    sim.clock.advance(3.0)
    one, two = (f"{EXPERT}-00000000;{half}" for half in (1, 2))
    assert sim.model.getvar(one, "CALLBACK_ATTEMPT") == (None, "7")
    assert sim.model.getvar(two, "CALLBACK_ANNOUNCEMENT") == (None, "callback")


def test_an_appointment_call_plays_its_own_announcement() -> None:
    sim = Stamped()
    sim.model.originate(placed(8, "0612345678", announcement="appointment"))
    [result] = sim.results(8)
    assert result.customer_answered_at is not None and result.expert_answered_at is not None
    announced = (result.customer_answered_at - result.expert_answered_at).total_seconds()
    assert announced == pytest.approx(DEFAULT_PROMPTS["callrouter/annonce-rendez-vous"] + 2.0)


@pytest.mark.parametrize(
    ("expert", "customer", "outcome"),
    [
        (EXPERT, "0699000001", Outcome.CUSTOMER_NO_ANSWER),
        (EXPERT, "0698000001", Outcome.CUSTOMER_BUSY),
        ("Local/noanswer@agents", "0612345678", Outcome.EXPERT_NO_ANSWER),
        ("Local/busy@agents", "0612345678", Outcome.EXPERT_BUSY),
        ("PJSIP/expert7", "0612345678", Outcome.FAILED),
    ],
)
def test_each_endpoint_answers_like_the_lab(expert: str, customer: str, outcome: Outcome) -> None:
    sim = Stamped()
    sim.model.originate(placed(3, customer, expert=expert))
    [result] = sim.results(3)
    assert result.outcome is outcome


def test_who_never_answers_and_who_is_busy_are_settings() -> None:
    sim = Stamped(endpoints=(("customers", r"06123\d{5}", "busy"), ("agents", r"agent3", "never")))
    sim.model.originate(placed(1, "0612345678", expert="Local/agent4@agents"))
    sim.model.originate(placed(2, "0699000001", expert="Local/agent1@agents"))
    sim.model.originate(placed(3, "0699000001", expert=EXPERT))
    outcomes = {r.attempt_id: r.outcome for r in sim.results(1, 2, 3)}
    assert outcomes == {
        1: Outcome.CUSTOMER_BUSY,
        2: Outcome.CONNECTED,  # the lab's never-answering numbers are no longer listed
        3: Outcome.EXPERT_NO_ANSWER,
    }


@pytest.mark.parametrize(
    "endpoint", [("customers", r"0699\d{6}", "sometimes"), ("customers", r"0699(", "busy")]
)
def test_an_endpoint_setting_that_means_nothing_is_refused(endpoint: tuple[str, str, str]) -> None:
    with pytest.raises(ConfigError, match="pbxsim endpoint"):
        Harness(endpoints=(endpoint,))


def test_the_experts_queue_status_follows_the_callback() -> None:
    sim = Harness()
    sim.model.originate(placed(5, "0612345678"))
    sim.clock.advance(3.0)

    def statuses() -> list[str | None]:
        member = {"Queue": "experts", "Interface": EXPERT}
        return [e.get("Status") for e in sim.named("QueueMemberStatus", **member)]

    during = statuses()
    assert during and during[-1] != "1"  # not free while the callback rings and talks
    assert sim.model.hangup(f"{EXPERT}-00000000;1") is None
    sim.clock.advance(1.0)
    assert statuses()[-1] == "1"  # free again
