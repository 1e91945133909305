"""The `CallPlacer` over AMI: an async Originate of the expert's leg into our `[callback]`
context (dialplans/extensions.conf), which announces the callback and dials the customer.

The Originate is sent once and never again: its ActionID ends with `callback-<attempt id>`
and the attempt's channel carries `CALLBACK_ATTEMPT`, so after a reconnection or a restart
`reconcile` finds the call on the PBX (one CoreShowChannels, then Getvar on the channels it
does not already know) instead of dialling it again.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from callrouter.ami import AMIActionError, AMIClient, Message
from callrouter.callbacks.legs import LegTracker, action_id_tag
from callrouter.callbacks.placing import (
    AttemptRequest,
    AttemptResult,
    PlacementFailed,
    ResultHandler,
)
from callrouter.clock import Clock, SystemClock

log = structlog.get_logger(__name__)

#: Channel variables set by the Originate and read by the `[callback]` context.
ATTEMPT_VARIABLE = "CALLBACK_ATTEMPT"
NUMBER_VARIABLE = "CALLBACK_NUMBER"
ANNOUNCEMENT_VARIABLE = "CALLBACK_ANNOUNCEMENT"
RING_VARIABLE = "CALLBACK_RING_SECS"

#: Getvar actions written at once while looking for attempts on the PBX.
_GETVAR_BATCH = 100


@dataclass(frozen=True)
class CallbackDialplan:
    """Where our dialplan takes the expert's channel once answered."""

    context: str = "callback"
    #: What the expert's phone shows while it rings.
    caller_name: str = "Rappel 4H"


class AMIPlacer:
    """Places callback attempts and tells each outcome once through `on_result`."""

    def __init__(
        self,
        client: AMIClient,
        on_result: ResultHandler,
        *,
        clock: Clock | None = None,
        dialplan: CallbackDialplan | None = None,
    ) -> None:
        self._client = client
        self._on_result = on_result
        self._clock = clock or SystemClock()
        self._dialplan = dialplan or CallbackDialplan()
        self._tracker = LegTracker(contexts=frozenset({self._dialplan.context}))
        self._tasks: set[asyncio.Task[None]] = set()
        #: Attempt -> the login (count) its Originate went out on, until its outcome.
        self._sent_on: dict[int, int] = {}
        self._unsubscribe = client.subscribe(self._on_event)

    async def place(self, request: AttemptRequest) -> None:
        if not self._client.connected:
            raise PlacementFailed("the PBX link is down")
        attempt_id = request.attempt_id
        ring_secs = max(1, round(request.customer_ring_timeout.total_seconds()))
        headers = [
            ("Channel", request.expert_interface),
            ("Context", self._dialplan.context),
            ("Exten", request.customer_number),
            ("Priority", "1"),
            ("CallerID", f'"{self._dialplan.caller_name}" <{request.customer_number}>'),
            ("Timeout", str(round(request.expert_ring_timeout.total_seconds() * 1000))),
            ("Async", "true"),
            ("Variable", f"{ATTEMPT_VARIABLE}={attempt_id}"),
            ("Variable", f"{NUMBER_VARIABLE}={request.customer_number}"),
            ("Variable", f"{ANNOUNCEMENT_VARIABLE}={request.announcement}"),
            ("Variable", f"{RING_VARIABLE}={ring_secs}"),
        ]
        self._tracker.expect(attempt_id)
        self._sent_on[attempt_id] = self._client.stats.logins
        try:
            await self._client.send_action(
                "Originate", headers, action_id_tag=action_id_tag(attempt_id)
            )
        except AMIActionError as error:
            self._tracker.forget(attempt_id)
            self._sent_on.pop(attempt_id, None)
            raise PlacementFailed(f"the PBX refused the Originate: {error}") from error
        # Any other error: the Originate was written, its fate is unknown; the attempt stays
        # tracked and open until its events or a reconciliation settle it.

    async def reconcile(self, attempt_ids: Sequence[int]) -> dict[int, bool]:
        # Followed from before the listing: a bridge formed while the listing and the
        # Getvars are answered is in no answer, only in the events of that moment.
        for attempt_id in attempt_ids:
            self._tracker.expect(attempt_id)
        listed = await self._client.send_list_action("CoreShowChannels")
        bridge_of = {m["Channel"]: m.get("BridgeId") or "" for m in listed if m.get("Channel")}
        found: dict[int, str] = {}
        for attempt_id in attempt_ids:
            channel = self._tracker.channel_of(attempt_id)
            if channel is not None and channel in bridge_of:
                found[attempt_id] = channel
        login = self._client.stats.logins
        # Sent on this very link and not answered yet: its OriginateResponse is still to
        # come here (its channel may not exist yet), so it is under way, not gone.
        pending = {
            a
            for a in attempt_ids
            if self._sent_on.get(a) == login and self._tracker.channel_of(a) is None
        }
        missing = set(attempt_ids) - found.keys() - pending
        if missing:
            found |= await self._find(missing, [c for c in bridge_of if c not in found.values()])
        in_bridge = Counter(bridge for bridge in bridge_of.values() if bridge)
        now = self._clock.now()
        up: dict[int, bool] = {}
        for attempt_id in attempt_ids:
            channel = found.get(attempt_id)
            up[attempt_id] = channel is not None or attempt_id in pending
            if channel is None:
                if attempt_id not in pending:
                    self._tracker.forget(attempt_id)
                    self._sent_on.pop(attempt_id, None)
                continue
            bridged = in_bridge[bridge_of[channel]] >= 2 if bridge_of[channel] else False
            for result in self._tracker.resume(attempt_id, channel, bridged=bridged, at=now):
                self._report(result)
        log.info("callbacks.legs.reconciled", asked=len(attempt_ids), up=sum(up.values()))
        return up

    async def close(self) -> None:
        self._unsubscribe()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _find(self, attempt_ids: set[int], channels: list[str]) -> dict[int, str]:
        """Which of these channels carry one of the attempts. The `;2` half of a Local
        channel has the Originate's variables too, but the `;1` half runs [callback]."""
        candidates = [c for c in channels if not c.endswith(";2")]
        found: dict[int, str] = {}
        for start in range(0, len(candidates), _GETVAR_BATCH):
            batch = candidates[start : start + _GETVAR_BATCH]
            answers = await self._client.send_actions(
                [("Getvar", [("Channel", c), ("Variable", ATTEMPT_VARIABLE)]) for c in batch]
            )
            for channel, answer in zip(batch, answers, strict=True):
                # A channel gone since the listing answers an error: not ours anyway.
                value = answer.get("Value") if isinstance(answer, Message) else None
                if value and value.isdigit() and int(value) in attempt_ids:
                    found[int(value)] = channel
        return found

    def _on_event(self, message: Message) -> None:
        for result in self._tracker.feed(message, self._clock.now()):
            self._report(result)

    def _report(self, result: AttemptResult) -> None:
        self._sent_on.pop(result.attempt_id, None)
        log.info("callbacks.legs.result", attempt=result.attempt_id, outcome=result.outcome.value)
        task = asyncio.create_task(self._deliver(result), name="callback-result")
        self._tasks.add(task)
        task.add_done_callback(self._reported)

    async def _deliver(self, result: AttemptResult) -> None:
        await self._on_result(result)

    def _reported(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("callbacks.legs.result_failed", exc_info=task.exception())
