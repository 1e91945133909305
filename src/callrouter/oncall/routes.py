"""On-call routes: who is on call now and next, the schedule and the roster (staff read),
and each technician's iCalendar feed (opened by its token alone). Admins change the roster
through `roster_routes`."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from callrouter.calendar import is_open
from callrouter.http.access import Role, visibility
from callrouter.http.endpoint import Call, Endpoints, add_endpoints
from callrouter.http.errors import ApiError
from callrouter.oncall import schemas as shapes
from callrouter.oncall.context import FEED_PATH, ONCALL, OnCallApi
from callrouter.oncall.ical import render_feed
from callrouter.oncall.roster import (
    Layer,
    duties_of,
    next_hand_off,
    next_on_call,
    on_call_at,
    schedule,
)
from callrouter.oncall.roster_routes import ROSTER_ROUTES

ONCALL_ROUTES = Endpoints("on-call")
#: How far back /api/oncall lists the emergencies nobody confirmed.
UNANSWERED_SHOWN_FOR = timedelta(hours=24)
READ = (Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN)


@ONCALL_ROUTES.route("GET", "/api/oncall", "Who is on call now, and next", roles=READ)
async def now(call: Call) -> shapes.OnCallNow:
    api = call.request.app[ONCALL]
    at, seen = api.clock.now(), visibility(call.who.role)
    roster = await api.roster.roster()
    change, upcoming = next_hand_off(roster, at), next_on_call(roster, at)
    return shapes.OnCallNow(
        at=at,
        window_open=is_open(roster.window, at),
        roster_set=bool(roster.rotations),
        now=shapes.team(on_call_at(roster, at), seen),
        until=None if change is None else change.at,
        next=None
        if upcoming is None
        else shapes.NextTeam(at=upcoming.at, team=shapes.team(upcoming.team, seen)),
        escalations=[shapes.escalation(live, at, seen) for live in api.escalations()],
        unanswered=[]
        if api.unanswered is None
        else [
            shapes.unanswered(stored, seen)
            for stored in await api.unanswered(at - UNANSWERED_SHOWN_FOR)
        ],
    )


@ONCALL_ROUTES.route("GET", "/api/oncall/schedule", "The on-call shifts ahead", roles=READ)
async def shifts(call: Call, query: shapes.ScheduleQuery) -> shapes.Schedule:
    api = call.request.app[ONCALL]
    start, seen = api.clock.now(), visibility(call.who.role)
    end = start + timedelta(days=query.days)
    planned = schedule(await api.roster.roster(), start, end)
    return shapes.Schedule(
        start=start, end=end, shifts=[shapes.scheduled(shift, seen) for shift in planned]
    )


@ONCALL_ROUTES.route("GET", "/api/oncall/roster", "People, rotations, overrides", roles=READ)
async def roster(call: Call) -> shapes.RosterOut:
    api, seen = call.request.app[ONCALL], visibility(call.who.role)
    built = await api.roster.roster()
    return shapes.RosterOut(
        people=[shapes.stored_person(person, seen) for person in await api.roster.people()],
        rotations=[
            shapes.RotationOut(
                layer=layer,
                people=list(rotation.people),
                shift_days=rotation.shift_days,
                handoff_at=shapes.handoff_text(rotation.handoff_at),
                first_handoff=rotation.first_handoff,
            )
            for layer in Layer
            if (rotation := built.rotations.get(layer)) is not None
        ],
        overrides=[
            shapes.OverrideOut(
                id=planned.id,
                replaces=planned.override.replaces,
                by=planned.override.by,
                starts_at=planned.override.start,
                ends_at=planned.override.end,
            )
            for planned in await api.roster.planned_overrides()
        ],
    )


@ONCALL_ROUTES.route("GET", FEED_PATH, "A technician's on-call duties (iCalendar)", roles=None)
async def feed(call: Call, path: shapes.FeedPath) -> shapes.Feed:
    """Public: the unguessable token is the credential, as calendar apps send no header."""
    api = call.request.app[ONCALL]
    owner = await api.roster.feed_owner(path.token)
    if owner is None:
        raise ApiError(404, "not-found", "no feed at this address (revoked or mistyped)")
    at = api.clock.now()
    roster = await api.roster.roster()
    duties = duties_of(
        roster,
        owner,
        at - timedelta(days=api.feed_days_back),
        at + timedelta(days=api.feed_days_ahead),
    )
    return shapes.Feed(text=render_feed(duties, roster.zone, at).decode())


def setup_oncall_routes(app: web.Application, api: OnCallApi) -> None:
    app[ONCALL] = api
    add_endpoints(app, ONCALL_ROUTES)
    add_endpoints(app, ROSTER_ROUTES)
