"""Simulated customers call again like people (issue 10, item 5): a served caller stays
away, an unserved one calls back a few times at most, nobody is drawn while on a call."""

from __future__ import annotations

import random
from collections import Counter

from callrouter.pbxsim.callers import CallerMemory, RedialRules


def test_a_served_caller_does_not_call_straight_back() -> None:
    memory = CallerMemory(RedialRules(served_away=3600.0))
    memory.called("0611")

    assert not memory.idle("0611", 0.0)  # on the line: not drawn again
    assert memory.hung_up("0611", served=True, now=10.0, retry_in=60.0) is None
    assert not memory.idle("0611", 10.0 + 3599.0)
    assert memory.idle("0611", 10.0 + 3600.0)


def test_a_refused_caller_retries_a_few_times_then_gives_up() -> None:
    memory = CallerMemory(RedialRules(retries=3, gave_up_away=7200.0))
    now, callbacks = 0.0, []
    for _ in range(5):
        memory.called("0622")
        again = memory.hung_up("0622", served=False, now=now, retry_in=120.0)
        if again is None:
            break
        callbacks.append(again)
        now = again

    assert callbacks == [120.0, 240.0, 360.0]  # three retries, then no more
    assert not memory.idle("0622", 360.0 + 7199.0)
    assert memory.idle("0622", 360.0 + 7200.0)


def test_being_served_resets_the_retries() -> None:
    memory = CallerMemory(RedialRules(retries=1))
    memory.called("0633")
    assert memory.hung_up("0633", served=False, now=0.0, retry_in=60.0) == 60.0
    memory.called("0633")
    assert memory.hung_up("0633", served=True, now=60.0, retry_in=60.0) is None
    assert "0633" not in memory.unserved


def free_by_definition(memory: CallerMemory, callers: list[str], now: float) -> set[str]:
    return {caller for caller in callers if memory.idle(caller, now)}


def test_a_draw_is_among_the_free_customers_whatever_happened_to_them() -> None:
    # Random calls, hang-ups (served or not) and time passing: every draw is a customer
    # free at that moment, each free one can come out, and none is drawn once all are
    # busy or away.
    rng = random.Random(5)
    callers = [f"07{index:08d}" for index in range(12)]
    memory = CallerMemory(RedialRules(served_away=50.0, retries=2, gave_up_away=80.0))
    memory.track(callers, 0.0)
    now = 0.0
    for _ in range(400):
        now += rng.uniform(0.0, 5.0)
        free = free_by_definition(memory, callers, now)
        drawn = {memory.draw(rng, now) for _ in range(60)}
        assert drawn == (free or {None})
        if free and rng.random() < 0.6:
            memory.called(rng.choice(sorted(free)))
        busy = sorted(memory.in_call)
        if busy and rng.random() < 0.5:
            memory.hung_up(
                rng.choice(busy), served=rng.random() < 0.5, now=now, retry_in=rng.uniform(5, 20)
            )


def test_each_free_customer_is_as_likely_as_the_others() -> None:
    memory = CallerMemory()
    callers = [f"07{index:08d}" for index in range(10)]
    memory.track(callers, 0.0)
    for caller in callers[:5]:
        memory.called(caller)
    rng = random.Random(9)
    draws = Counter(memory.draw(rng, 0.0) for _ in range(50_000))
    assert set(draws) == set(callers[5:])
    assert all(9_400 <= count <= 10_600 for count in draws.values())
