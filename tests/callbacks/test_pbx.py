"""The AMI placer's decisions that need no PBX: what it sends, what it refuses, and what a
reconciliation says of an attempt whose Originate has no answer yet."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from callrouter.ami import AMIActionError, AMIConnectionError, AMIStats, Message
from callrouter.callbacks.pbx import AMIPlacer
from callrouter.callbacks.placing import AttemptRequest, AttemptResult, PlacementFailed
from callrouter.callbacks.rules import Outcome

REQUEST = AttemptRequest(
    attempt_id=12,
    callback_id=3,
    expert_interface="PJSIP/expert7",
    customer_number="0612345678",
    expert_ring_timeout=timedelta(seconds=25),
    customer_ring_timeout=timedelta(seconds=30),
    announcement="callback",
)


@dataclass
class FakeClient:
    """What the placer uses of AMIClient; `channels` is the PBX's CoreShowChannels."""

    connected: bool = True
    logins: int = 1
    answer: Message | Exception = field(
        default_factory=lambda: Message.response(
            "Success", [("Message", "Originate successfully queued")]
        )
    )
    channels: list[Message] = field(default_factory=list)
    sent: list[tuple[str, list[tuple[str, str]], str | None]] = field(default_factory=list)
    getvars: list[str] = field(default_factory=list)

    @property
    def stats(self) -> AMIStats:
        return AMIStats(logins=self.logins)

    def subscribe(self, handler: Callable[[Message], None]) -> Callable[[], None]:
        return lambda: None

    async def send_action(
        self, name: str, headers: Sequence[tuple[str, str]], *, action_id_tag: str | None = None
    ) -> Message:
        self.sent.append((name, list(headers), action_id_tag))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    async def send_list_action(self, name: str) -> list[Message]:
        assert name == "CoreShowChannels"
        return self.channels

    async def send_actions(
        self, actions: Sequence[tuple[str, Sequence[tuple[str, str]]]]
    ) -> list[Message]:
        self.getvars += [dict(headers)["Channel"] for _, headers in actions]
        return [
            Message.response("Success", [("Variable", "CALLBACK_ATTEMPT"), ("Value", "")])
            for _ in actions
        ]


async def ignore(result: AttemptResult) -> None:
    raise AssertionError(f"no result expected, got {result}")


def placer(client: FakeClient) -> AMIPlacer:
    return AMIPlacer(client, ignore)  # type: ignore[arg-type]


async def test_the_originate_rings_the_expert_into_callback_with_the_attempt() -> None:
    client = FakeClient()
    await placer(client).place(REQUEST)

    [(name, headers, tag)] = client.sent
    assert (name, tag) == ("Originate", "callback-12")
    assert headers == [
        ("Channel", "PJSIP/expert7"),
        ("Context", "callback"),
        ("Exten", "0612345678"),
        ("Priority", "1"),
        ("CallerID", '"Rappel 4H" <0612345678>'),
        ("Timeout", "25000"),
        ("Async", "true"),
        ("Variable", "CALLBACK_ATTEMPT=12"),
        ("Variable", "CALLBACK_NUMBER=0612345678"),
        ("Variable", "CALLBACK_ANNOUNCEMENT=callback"),
        ("Variable", "CALLBACK_RING_SECS=30"),
    ]


async def test_nothing_is_sent_while_the_link_is_down() -> None:
    client = FakeClient(connected=False)
    with pytest.raises(PlacementFailed, match="link is down"):
        await placer(client).place(REQUEST)
    assert client.sent == []


async def test_an_originate_the_pbx_refused_was_not_placed() -> None:
    refused = Message.response("Error", [("Message", "Originate failed")])
    client = FakeClient(answer=AMIActionError(refused))
    calls = placer(client)
    with pytest.raises(PlacementFailed, match="refused"):
        await calls.place(REQUEST)
    assert await calls.reconcile([12]) == {12: False}


async def test_an_originate_whose_answer_was_lost_is_left_to_reconciliation() -> None:
    client = FakeClient(answer=AMIConnectionError("the AMI link dropped"))
    calls = placer(client)
    with pytest.raises(AMIConnectionError):
        await calls.place(REQUEST)  # not PlacementFailed: it may ring
    client.logins = 2  # the link came back: the OriginateResponse went with the old one
    assert await calls.reconcile([12]) == {12: False}  # not on the PBX: gone


async def test_an_attempt_sent_on_this_link_and_not_answered_yet_is_under_way() -> None:
    """A reconciliation racing a placement: the PBX may not show the channel yet, but the
    OriginateResponse will come on this link. Saying "gone" would dial another expert
    while this one rings."""
    client = FakeClient()
    calls = placer(client)
    await calls.place(REQUEST)
    assert await calls.reconcile([12]) == {12: True}
    assert client.getvars == []


async def test_getvar_reads_the_first_half_of_local_channels_only() -> None:
    client = FakeClient(
        channels=[
            Message.event("CoreShowChannel", [("Channel", name), ("BridgeId", "")])
            for name in (
                "Local/expert7@experts-00000001;1",
                "Local/expert7@experts-00000001;2",
                "PJSIP/trunk-00000002",
            )
        ]
    )
    assert await placer(client).reconcile([40]) == {40: False}
    assert client.getvars == ["Local/expert7@experts-00000001;1", "PJSIP/trunk-00000002"]


@dataclass
class BridgingWhileAsked(FakeClient):
    """A new process reconciles while the customer answers: the listing still shows the
    expert's channel alone, and both BridgeEnter events arrive while the Getvar that finds
    the attempt is being answered."""

    handlers: list[Callable[[Message], None]] = field(default_factory=list)

    def subscribe(self, handler: Callable[[Message], None]) -> Callable[[], None]:
        self.handlers.append(handler)
        return lambda: None

    async def send_actions(
        self, actions: Sequence[tuple[str, Sequence[tuple[str, str]]]]
    ) -> list[Message]:
        for channel, context in ((EXPERT_CHANNEL, "callback"), (CUSTOMER_CHANNEL, "customers")):
            entered = Message.event(
                "BridgeEnter",
                [("Channel", channel), ("Context", context), ("BridgeUniqueid", "b-1")],
            )
            for handler in self.handlers:
                handler(entered)
        return [
            Message.response("Success", [("Variable", "CALLBACK_ATTEMPT"), ("Value", "12")])
            for _ in actions
        ]


EXPERT_CHANNEL = "Local/expert7@experts-00000001;1"
CUSTOMER_CHANNEL = "Local/0612345678@customers-00000002;1"


async def test_a_bridge_formed_during_the_reconciliation_is_connected_not_failed() -> None:
    """Missing it, the attempt looked unbridged and its hang-up minutes later was recorded
    as failed: a met callback counted as a failure, and dialled again."""
    client = BridgingWhileAsked(
        channels=[Message.event("CoreShowChannel", [("Channel", EXPERT_CHANNEL), ("BridgeId", "")])]
    )
    results: list[AttemptResult] = []

    async def keep(result: AttemptResult) -> None:
        results.append(result)

    calls = AMIPlacer(client, keep)  # type: ignore[arg-type]
    assert await calls.reconcile([12]) == {12: True}
    await asyncio.sleep(0)  # the result is delivered by a task of the placer's
    await calls.close()
    [result] = results
    assert result.outcome is Outcome.CONNECTED and result.connected_at is not None
