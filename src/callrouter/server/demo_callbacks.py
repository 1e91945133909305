"""The demo's Pass 4H story, played through the real services.

The simulated coordinators answer Pass 4H callers; for a seeded share of those calls the
coordinator opens the incident with its callback, as `POST /api/incidents` does (the points
are debited), and the dispatcher has the simulated experts call back through the simulated
PBX (expert's leg, customer's leg, bridge). A callback opened at 17:55 is due the next
business morning, so two callbacks opened by the coordinators this afternoon, before the
demo's clock starts, are seeded with the same service on a clock set to then: one due a
few minutes after the start, which an expert on duty meets, and one for heating (hvac),
whose only expert is away until just after its deadline: it is breached and refunded at its
deadline, then called back late. So the whole story plays within minutes, with the real
4-hour rule.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from aiohttp import web

from callrouter.ami import Message
from callrouter.callbacks.opening import CallbackOpenings, CallbackRequest
from callrouter.callbacks.rules import due_at
from callrouter.clock import FakeClock
from callrouter.errors import CallrouterError
from callrouter.ledger.prices import AssistanceLevel
from callrouter.ledger.service import LedgerService
from callrouter.passes import Pass
from callrouter.routing.decision import Target
from callrouter.routing.service import RoutedCall
from callrouter.server.hotline import HOTLINE, Hotline

log = structlog.get_logger(__name__)

#: Share of the answered Pass 4H calls for which the coordinator opens an incident (the
#: others were solved on the phone).
OPENED_SHARE = 0.8
#: Domains the coordinators pick for the live callbacks (the demo experts' domains; knx,
#: which both cover, the most asked).
LIVE_DOMAINS = ("knx", "knx", "lighting", "hvac", "access-control")
#: Answered calls remembered until their AgentConnect; older ones are dropped first.
_WAITING_KEPT = 500


@dataclass(frozen=True)
class AfternoonCallback:
    """A callback a coordinator opened this afternoon: due `due_in` after the demo starts."""

    caller_id: str
    domain: str
    due_in: timedelta


AFTERNOON_CALLBACKS = (
    AfternoonCallback("0476000001", "hvac", timedelta(minutes=6)),
    AfternoonCallback("0611111111", "knx", timedelta(minutes=8)),
)
#: The only hvac expert is at a training until just after the hvac callback's deadline.
AWAY_EXPERT = "David Moreau"
AWAY_UNTIL = timedelta(minutes=8)
AWAY_REASON = "formation"


class DemoCoordinators:
    """Opens incidents for answered Pass 4H calls. The AMI listener only decides; the
    opening (database work) runs in a task this object owns, never in the listener."""

    def __init__(
        self,
        openings: CallbackOpenings,
        *,
        queue: str,
        default_pass: Pass,
        share: float = OPENED_SHARE,
        seed: int | None = None,
    ) -> None:
        self._openings = openings
        self._queue = queue
        self._default_pass = default_pass
        self._share = share
        self._rng = random.Random(seed)
        #: Uniqueid of a Pass 4H caller sent to the coordinators -> (account, number).
        self._waiting: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def routed(self, routed: RoutedCall) -> None:
        account = routed.caller.account_number
        chosen = routed.chosen_pass or self._default_pass
        if (
            routed.decision.target is not Target.COORDINATORS_QUEUE
            or chosen is not Pass.FOUR_HOURS
            or account is None
            or routed.caller.can_pay is False
            or not routed.call.caller_id
        ):
            return
        self._waiting[routed.call.uniqueid] = (account, routed.call.caller_id)
        while len(self._waiting) > _WAITING_KEPT:
            self._waiting.popitem(last=False)

    def on_event(self, event: Message) -> None:
        if event.name != "AgentConnect" or event.get("Queue") != self._queue:
            return
        uniqueid = event.get("Uniqueid") or ""
        call = self._waiting.pop(uniqueid, None)
        if call is None or self._rng.random() >= self._share:
            return
        domain = self._rng.choice(LIVE_DOMAINS)
        task = asyncio.create_task(self._open(uniqueid, *call, domain), name="demo-4h-incident")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _open(self, uniqueid: str, account: str, number: str, domain: str) -> None:
        try:
            await self._openings.open_incident(
                account,
                level=AssistanceLevel.STANDARD,
                pass_=Pass.FOUR_HOURS,
                idempotency_key=f"demo-4h:{uniqueid}",
                callback=CallbackRequest(domain, number),
                summary=f"Démo : rappel d'un expert {domain}",
            )
        except CallrouterError as error:
            log.info("demo.incident_not_opened", call=uniqueid, reason=str(error))

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def seed_afternoon(hotline: Hotline, start: datetime) -> list[int]:
    """Open AFTERNOON_CALLBACKS as the coordinators did four hours before their deadline,
    and send the hvac expert away until just after it. Only when those four hours were all
    business time (the default start, 17:50 on a working day): otherwise the deadline would
    not fall while the demo is watched, and nothing is seeded."""
    assert hotline.identity is not None and hotline.experts is not None
    config = hotline.config
    policy, windows = config.callbacks.policy, config.calendar_settings.windows
    window = windows[config.callbacks.window]
    if any(
        due_at(policy, window, start + seeded.due_in - policy.guarantee) != start + seeded.due_in
        for seeded in AFTERNOON_CALLBACKS
    ):
        return []
    # Away before the callbacks exist: the dispatcher must not dial the hvac one meanwhile.
    await _send_away(hotline, start - policy.guarantee, start + AWAY_UNTIL)
    # Keyed by the start: a run started at the same instant (the default start, later the
    # same day) finds them opened already instead of opening twins.
    run = f"{start:%Y-%m-%dT%H:%M}"
    created: list[int] = []
    for index, seeded in enumerate(AFTERNOON_CALLBACKS):
        opened_at = start + seeded.due_in - policy.guarantee
        account = (
            await hotline.identity.identify_caller(seeded.caller_id, None, None)
        ).account_number
        if account is None:
            continue
        then = CallbackOpenings(
            LedgerService(hotline.require_sessions(), FakeClock(opened_at), config.ledger),
            config.callbacks,
            windows,
        )
        opened = await then.open_incident(
            account,
            level=AssistanceLevel.STANDARD,
            pass_=Pass.FOUR_HOURS,
            idempotency_key=f"demo-afternoon:{run}:{index}",
            callback=CallbackRequest(seeded.domain, seeded.caller_id),
            summary=f"Démo : rappel d'un expert {seeded.domain}, ouvert cet après-midi",
        )
        if opened.callback_id is not None:
            created.append(opened.callback_id)
    return created


async def _send_away(hotline: Hotline, start: datetime, end: datetime) -> None:
    """AWAY_EXPERT away from `start` to `end`, unless an absence already covers it."""
    assert hotline.experts is not None
    entries = {entry.expert.name: entry for entry in await hotline.experts.entries()}
    entry = entries.get(AWAY_EXPERT)
    if entry is None or any(a.start <= start and a.end >= end for a in entry.absences):
        return
    await hotline.experts.absent(AWAY_EXPERT, start, end, AWAY_REASON)


def demo_callbacks_context(
    start: datetime | None = None, seed: int | None = None
) -> Callable[[web.Application], AsyncIterator[None]]:
    """After the PBX link and the dispatcher: the afternoon's callbacks, then the
    coordinators' openings for as long as the demo runs. The afternoon's deadlines are
    placed after `start`, the instant the demo's clock started (by default now): seeding
    the demo takes a few simulated minutes already."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        hotline = app[HOTLINE]
        openings, dispatcher, client = hotline.callback_openings, hotline.callbacks, hotline.ami
        assert openings is not None and dispatcher is not None and client is not None
        for callback_id in await seed_afternoon(hotline, start or hotline.clock.now()):
            dispatcher.opened(callback_id)
        policy = hotline.config.routing_policy()
        coordinators = DemoCoordinators(
            openings,
            queue=policy.coordinators_queue,
            default_pass=policy.default_pass,
            seed=seed,
        )
        hotline.on_routed.append(coordinators.routed)
        unsubscribe = client.subscribe(coordinators.on_event)
        try:
            yield
        finally:
            unsubscribe()
            with contextlib.suppress(ValueError):
                hotline.on_routed.remove(coordinators.routed)
            await coordinators.close()

    return context
