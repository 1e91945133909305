"""Simulated customers call again like people (issue 10, item 5): a served caller stays
away, an unserved one calls back a few times at most, nobody is drawn while on a call."""

from __future__ import annotations

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
