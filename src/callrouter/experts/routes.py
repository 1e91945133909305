"""Staff routes of the experts' directory: admins manage it, coordinators and supervisors
read it, with each expert's live state from the PBX."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from aiohttp import web

from callrouter.clock import Clock
from callrouter.experts import schemas
from callrouter.experts.directory import ExpertDirectory, ExpertEntry
from callrouter.experts.errors import (
    ExpertError,
    ExpertExists,
    InvalidExpert,
    UnknownDomain,
    UnknownExpert,
)
from callrouter.experts.presence import ExpertPresence, presences
from callrouter.http.access import Role
from callrouter.http.endpoint import Call, Endpoints
from callrouter.http.errors import ApiError
from callrouter.live.state import LiveState

EXPERT_ROUTES = Endpoints("experts")
READERS = (Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN)
MANAGERS = (Role.ADMIN,)


@dataclass(frozen=True)
class ExpertDesk:
    directory: ExpertDirectory
    live: LiveState
    clock: Clock


EXPERT_DESK = web.AppKey("expert_desk", ExpertDesk)


@contextmanager
def expert_errors() -> Iterator[None]:
    try:
        yield
    except ExpertError as error:
        raise expert_api_error(error) from error


def expert_api_error(error: ExpertError) -> ApiError:
    match error:
        case UnknownExpert():
            return ApiError(404, "not-found", str(error))
        case ExpertExists():
            return ApiError(409, "conflict", str(error), field="name")
        case UnknownDomain():
            return ApiError(422, "unknown-domain", str(error), field=error.field)
        case InvalidExpert():
            return ApiError(422, "refused", str(error), field=error.field)
    return ApiError(422, "refused", str(error), field=error.field)


@EXPERT_ROUTES.route("GET", "/api/experts", "Experts, their domains and live state", roles=READERS)
async def list_experts(call: Call) -> schemas.ExpertList:
    desk = call.request.app[EXPERT_DESK]
    entries = await desk.directory.entries()
    states = presences(
        [entry.expert for entry in entries],
        desk.live,
        desk.clock.now(),
        desk.directory.config.queue,
    )
    return schemas.ExpertList(
        items=[_expert(entry, states[entry.expert.name]) for entry in entries],
        domains=[
            schemas.Domain(key=domain.key, label=domain.label)
            for domain in desk.directory.config.domains
        ],
    )


@EXPERT_ROUTES.route(
    "POST", "/api/experts", "Add an expert", roles=MANAGERS, status=201, errors=(409, 422)
)
async def add_expert(call: Call, body: schemas.NewExpert) -> schemas.Expert:
    desk = call.request.app[EXPERT_DESK]
    with expert_errors():
        entry = await desk.directory.add(body.name, body.interface, body.domains, body.hours)
    return _with_presence(desk, entry)


@EXPERT_ROUTES.route(
    "POST",
    "/api/experts/{expert_id}/absences",
    "Record an absence of an expert",
    roles=MANAGERS,
    status=201,
    errors=(422,),
)
async def add_absence(
    call: Call, path: schemas.ExpertPath, body: schemas.NewAbsence
) -> schemas.Expert:
    desk = call.request.app[EXPERT_DESK]
    with expert_errors():
        name = await desk.directory.name_of(path.expert_id)
        await desk.directory.absent(name, body.start, body.end, body.reason or "")
        entry = await desk.directory.entry(path.expert_id)
    return _with_presence(desk, entry)


@EXPERT_ROUTES.route(
    "DELETE", "/api/experts/{expert_id}", "Remove an expert from the directory", roles=MANAGERS
)
async def remove_expert(call: Call, path: schemas.ExpertPath) -> schemas.Removed:
    desk = call.request.app[EXPERT_DESK]
    with expert_errors():
        name = await desk.directory.name_of(path.expert_id)
        await desk.directory.remove(name)
    return schemas.Removed(id=path.expert_id, name=name)


def _with_presence(desk: ExpertDesk, entry: ExpertEntry) -> schemas.Expert:
    states = presences([entry.expert], desk.live, desk.clock.now(), desk.directory.config.queue)
    return _expert(entry, states[entry.expert.name])


def _expert(entry: ExpertEntry, presence: ExpertPresence) -> schemas.Expert:
    return schemas.Expert(
        id=entry.id,
        name=entry.expert.name,
        interface=entry.expert.interface,
        domains=sorted(entry.expert.domains),
        hours=entry.hours_window,
        presence=presence,
        absences=[
            schemas.Absence(id=a.id, start=a.start, end=a.end, reason=a.reason)
            for a in entry.absences
        ],
    )
