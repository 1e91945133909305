"""The account API's answers built from what the services return, one function per
resource (the shapes are the models of callrouter.accounts.schemas)."""

from __future__ import annotations

from callrouter.accounts import schemas
from callrouter.accounts.queries import IncidentEntry, Page
from callrouter.identity.beneficiaries import BeneficiaryView
from callrouter.identity.service import AccountSummary
from callrouter.ledger.balances import MovementView
from callrouter.ledger.prices import OnQuote, Price
from callrouter.ledger.service import IncidentView


def account(summary: AccountSummary) -> schemas.Account:
    return schemas.Account(
        number=summary.number,
        holder=summary.holder_name,
        balance=summary.balance,
        held=summary.held,
        available=summary.balance - summary.held,
    )


def staff_account(
    summary: AccountSummary, beneficiaries: list[BeneficiaryView]
) -> schemas.StaffAccount:
    """What a coordinator sees: the holder's view, plus who may call on it."""
    return schemas.StaffAccount(
        number=summary.number,
        holder=summary.holder_name,
        balance=summary.balance,
        held=summary.held,
        available=summary.balance - summary.held,
        created_at=summary.created_at,
        beneficiaries=[beneficiary(item) for item in beneficiaries],
    )


def beneficiary(view: BeneficiaryView) -> schemas.Beneficiary:
    return schemas.Beneficiary(
        name=view.name,
        caller_id=view.caller_id,
        added_at=view.created_at,
        removed_at=view.removed_at,
        confirmed_at=view.confirmed_at,
    )


def price(value: Price) -> int | None:
    """Points of the price list; null when the service is on quote."""
    return None if isinstance(value, OnQuote) else value


def movement(entry: MovementView) -> schemas.Movement:
    return schemas.Movement(
        id=entry.id,
        kind=entry.kind,
        amount=entry.amount,
        balance_after=entry.balance_after,
        at=entry.created_at,
        reason=entry.reason,
        reference=entry.reference,
        incident_id=entry.incident_id,
    )


def movement_page(page: Page[MovementView]) -> schemas.MovementPage:
    return schemas.MovementPage(
        items=[movement(item) for item in page.items], next_cursor=_next(page)
    )


def incident_entry(entry: IncidentEntry | IncidentView) -> schemas.IncidentEntry:
    return schemas.IncidentEntry(
        id=entry.id,
        level=entry.level,
        pass_=entry.chosen_pass,
        third_party=entry.third_party,
        emergency=entry.emergency,
        classification=entry.classification,
        price=price(entry.price),
        debited=entry.debited,
        summary=entry.summary,
        opened_at=entry.opened_at,
        refunded_at=entry.refunded_at,
    )


def incident_page(page: Page[IncidentEntry]) -> schemas.IncidentPage:
    return schemas.IncidentPage(
        items=[incident_entry(item) for item in page.items], next_cursor=_next(page)
    )


def incident(view: IncidentView) -> schemas.Incident:
    """An incident with its history (further calls, reclassification, refund)."""
    return schemas.Incident(
        # The entry's fields as they are (dict() of a model does not serialize them).
        **dict(incident_entry(view)),
        account_number=view.account_number,
        opening_call=view.opening_call,
        history=[
            schemas.IncidentEvent(
                kind=event.kind, at=event.at, detail=event.detail, call=event.call
            )
            for event in view.events
        ],
    )


def _next(page: Page[MovementView] | Page[IncidentEntry]) -> str | None:
    return None if page.next_before_id is None else schemas.encode_cursor(page.next_before_id)
