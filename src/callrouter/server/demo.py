"""`callrouter demo`: the PBX simulator, demo accounts and inbound traffic around the router.

A newcomer runs one command and watches calls arrive, get routed, answered and abandoned,
by day and, on the simulated clock, across the 18:00 hand-over to the on-call technicians.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import structlog
from aiohttp import web

from callrouter.accounts.operators import OperatorError, OperatorService
from callrouter.appointments.demo import seed_demo_appointments
from callrouter.appointments.queries import AppointmentFilter
from callrouter.appointments.view import SHOWN, render_appointments
from callrouter.calendar import Window, is_open
from callrouter.callbacks.queries import CallbackQueries
from callrouter.http.access import Role
from callrouter.identity.errors import BeneficiaryExists
from callrouter.identity.service import IdentityService
from callrouter.ledger.service import LedgerService
from callrouter.oncall.roster import Layer
from callrouter.oncall.service import RosterService
from callrouter.pbxsim import CallerProfile, PBXSimulator, SimulatorSettings
from callrouter.server.demo_callbacks import demo_callbacks_context
from callrouter.server.hotline import ENGINE, HOTLINE, Hotline, PBXLink
from callrouter.server.runtime import build_app
from callrouter.server.view import (
    render_callbacks,
    render_escalations,
    render_oncall,
    render_queues,
    summary_line,
)

log = structlog.get_logger(__name__)

#: An appointment stays on screen this long after its start: the expert's call is
#: guaranteed within the quarter hour (seeds/000, Pass RDV).
APPOINTMENT_GRACE = timedelta(minutes=15)
#: A callback met, breached or closed stays on screen this long (simulated time).
CALLBACK_GRACE = timedelta(minutes=30)
#: Callbacks listed on screen at most.
CALLBACKS_SHOWN = 8


@dataclass(frozen=True)
class DemoCustomer:
    """A seeded customer: who calls, from which number, which pass, with how many points."""

    holder: str
    caller_id: str
    pin: str
    points: int
    pass_digit: str
    #: Calls from an unlisted number: the caller keys account number and PIN.
    keys_pin: bool = False
    #: The first PIN keyed is wrong (shows the retry).
    fumbles_pin: bool = False


DEMO_CUSTOMERS: tuple[DemoCustomer, ...] = (
    DemoCustomer("Jean Dupont", "0612345678", "240517", 500, "1"),
    DemoCustomer("Claire Lefèvre", "0611111111", "903114", 1000, "3"),
    DemoCustomer("Hôtel des Alpes", "0476000001", "118822", 200, "2"),
    DemoCustomer("Mairie de Voiron", "0476000002", "775301", 150, "3"),
    DemoCustomer("Atelier Morel", "0622222222", "640028", 20, "3"),
    DemoCustomer("Sophie Garnier", "0633333333", "315690", 100, "1", keys_pin=True),
    DemoCustomer("Karim Haddad", "0644444444", "482213", 300, "3", keys_pin=True, fumbles_pin=True),
    # Pass 4H callers, enough of them to see callbacks while the coordinators are open
    # (a caller who was served stays away for the day).
    DemoCustomer("Garage Fontaine", "0645454545", "571204", 200, "1"),
    DemoCustomer("Pharmacie Roche", "0656565656", "830917", 150, "1"),
    # 0699...: the lab's number that never answers (pbxsim LAB_ENDPOINTS): the callback
    # is tried again later.
    DemoCustomer("Cabinet Vasseur", "0699000017", "262548", 300, "1"),
)

#: Callers the hotline does not know: they hear the refusal message.
UNKNOWN_CALLERS: tuple[CallerProfile, ...] = (
    CallerProfile(caller_id="0655555555", name="Numéro inconnu"),
    CallerProfile(caller_id="0766666666", name="Démarcheur", account="12345678", pins=("0000",)),
)

DEMO_IDEMPOTENCY_PREFIX = "demo-seed"

#: The demo's supervisor, who signs in to the console (a new key each run).
DEMO_SUPERVISOR = "Sam Superviseur"
#: Lines shown under the live screen: how to open the console (once the demo supervisor's
#: key is issued) and the metrics.
SCREEN_FOOTER = web.AppKey("screen_footer", list[str])

#: The demo's staff: four coordinators by day, two experts; at night the on-call queue has
#: the roster's team, which callrouter adds (DEMO_ONCALL_PEOPLE).
DEMO_QUEUES: dict[str, list[tuple[str, str]]] = {
    "coordinators": [
        ("Local/agent1@agents", "Alice Martin"),
        ("Local/agent2@agents", "Bruno Petit"),
        ("Local/agent6@agents", "Camille Roux"),
        ("Local/agent7@agents", "Damien Faure"),
    ],
    "experts": [
        ("Local/agent3@agents", "Chloe Bernard"),
        ("Local/agent4@agents", "David Moreau"),
    ],
    "oncall": [],
}


async def seed_customers(identity: IdentityService, ledger: LedgerService) -> list[CallerProfile]:
    """Create the demo accounts once (re-runs reuse them) and return the callers' profiles."""
    profiles: list[CallerProfile] = []
    for customer in DEMO_CUSTOMERS:
        number = (await identity.identify_caller(customer.caller_id, None, None)).account_number
        if number is None:
            account = await identity.create_account(customer.holder, pin=customer.pin)
            number = account.number
            with contextlib.suppress(BeneficiaryExists):
                await identity.add_beneficiary(number, customer.holder, customer.caller_id)
            await ledger.credit(
                number,
                customer.points,
                reason="demo seed",
                idempotency_key=f"{DEMO_IDEMPOTENCY_PREFIX}:{number}",
            )
        pins = ("000000", customer.pin) if customer.fumbles_pin else (customer.pin,)
        profiles.append(
            CallerProfile(
                # An unlisted number: the beneficiary's caller ID is not shown, so the
                # caller keys the account number and PIN.
                caller_id=("07" + customer.caller_id[2:])
                if customer.keys_pin
                else customer.caller_id,
                name=customer.holder,
                account=number if customer.keys_pin else "",
                pins=pins if customer.keys_pin else (),
                pass_digit=customer.pass_digit,
            )
        )
    return [*profiles, *UNKNOWN_CALLERS]


