"""On-call routes: who is on call now and next, the schedule and the roster (staff read;
admins change it), and each technician's iCalendar feed (opened by its token alone)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import time, timedelta

from aiohttp import web

from callrouter.calendar import is_open
from callrouter.clock import Clock
from callrouter.http.access import Role, visibility
from callrouter.http.endpoint import Call, Endpoints, add_endpoints
from callrouter.http.errors import ApiError
from callrouter.oncall import schemas as shapes
from callrouter.oncall.ical import render_feed
from callrouter.oncall.roster import (
    Layer,
    duties_of,
    next_hand_off,
    next_on_call,
    on_call_at,
    schedule,
)
from callrouter.oncall.service import NotOnRoster, OnCallError, RosterConflict, RosterService


@dataclass(frozen=True)
class OnCallApi:
    roster: RosterService
    clock: Clock
    #: Where technicians reach this server: the start of their feed's URL.
    feed_base_url: str
    feed_days_back: int
    feed_days_ahead: int


ONCALL = web.AppKey("oncall", OnCallApi)
ONCALL_ROUTES = Endpoints("on-call")
READ = (Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN)
MANAGE = (Role.ADMIN,)
FEED_PATH = "/api/oncall/feeds/{token}.ics"


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


@ONCALL_ROUTES.route(
    "POST", "/api/oncall/people", "Add a technician", roles=MANAGE, status=201, errors=(409,)
)
async def add_person(call: Call, body: shapes.NewPerson) -> shapes.PersonOut:
    with _reported():
        added = await call.request.app[ONCALL].roster.add_person(body.name, body.contact)
    return shapes.stored_person(added, visibility(call.who.role))


@ONCALL_ROUTES.route(
    "DELETE",
    "/api/oncall/people/{person_id}",
    "Remove a technician and their overrides (not while in a rotation)",
    roles=MANAGE,
    errors=(409,),
)
async def remove_person(call: Call, path: shapes.PersonPath) -> shapes.Done:
    with _reported():
        await call.request.app[ONCALL].roster.remove_person(path.person_id)
    return shapes.Done(removed=True)


@ONCALL_ROUTES.route("PUT", "/api/oncall/rotations/{layer}", "Set a layer's rotation", roles=MANAGE)
async def set_rotation(
    call: Call, path: shapes.LayerPath, body: shapes.NewRotation
) -> shapes.RotationOut:
    with _reported():
        rotation = await call.request.app[ONCALL].roster.set_rotation(
            path.layer,
            body.people,
            shift_days=body.shift_days,
            handoff_at=time.fromisoformat(body.handoff_at),
            first_handoff=body.first_handoff,
        )
    return shapes.RotationOut(
        layer=path.layer,
        people=list(rotation.people),
        shift_days=rotation.shift_days,
        handoff_at=body.handoff_at,
        first_handoff=rotation.first_handoff,
    )


@ONCALL_ROUTES.route(
    "DELETE", "/api/oncall/rotations/{layer}", "Clear a layer's rotation", roles=MANAGE
)
async def clear_rotation(call: Call, path: shapes.LayerPath) -> shapes.Done:
    with _reported():
        await call.request.app[ONCALL].roster.clear_rotation(path.layer)
    return shapes.Done(removed=True)


@ONCALL_ROUTES.route(
    "POST",
    "/api/oncall/overrides",
    "One person replaces another for a time",
    roles=MANAGE,
    status=201,
    errors=(404,),
)
async def add_override(call: Call, body: shapes.NewOverride) -> shapes.OverrideOut:
    with _reported(field="ends_at"):
        planned = await call.request.app[ONCALL].roster.add_override(
            body.replaces, body.by, body.starts_at, body.ends_at
        )
    return shapes.OverrideOut(
        id=planned.id,
        replaces=body.replaces,
        by=body.by,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
    )


@ONCALL_ROUTES.route(
    "DELETE", "/api/oncall/overrides/{override_id}", "Remove an override", roles=MANAGE
)
async def remove_override(call: Call, path: shapes.OverridePath) -> shapes.Done:
    with _reported():
        await call.request.app[ONCALL].roster.remove_override(path.override_id)
    return shapes.Done(removed=True)


@ONCALL_ROUTES.route(
    "POST",
    "/api/oncall/people/{person_id}/feed",
    "Issue a technician's feed URL (the previous one stops working)",
    roles=MANAGE,
    status=201,
)
async def issue_feed(call: Call, path: shapes.PersonPath) -> shapes.FeedIssued:
    api = call.request.app[ONCALL]
    with _reported():
        person, token = await api.roster.issue_feed(path.person_id)
    return shapes.FeedIssued(
        person=shapes.stored_person(person, visibility(call.who.role)),
        url=feed_url(api.feed_base_url, token),
    )


@ONCALL_ROUTES.route(
    "DELETE", "/api/oncall/people/{person_id}/feed", "Revoke a technician's feed", roles=MANAGE
)
async def revoke_feed(call: Call, path: shapes.PersonPath) -> shapes.Done:
    with _reported():
        await call.request.app[ONCALL].roster.revoke_feed(path.person_id)
    return shapes.Done(removed=True)


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


def feed_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + FEED_PATH.format(token=token)


def setup_oncall_routes(app: web.Application, api: OnCallApi) -> None:
    app[ONCALL] = api
    add_endpoints(app, ONCALL_ROUTES)


@contextmanager
def _reported(field: str | None = None) -> Iterator[None]:
    try:
        yield
    except NotOnRoster as error:
        raise ApiError(404, "not-found", str(error)) from None
    except RosterConflict as error:
        raise ApiError(409, "conflict", str(error)) from None
    except OnCallError as error:
        raise ApiError(400, "invalid-input", str(error), field=field) from None
