"""On-call roster changes, for admins: technicians, rotations, overrides, feed URLs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import time

from callrouter.http.access import Role, visibility
from callrouter.http.endpoint import Call, Endpoints
from callrouter.http.errors import ApiError
from callrouter.oncall import schemas as shapes
from callrouter.oncall.context import ONCALL, feed_url
from callrouter.oncall.service import NotOnRoster, OnCallError, RosterConflict

ROSTER_ROUTES = Endpoints("on-call")
MANAGE = (Role.ADMIN,)


@ROSTER_ROUTES.route(
    "POST", "/api/oncall/people", "Add a technician", roles=MANAGE, status=201, errors=(409,)
)
async def add_person(call: Call, body: shapes.NewPerson) -> shapes.PersonOut:
    with _reported():
        added = await call.request.app[ONCALL].roster.add_person(body.name, body.contact)
    return shapes.stored_person(added, visibility(call.who.role))


@ROSTER_ROUTES.route(
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


@ROSTER_ROUTES.route("PUT", "/api/oncall/rotations/{layer}", "Set a layer's rotation", roles=MANAGE)
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


@ROSTER_ROUTES.route(
    "DELETE", "/api/oncall/rotations/{layer}", "Clear a layer's rotation", roles=MANAGE
)
async def clear_rotation(call: Call, path: shapes.LayerPath) -> shapes.Done:
    with _reported():
        await call.request.app[ONCALL].roster.clear_rotation(path.layer)
    return shapes.Done(removed=True)


@ROSTER_ROUTES.route(
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


@ROSTER_ROUTES.route(
    "DELETE", "/api/oncall/overrides/{override_id}", "Remove an override", roles=MANAGE
)
async def remove_override(call: Call, path: shapes.OverridePath) -> shapes.Done:
    with _reported():
        await call.request.app[ONCALL].roster.remove_override(path.override_id)
    return shapes.Done(removed=True)


@ROSTER_ROUTES.route(
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


@ROSTER_ROUTES.route(
    "DELETE", "/api/oncall/people/{person_id}/feed", "Revoke a technician's feed", roles=MANAGE
)
async def revoke_feed(call: Call, path: shapes.PersonPath) -> shapes.Done:
    with _reported():
        await call.request.app[ONCALL].roster.revoke_feed(path.person_id)
    return shapes.Done(removed=True)


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