#: The demo's on-call roster (mobiles, through the simulated trunk): two technicians take
#: turns daily at 18:00, each the other's second; a manager above them, weekly from Monday.
DEMO_ONCALL_PEOPLE = (
    ("Emma Laurent", "0600000005"),
    ("Hugo Lefevre", "0600000008"),
    ("Sophie Marchand", "0600000009"),
)


async def seed_roster(roster: RosterService, today: date) -> None:
    """Set the demo roster once (re-runs keep whatever is there, changes included)."""
    if (await roster.roster()).rotations:
        return
    known = {person.name for person in await roster.people()}
    for name, contact in DEMO_ONCALL_PEOPLE:
        if name not in known:
            await roster.add_person(name, contact)
    first, second, manager = (name for name, _ in DEMO_ONCALL_PEOPLE)
    for layer, people, days, at in (
        (Layer.PRIMARY, [first, second], 1, time(18)),
        (Layer.SECONDARY, [second, first], 1, time(18)),
        (Layer.MANAGER, [manager], 7, time(8)),
    ):
        monday = today - timedelta(days=today.weekday())
        await roster.set_rotation(
            layer, people, shift_days=days, handoff_at=at, first_handoff=monday
        )


def default_demo_start(now_local: datetime, coordinators: Window) -> datetime:
    """17:50 on the latest working day (weekends and public holidays skipped): ten minutes
    of daytime routing, then the night hand-over."""
    day = now_local.date()
    while not is_open(coordinators, datetime.combine(day, time(12, 0), tzinfo=now_local.tzinfo)):
        day -= timedelta(days=1)
    return datetime.combine(day, time(17, 50), tzinfo=now_local.tzinfo)


def build_demo_app(
    hotline: Hotline,
    settings: SimulatorSettings,
    calls_per_second: float,
    *,
    interactive: bool,
    screen: bool = True,
    console_url: str | None = None,
    footer: Sequence[str] = (),
    start: datetime | None = None,
) -> web.Application:
    """The hotline app around a simulator with traffic from the seeded customers.
    `start`: when the demo's clock started (the Pass 4H story is timed from it)."""
    app = build_app(hotline, extra_contexts=[simulator_context(settings, calls_per_second)])
    app[SCREEN_FOOTER] = list(footer)
    app.cleanup_ctx.append(demo_callbacks_context(start=start, seed=settings.seed))
    if console_url is not None and hotline.console is not None:
        app.cleanup_ctx.append(demo_supervisor_context(console_url))
    if screen:
        app.cleanup_ctx.append(screen_context(interactive=interactive))
    return app


