"""Staff routes of the account API: open and reclassify incidents, look up any account.

A staff member's idempotency key is namespaced by their API key id before it reaches the
ledger, so two coordinators who both pick "1" never collide, nor collide with the keys the
router derives from calls.
"""

from __future__ import annotations

from callrouter.accounts import schemas, views
from callrouter.accounts.context import ACCOUNT_API
from callrouter.accounts.problems import reported
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
    with reported(api.clock):
        opened = await api.ledger.open_incident(
            body.account_number,
            level=body.level,
            pass_=body.pass_,
            idempotency_key=_ledger_key(call.who, body.idempotency_key),
            third_party=body.third_party,
            emergency=body.emergency,
            classification=body.classification,
            summary=body.summary or "",
            call=body.call or None,
        )
        view = await api.ledger.incident(opened.incident_id)
    return schemas.OpenedIncident(
        incident=views.incident(view),
        debit=schemas.Debit(points=opened.debited, balance=opened.balance),
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
