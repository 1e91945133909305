"""The leg tracker fed the bytes Asterisk 22.10.1 sent during shared/ami-traces 05, read
by read, each read stamped with its time in the timeline.

Each Originate a-00N of the trace stands for attempt N: the tracker expects it when the
trace sent it, and must tell each attempt's outcome once, with the times of its legs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import TRACES_DIR

from callrouter.ami import AMIParser, Message
from callrouter.callbacks.legs import LegTracker
from callrouter.callbacks.placing import AttemptResult
from callrouter.callbacks.rules import Outcome

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TRACE = "05-originate-callback"


@dataclass
class Replay:
    results: dict[int, list[AttemptResult]]
    #: Every event read, with the time of the read that brought it.
    events: list[tuple[datetime, Message]]

    def index(self, name: str, **headers: str) -> int:
        for i, (_, message) in enumerate(self.events):
            if message.name == name and all(message.get(k) == v for k, v in headers.items()):
                return i
        raise AssertionError(f"no {name} {headers} in the trace")

    def when(self, name: str, **headers: str) -> datetime:
        return self.events[self.index(name, **headers)][0]


def _attempt_of(action_id: str) -> int | None:
    return int(action_id.removeprefix("a-")) if action_id.startswith("a-") else None


def replay(tracker: LegTracker) -> Replay:
    raw = (TRACES_DIR / f"{TRACE}.ami").read_bytes()
    timeline = [json.loads(line) for line in (TRACES_DIR / f"{TRACE}.timeline.jsonl").open()]
    parser = AMIParser()
    replayed = Replay({}, [])
    for entry in timeline:
        at = START + timedelta(seconds=entry["t"])
        if entry["dir"] == "send" and entry["action"] == "Originate":
            attempt = _attempt_of(entry["actionid"])
            assert attempt is not None
            if attempt != 9:  # a-009 is synchronous: no OriginateResponse, not a callback
                tracker.expect(attempt)
        if entry["dir"] != "recv":
            continue
        for message in parser.feed(raw[entry["off"] : entry["off"] + entry["len"]]):
            replayed.events.append((at, message))
            for result in tracker.feed(message, at):
                replayed.results.setdefault(result.attempt_id, []).append(result)
    return replayed


@pytest.fixture(scope="module")
def traced() -> tuple[LegTracker, Replay]:
    tracker = LegTracker(attempt_of=_attempt_of)
    return tracker, replay(tracker)


def test_every_attempt_gets_exactly_one_result(traced: tuple[LegTracker, Replay]) -> None:
    tracker, replayed = traced
    assert {k: [r.outcome for r in v] for k, v in replayed.results.items()} == {
        2: [Outcome.CONNECTED],
        3: [Outcome.CUSTOMER_NO_ANSWER],
        4: [Outcome.CUSTOMER_BUSY],
        5: [Outcome.EXPERT_NO_ANSWER],
        6: [Outcome.EXPERT_BUSY],
        7: [Outcome.FAILED],
        8: [Outcome.FAILED],
    }
    # Nothing is kept once every attempt is told.
    assert tracker.in_flight() == []
    assert tracker._legs == {} and tracker._bridge_size == {} and tracker._leg_in_bridge == {}


def test_success_is_connected_at_the_bridge_of_both_legs(
    traced: tuple[LegTracker, Replay],
) -> None:
    _, replayed = traced
    [result] = replayed.results[2]
    expert = "Local/agent1@agents-00000000;1"
    customer = "Local/0612345678@customers-00000001;1"
    assert result.expert_answered_at == replayed.when("OriginateResponse", ActionID="a-002")
    assert result.customer_answered_at == replayed.when(
        "DialEnd", Channel=expert, DestChannel=customer
    )
    # The expert's channel enters the bridge last: then, and not before, the two talk.
    assert result.connected_at == replayed.when("BridgeEnter", Channel=expert)
    assert result.ended_at is None
    # Fed up to the customer's BridgeEnter only: not yet connected.
    early = LegTracker(attempt_of=_attempt_of)
    early.expect(2)
    told = []
    for at, message in replayed.events:
        told += early.feed(message, at)
        if message.name == "BridgeEnter" and message.get("Channel") == customer:
            break
    assert told == []


def test_customer_no_answer_and_busy_end_with_the_experts_leg(
    traced: tuple[LegTracker, Replay],
) -> None:
    _, replayed = traced
    [no_answer] = replayed.results[3]
    assert no_answer.expert_answered_at == replayed.when("OriginateResponse", ActionID="a-003")
    assert no_answer.customer_answered_at is None and no_answer.connected_at is None
    assert no_answer.ended_at == replayed.when("Hangup", Channel="Local/agent2@agents-00000002;1")
    [busy] = replayed.results[4]
    # Its OriginateResponse came after the customer's DialBegin: the facts were kept.
    assert busy.expert_answered_at == replayed.when("OriginateResponse", ActionID="a-004")
    assert replayed.index("OriginateResponse", ActionID="a-004") > replayed.index(
        "DialBegin", Channel="Local/agent2@agents-00000004;1"
    )
    assert busy.ended_at == replayed.when("Hangup", Channel="Local/agent2@agents-00000004;1")


@pytest.mark.parametrize("attempt", [5, 6, 7, 8])
def test_the_experts_leg_failing_ends_at_its_originate_response(
    traced: tuple[LegTracker, Replay], attempt: int
) -> None:
    _, replayed = traced
    [result] = replayed.results[attempt]
    assert result.expert_answered_at is None and result.customer_answered_at is None
    assert result.connected_at is None
    assert result.ended_at == replayed.when("OriginateResponse", ActionID=f"a-00{attempt}")


def test_attempts_not_expected_are_not_reported() -> None:
    """Another process's callbacks (or ours from before a restart, not yet resumed)."""
    tracker = LegTracker(attempt_of=_attempt_of)
    tracker.expect(3)
    replayed = replay(LegTracker(attempt_of=lambda _: None))
    results = [r for at, m in replayed.events for r in tracker.feed(m, at)]
    assert [r.attempt_id for r in results] == [3]
    assert tracker._legs == {}