def simulator_context(
    settings: SimulatorSettings, calls_per_second: float
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        hotline = app[HOTLINE]
        simulator = PBXSimulator(settings)
        await simulator.start()
        # The router connects to wherever the simulator listens (port 0 = any free port).
        hotline.pbx = PBXLink(settings.host, simulator.port, settings.username, settings.secret)
        assert hotline.identity is not None and hotline.ledger is not None
        profiles = await seed_customers(hotline.identity, hotline.ledger)
        assert hotline.experts is not None and hotline.appointments is not None
        await seed_demo_appointments(
            hotline.experts, hotline.identity, hotline.appointments, hotline.clock
        )
        assert hotline.oncall is not None
        zone = hotline.config.calendar_settings.timezone
        await seed_roster(hotline.oncall, hotline.clock.now().astimezone(zone).date())
        simulator.start_traffic(calls_per_second, profiles)
        log.info(
            "demo.traffic",
            calls_per_second=calls_per_second,
            callers=len(profiles),
            pbx_port=simulator.port,
        )
        try:
            yield
        finally:
            simulator.stop_traffic()
            await simulator.stop()

    return context


async def issue_demo_supervisor(operators: OperatorService) -> str:
    """A fresh API key for the demo supervisor (the previous run's key is revoked)."""
    with contextlib.suppress(OperatorError):
        await operators.revoke(DEMO_SUPERVISOR)
    return (await operators.create(DEMO_SUPERVISOR, Role.SUPERVISOR)).api_key


def demo_supervisor_context(url: str) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        hotline = app[HOTLINE]
        api_key = await issue_demo_supervisor(
            OperatorService(hotline.require_sessions(), hotline.clock)
        )
        hint = [
            f"Console: {url}  (sign in as {DEMO_SUPERVISOR!r} with the API key {api_key})",
        ]
        app[SCREEN_FOOTER].extend(hint)
        print(hint[0], flush=True)
        yield

    return context


def screen_context(
    *, interactive: bool, refresh: float = 0.5
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        hotline = app[HOTLINE]
        callbacks = CallbackQueries(app[ENGINE], hotline.clock, hotline.config.callbacks.policy)
        task = asyncio.create_task(
            _screen(
                hotline, callbacks, app[SCREEN_FOOTER], interactive=interactive, refresh=refresh
            )
        )
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return context


async def callback_lines(hotline: Hotline, callbacks: CallbackQueries) -> list[str]:
    """The screen's Pass 4H block: what is owed and what happened lately."""
    now = hotline.clock.now()
    return render_callbacks(
        await callbacks.latest(now - CALLBACK_GRACE, CALLBACKS_SHOWN),
        now,
        hotline.config.calendar_settings.timezone,
        hotline.config.callbacks.policy,
    )


async def _screen(
    hotline: Hotline,
    callbacks: CallbackQueries,
    footer: list[str],
    *,
    interactive: bool,
    refresh: float,
) -> None:
    zone = hotline.config.calendar_settings.timezone
    assert hotline.live is not None
    every = 1 if interactive else max(1, int(10 / refresh))
    tick = 0
    while True:
        await asyncio.sleep(refresh)
        tick += 1
        if tick % every:
            continue
        queues = hotline.live.queues()
        ami_up = hotline.ami is not None and hotline.ami.connected
        if interactive:
            now = hotline.clock.now()
            assert hotline.oncall is not None
            oncall = render_oncall(await hotline.oncall.roster(), now, zone)
            if hotline.escalations is not None:
                oncall += render_escalations(hotline.escalations.live(), now)
            assert hotline.appointments is not None
            upcoming = await hotline.appointments.find(
                AppointmentFilter(since=now - APPOINTMENT_GRACE, limit=2 * SHOWN)
            )
            screen = render_queues(
                queues,
                now,
                zone,
                recent=hotline.recent,
                oncall=oncall,
                appointments=render_appointments(upcoming, zone),
                callbacks=await callback_lines(hotline, callbacks),
                ami_up=ami_up,
            )
            sys.stdout.write("\x1b[H\x1b[2J" + "\n".join([screen, "", *footer]) + "\n")
            sys.stdout.flush()
        else:
            local = hotline.clock.now().astimezone(zone)
            log.info(
                "demo.queues",
                at=f"{local:%a %H:%M:%S}",
                pbx="up" if ami_up else "down",
                summary=summary_line(queues),
            )
