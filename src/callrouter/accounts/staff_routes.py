"""Staff routes of the account API: open and reclassify incidents, look up any account.

A staff member's idempotency key is namespaced by their API key id before it reaches the
ledger, so two coordinators who both pick "1" never collide, nor collide with the keys the
router derives from calls.
"""

from __future__ import annotations

from callrouter.accounts import schemas, views
from callrouter.accounts.context import ACCOUNT_API
from callrouter.accounts.problems import reported
from callrouter.callbacks.opening import CallbackRequest
from callrouter.callbacks.routes import CALLBACKS_API, callback_request_reported
from callrouter.callbacks.schemas import CallbackRef
from callrouter.http.access import Principal, Role
from callrouter.http.endpoint import Call, Endpoints

STAFF_ROUTES = Endpoints("staff")
# Incidents are opened and refunded by whoever takes the calls; supervisors watch.
INCIDENT_WORK = (Role.COORDINATOR, Role.ADMIN)


@STAFF_ROUTES.route(
    "POST",
    "/api/incidents",
    "Open an incident on an account and debit its price",
    roles=INCIDENT_WORK,
    status=201,
    errors=(402, 404, 409, 422),
    other_statuses={200: "Replayed: a repeated idempotency key gets the first result."},
)
async def open_incident(call: Call, body: schemas.OpenIncident) -> schemas.OpenedIncident:
    api = call.request.app[ACCOUNT_API]
    openings = call.request.app[CALLBACKS_API].openings
    wants_callback = body.domain is not None or body.callback_number is not None
    with reported(api.clock), callback_request_reported():
        # A Pass 4H incident and its callback open together, or neither (issue 8).
        opening = await openings.open_incident(
            body.account_number,
            level=body.level,
            pass_=body.pass_,
            idempotency_key=_ledger_key(call.who, body.idempotency_key),
            callback=(
                CallbackRequest(body.domain or "", body.callback_number) if wants_callback else None
            ),
            third_party=body.third_party,
            emergency=body.emergency,
            classification=body.classification,
            summary=body.summary or "",
            call=body.call or None,
        )
        opened = opening.opened
        view = await api.ledger.incident(opened.incident_id)
    callback = None
    if opening.callback_id is not None and opening.due_at is not None:
        callback = CallbackRef(id=opening.callback_id, due_at=opening.due_at)
    return schemas.OpenedIncident(
        incident=views.incident(view),
        debit=schemas.Debit(points=opened.debited, balance=opened.balance),
        callback=callback,
        replayed=opened.replayed,
    )


@STAFF_ROUTES.route(
    "POST",
    "/api/incidents/{incident_id}/reclassify",
    "Reclassify an incident non-attributable, refunding it in full once",
    roles=INCIDENT_WORK,
    errors=(409,),
)
async def reclassify(
    call: Call, path: schemas.IncidentPath, body: schemas.Reclassify
) -> schemas.Reclassified:
    api = call.request.app[ACCOUNT_API]
    key = _ledger_key(call.who, body.idempotency_key)
    why = f"by {call.who.subject}" + (f": {body.reason}" if body.reason else "")
    with reported(api.clock):
        refund = await api.ledger.reclassify_non_attributable(path.incident_id, why, key)
        view = await api.ledger.incident(path.incident_id)
    return schemas.Reclassified(
        incident=views.incident(view),
        refund=schemas.RefundDone(points=refund.points, at=refund.refunded_at),
        replayed=refund.replayed,
    )


@STAFF_ROUTES.route(
    "GET",
    "/api/accounts/{number}",
    "Any account, with its locks and beneficiaries",
    roles=INCIDENT_WORK,
)
async def account(call: Call, path: schemas.AccountPath) -> schemas.StaffAccount:
    api = call.request.app[ACCOUNT_API]
    with reported(api.clock):
        summary = await api.identity.get_account(path.number)
        beneficiaries = await api.identity.list_beneficiaries(path.number)
    return views.staff_account(summary, beneficiaries)


def _ledger_key(staff: Principal, key: str) -> str:
    return f"api:{staff.key_id}:{key}"
