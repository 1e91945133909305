"""A message's record is handed to the writer, and committed, before its Redirect (issue 7,
item 12b); a queued caller's Redirect waits for nothing."""

from __future__ import annotations

import asyncio

from callrouter.routing.decision import Target
from callrouter.routing.service import UNANSWERED, RoutedCall

from .test_service import TUESDAY_22H, FakePBX, Harness, hotline_call


class Store:
    """The writer as the router sees it: what it was given, and the PBX actions sent by
    then; commits when the test says so (or at once)."""

    def __init__(self, pbx: FakePBX, *, at_once: bool) -> None:
        self._pbx = pbx
        self._at_once = at_once
        self.given: list[tuple[RoutedCall, int]] = []
        self.committed: asyncio.Future[None] | None = None

    def __call__(self, routed: RoutedCall) -> asyncio.Future[None]:
        self.given.append((routed, len(self._pbx.actions)))
        self.committed = asyncio.get_running_loop().create_future()
        if self._at_once:
            self.committed.set_result(None)
        return self.committed


def harness_with_store(
    *, pbx: FakePBX | None = None, at_once: bool = True, store_wait: float = 1.0
) -> tuple[Harness, Store]:
    pbx = pbx or FakePBX()
    store = Store(pbx, at_once=at_once)
    harness = Harness(at=TUESDAY_22H, pbx=pbx, store_first=store, store_wait=store_wait)
    return harness, store


async def test_a_message_is_committed_before_its_redirect_is_sent() -> None:
    harness, store = harness_with_store(at_once=False)
    # A 4H caller at night hears that the hotline is closed.
    harness.router.on_event(hotline_call(pass_digit="1"))
    while store.committed is None:
        await asyncio.sleep(0)
    for _ in range(5):
        await asyncio.sleep(0)
        assert harness.pbx.actions == []  # the commit is not there yet
    store.committed.set_result(None)
    await harness.router.wait_idle()

    [(pending, actions_sent)] = store.given
    assert actions_sent == 0
    assert pending.decision.target is Target.CLOSED_MESSAGE
    assert not pending.redirected and pending.error == UNANSWERED
    assert [name for name, _ in harness.pbx.actions][-1] == "Redirect"
    [routed] = harness.records
    # Only the outcome is left to write: the record is the one already committed.
    assert routed.stored and routed.redirected and routed.error is None
    assert routed.decided_at == pending.decided_at
    assert routed.latency_ms >= pending.latency_ms


async def test_a_message_whose_redirect_failed_says_why() -> None:
    harness, store = harness_with_store(pbx=FakePBX(fail="Redirect"))
    [routed] = await harness.route(hotline_call(pass_digit="1"))
    assert len(store.given) == 1
    assert routed.stored and not routed.redirected
    assert routed.error is not None and "Channel does not exist" in routed.error


async def test_a_queued_caller_does_not_wait_for_the_database() -> None:
    harness, store = harness_with_store(at_once=False)
    # Prioritaire at night: the on-call queue, no message.
    [routed] = await harness.route(hotline_call(pass_digit="3"))
    assert routed.decision.target is Target.ONCALL_QUEUE
    assert store.given == []
    assert not routed.stored and routed.redirected


async def test_a_database_too_slow_does_not_keep_the_caller_from_the_message() -> None:
    # The commit never comes within the wait: the message plays; the record stays queued
    # with the writer, so the outcome still completes it.
    harness, store = harness_with_store(at_once=False, store_wait=0.0)
    [routed] = await harness.route(hotline_call(pass_digit="1"))
    assert store.committed is not None and not store.committed.done()
    assert [name for name, _ in harness.pbx.actions][-1] == "Redirect"
    assert routed.stored and routed.redirected


async def test_a_store_that_fails_leaves_the_record_to_the_usual_path() -> None:
    def broken(routed: RoutedCall) -> asyncio.Future[None]:
        raise RuntimeError("writer gone")

    harness = Harness(at=TUESDAY_22H, store_first=broken)
    [routed] = await harness.route(hotline_call(pass_digit="1"))
    assert routed.decision.target is Target.CLOSED_MESSAGE
    assert routed.redirected and not routed.stored
