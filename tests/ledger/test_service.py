"""The ledger's promises on a real database (SQLite, then PostgreSQL): prices debited once
per incident, refunds once, recharge codes once, never below zero, replays change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.clock import FakeClock
from callrouter.identity.errors import AccountNotFound
from callrouter.identity.models import Account
from callrouter.identity.service import IdentityService
from callrouter.ledger.codes import hash_recharge_code
from callrouter.ledger.errors import (
    IdempotencyKeyReused,
    InsufficientBalance,
    InvalidAmount,
    InvalidRequest,
    RechargeCodeAlreadyRedeemed,
    RechargeCodeExpired,
    UnknownIncident,
    UnknownRechargeCode,
)
from callrouter.ledger.models import Incident, IncidentEvent, Movement, RechargeCode
from callrouter.ledger.packs import UnknownPack
from callrouter.ledger.prices import (
    ON_QUOTE,
    AssistanceLevel,
    Classification,
    EmergencyUnavailable,
)
from callrouter.ledger.service import (
    BalanceMismatch,
    IncidentEventKind,
    LedgerService,
    MovementKind,
)
from callrouter.passes import Pass

from .conftest import MakeAccount

STANDARD, ADVANCED = AssistanceLevel.STANDARD, AssistanceLevel.ADVANCED


async def _movement_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Movement)) or 0)


# Opening incidents


@pytest.mark.parametrize(
    ("level", "pass_", "third_party", "price"),
    [
        (STANDARD, Pass.FOUR_HOURS, False, 35),
        (STANDARD, Pass.APPOINTMENT, False, 50),
        (STANDARD, Pass.PRIORITY, False, 75),
        (ADVANCED, Pass.FOUR_HOURS, False, 75),
        (ADVANCED, Pass.APPOINTMENT, False, 100),
        (ADVANCED, Pass.PRIORITY, False, 150),
        (ADVANCED, Pass.PRIORITY, True, 250),
        (STANDARD, Pass.PRIORITY, True, 75),
    ],
)
async def test_opening_an_incident_debits_its_price_once(
    ledger: LedgerService,
    make_account: MakeAccount,
    level: AssistanceLevel,
    pass_: Pass,
    third_party: bool,
    price: int,
) -> None:
    account = await make_account(300)

    opened = await ledger.open_incident(
        account,
        level=level,
        pass_=pass_,
        third_party=third_party,
        idempotency_key="call-1",
        summary="PLC does not boot",
        call="1700000000.1",
    )

    assert (opened.price, opened.debited, opened.balance, opened.replayed) == (
        price,
        price,
        300 - price,
        False,
    )
    assert await ledger.balance(account) == 300 - price
    statement = await ledger.statement(account)
    assert [(m.kind, m.amount, m.balance_after) for m in statement.movements] == [
        (MovementKind.CREDIT, 300, 300),
        (MovementKind.DEBIT, -price, 300 - price),
    ]
    assert statement.movements[1].reference == f"incident {opened.incident_id}"
    incident = await ledger.incident(opened.incident_id)
    assert (incident.account_number, incident.level, incident.chosen_pass) == (
        account,
        level,
        pass_,
    )
    assert (incident.summary, incident.opening_call) == ("PLC does not boot", "1700000000.1")


async def test_an_opening_writes_the_incident_and_its_debit_in_full(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    # PostgreSQL opens in one hand-written statement: every column must match the models'.
    account = await make_account(300)
    clock.advance(timedelta(minutes=5))

    opened = await ledger.open_incident(
        account,
        level=ADVANCED,
        pass_=Pass.PRIORITY,
        third_party=True,
        idempotency_key="uid-7",
        summary="HMI frozen",
        call=" 1700000000.7 ",
    )

    async with database_sessions() as session:
        incident = (
            await session.execute(select(Incident).where(Incident.id == opened.incident_id))
        ).scalar_one()
        movement = (
            await session.execute(select(Movement).where(Movement.incident_id == incident.id))
        ).scalar_one()
        stored_balance = await session.scalar(
            select(Account.balance).where(Account.number == account)
        )
    assert (incident.level, incident.chosen_pass, incident.third_party, incident.emergency) == (
        "advanced",
        "prioritaire",
        True,
        False,
    )
    assert (incident.classification, incident.price, incident.debited) == ("expert", 250, 250)
    assert (incident.balance_after, incident.summary, incident.opening_call) == (
        50,
        "HMI frozen",
        "1700000000.7",
    )
    assert (incident.opened_at, incident.open_key, incident.refunded_at) == (
        clock.now(),
        "uid-7",
        None,
    )
    assert (movement.kind, movement.amount, movement.balance_after, movement.created_at) == (
        "debit",
        -250,
        50,
        clock.now(),
    )
    assert movement.reason == (
        "incident opened: advanced assistance, pass prioritaire, third-party product"
    )
    assert (movement.reference, movement.recharge_code_id, movement.idempotency_key) == (
        f"incident {incident.id}",
        None,
        "incident-open:uid-7",
    )
    assert stored_balance == 50 == opened.balance
    assert (await ledger.incident(incident.id)).events == []


async def test_emergency_costs_100_with_the_priority_pass(
    ledger: LedgerService, make_account: MakeAccount
) -> None:
    account = await make_account(100)

    opened = await ledger.open_incident(
        account, level=ADVANCED, pass_=Pass.PRIORITY, emergency=True, idempotency_key="night"
    )

    assert (opened.debited, opened.balance) == (100, 0)


async def test_emergency_without_the_priority_pass_opens_nothing(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(500)

    with pytest.raises(EmergencyUnavailable, match="not available with the 4h pass"):
        await ledger.open_incident(
            account, level=STANDARD, pass_=Pass.FOUR_HOURS, emergency=True, idempotency_key="n"
        )

    assert await ledger.balance(account) == 500
    assert await _movement_count(database_sessions) == 1


@pytest.mark.parametrize(
    ("classification", "price"),
    [(Classification.NON_ATTRIBUTABLE, 0), (Classification.ON_SITE, ON_QUOTE)],
)
async def test_free_and_quoted_incidents_open_without_a_movement(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
    classification: Classification,
    price: object,
) -> None:
    account = await make_account()

    opened = await ledger.open_incident(
        account,
        level=ADVANCED,
        pass_=Pass.PRIORITY,
        third_party=True,
        classification=classification,
        idempotency_key="free",
    )

    assert (opened.price, opened.debited, opened.balance) == (price, 0, 0)
    assert (await ledger.incident(opened.incident_id)).price == price
    assert await _movement_count(database_sessions) == 0


async def test_insufficient_balance_opens_nothing_and_says_why(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(74)

    with pytest.raises(InsufficientBalance) as refused:
        await ledger.open_incident(
            account, level=STANDARD, pass_=Pass.PRIORITY, idempotency_key="poor"
        )

    assert (refused.value.balance, refused.value.price) == (74, 75)
    assert "has 74 points, 75 are needed" in str(refused.value)
    assert await ledger.balance(account) == 74
    assert await _movement_count(database_sessions) == 1
    # The key was not consumed: once recharged, the same request opens the incident.
    await ledger.credit(account, 1, reason="top-up", idempotency_key="top-up")
    opened = await ledger.open_incident(
        account, level=STANDARD, pass_=Pass.PRIORITY, idempotency_key="poor"
    )
    assert (opened.balance, opened.replayed) == (0, False)


async def test_unknown_account_is_refused(ledger: LedgerService) -> None:
    with pytest.raises(AccountNotFound):
        await ledger.open_incident(
            "99999999", level=STANDARD, pass_=Pass.FOUR_HOURS, idempotency_key="ghost"
        )


async def test_replaying_an_opening_returns_the_first_result(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(100)
    first = await ledger.open_incident(
        account, level=STANDARD, pass_=Pass.FOUR_HOURS, idempotency_key="uid-42"
    )

    again = await ledger.open_incident(
        account, level=STANDARD, pass_=Pass.FOUR_HOURS, idempotency_key="uid-42"
    )

    assert again.replayed
    assert (again.incident_id, again.debited, again.balance) == (first.incident_id, 35, 65)
    assert await ledger.balance(account) == 65
    assert await _movement_count(database_sessions) == 2


async def test_a_key_of_another_account_is_not_replayed(
    ledger: LedgerService, make_account: MakeAccount
) -> None:
    first, second = await make_account(100), await make_account(100)
    await ledger.open_incident(first, level=STANDARD, pass_=Pass.FOUR_HOURS, idempotency_key="k")

    with pytest.raises(IdempotencyKeyReused):
        await ledger.open_incident(
            second, level=STANDARD, pass_=Pass.FOUR_HOURS, idempotency_key="k"
        )
    assert await ledger.balance(second) == 100


@pytest.mark.parametrize("key", ["", "k" * 147])
async def test_idempotency_keys_must_fit(
    ledger: LedgerService, make_account: MakeAccount, key: str
) -> None:
    account = await make_account(100)
    with pytest.raises(InvalidRequest, match="idempotency key"):
        await ledger.open_incident(
            account, level=STANDARD, pass_=Pass.APPOINTMENT, idempotency_key=key
        )


# Further calls


async def test_a_second_call_on_the_incident_costs_nothing_and_is_recorded(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(100)
    opened = await ledger.open_incident(
        account, level=STANDARD, pass_=Pass.FOUR_HOURS, idempotency_key="first-call"
    )

    attached = await ledger.attach_call(opened.incident_id, "1700000100.7", "second-call")
    again = await ledger.attach_call(opened.incident_id, "1700000100.7", "second-call")

    assert (attached.replayed, again.replayed) == (False, True)
    assert await ledger.balance(account) == 65
    assert await _movement_count(database_sessions) == 2
    events = (await ledger.incident(opened.incident_id)).events
    assert [(event.kind, event.call) for event in events] == [
        (IncidentEventKind.CALL, "1700000100.7")
    ]


async def test_attaching_to_an_unknown_incident_is_refused(ledger: LedgerService) -> None:
    with pytest.raises(UnknownIncident, match="no incident numbered 404"):
        await ledger.attach_call(404, "1700000100.7", "call-404")


async def test_attaching_needs_a_call_reference(
    ledger: LedgerService, make_account: MakeAccount
) -> None:
    account = await make_account(100)
    opened = await ledger.open_incident(
        account, level=STANDARD, pass_=Pass.FOUR_HOURS, idempotency_key="c"
    )
    with pytest.raises(InvalidRequest, match="call reference"):
        await ledger.attach_call(opened.incident_id, "  ", "blank")


# Refunds


async def test_reclassifying_non_attributable_refunds_in_full_once(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(300)
    opened = await ledger.open_incident(
        account, level=ADVANCED, pass_=Pass.PRIORITY, third_party=True, idempotency_key="o"
    )

    refund = await ledger.reclassify_non_attributable(opened.incident_id, "quality", "reclass-1")
    twice = await ledger.reclassify_non_attributable(opened.incident_id, "again", "reclass-2")
    replay = await ledger.reclassify_non_attributable(opened.incident_id, "quality", "reclass-1")
    after = await ledger.refund_incident(opened.incident_id, "4h missed", "guarantee-1")

    assert (refund.points, refund.replayed) == (250, False)
    assert [r.replayed for r in (twice, replay, after)] == [True, True, True]
    assert {r.points for r in (twice, replay, after)} == {250}
    assert await ledger.balance(account) == 300
    assert await _movement_count(database_sessions) == 3
    incident = await ledger.incident(opened.incident_id)
    assert incident.classification is Classification.NON_ATTRIBUTABLE
    assert incident.refunded_at == refund.refunded_at
    assert [event.kind for event in incident.events] == [
        IncidentEventKind.RECLASSIFIED,
        IncidentEventKind.REFUNDED,
    ]


async def test_a_refund_once_then_reclassifying_moves_nothing(
    ledger: LedgerService, make_account: MakeAccount, clock: FakeClock
) -> None:
    account = await make_account(100)
    opened = await ledger.open_incident(
        account, level=STANDARD, pass_=Pass.FOUR_HOURS, idempotency_key="o"
    )

    refund = await ledger.refund_incident(opened.incident_id, "callback after 4h", "g-1")
    clock.advance(timedelta(hours=1))
    replay = await ledger.refund_incident(opened.incident_id, "callback after 4h", "g-1")
    other_reason = await ledger.refund_incident(opened.incident_id, "operator", "op-1")
    reclassified = await ledger.reclassify_non_attributable(opened.incident_id, "quality", "r")

    assert (refund.points, refund.replayed) == (35, False)
    assert all(r.replayed and r.points == 35 for r in (replay, other_reason, reclassified))
    assert replay.refunded_at == refund.refunded_at
    assert await ledger.balance(account) == 100
    assert (await ledger.incident(opened.incident_id)).classification is (
        Classification.NON_ATTRIBUTABLE
    )
    assert await ledger.check() == []


async def test_a_refund_key_of_another_incident_is_not_replayed(
    ledger: LedgerService, make_account: MakeAccount
) -> None:
    account = await make_account(100)
    first = await ledger.open_incident(
        account, level=STANDARD, pass_=Pass.FOUR_HOURS, idempotency_key="a"
    )
    second = await ledger.open_incident(
        account, level=STANDARD, pass_=Pass.FOUR_HOURS, idempotency_key="b"
    )
    await ledger.refund_incident(first.incident_id, "late", "refund-key")

    with pytest.raises(IdempotencyKeyReused):
        await ledger.refund_incident(second.incident_id, "late", "refund-key")
    assert await ledger.balance(account) == 65


async def test_refunding_an_unknown_incident_is_refused(ledger: LedgerService) -> None:
    with pytest.raises(UnknownIncident):
        await ledger.refund_incident(404, "late", "k")
    with pytest.raises(UnknownIncident):
        await ledger.reclassify_non_attributable(404, "quality", "k")


# Credits and adjustments


async def test_credits_and_adjustments_are_replayable_and_never_go_below_zero(
    ledger: LedgerService, make_account: MakeAccount
) -> None:
    account = await make_account()

    credit = await ledger.credit(account, 100, reason="order 7", idempotency_key="order-7")
    replay = await ledger.credit(account, 100, reason="order 7", idempotency_key="order-7")
    down = await ledger.adjust(account, -30, reason="typo", idempotency_key="fix-1")

    assert (credit.balance, replay.replayed, replay.movement_id) == (100, True, credit.movement_id)
    assert (down.kind, down.amount, down.balance) == (MovementKind.ADJUSTMENT, -30, 70)
    with pytest.raises(InsufficientBalance):
        await ledger.adjust(account, -71, reason="too much", idempotency_key="fix-2")
    with pytest.raises(IdempotencyKeyReused):
        await ledger.credit(account, 200, reason="order 7", idempotency_key="order-7")
    with pytest.raises(InvalidAmount):
        await ledger.credit(account, 0, reason="nothing", idempotency_key="zero")
    with pytest.raises(InvalidAmount):
        await ledger.adjust(account, 0, reason="nothing", idempotency_key="zero")
    assert await ledger.balance(account) == 70


# Recharge codes


async def test_a_recharge_code_credits_its_pack_once(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account, other = await make_account(), await make_account()
    (issued,) = await ledger.issue_codes("FSACSP200C", 1)

    typed = issued.code.lower().replace("-", " ")
    redemption = await ledger.redeem_code(account, typed)
    replay = await ledger.redeem_code(account, issued.code)

    assert (redemption.points, redemption.balance, redemption.replayed) == (200, 200, False)
    assert (replay.balance, replay.replayed) == (200, True)
    with pytest.raises(RechargeCodeAlreadyRedeemed, match="already used"):
        await ledger.redeem_code(other, issued.code)
    assert await ledger.balance(account) == 200
    assert await ledger.balance(other) == 0
    assert await _movement_count(database_sessions) == 1


async def test_codes_are_stored_hashed_with_an_expiry(
    ledger: LedgerService,
    database_sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    issued = await ledger.issue_codes("FSACSP50C", 3, validity=timedelta(days=30))

    async with database_sessions() as session:
        rows = (await session.execute(select(RechargeCode))).scalars().all()
    assert len({code.code for code in issued}) == 3
    assert sorted(row.code_hash for row in rows) == sorted(
        hash_recharge_code(code.code) for code in issued
    )
    assert all(code.code.replace("-", "") not in row.code_hash for code in issued for row in rows)
    assert {(row.points, row.expires_at) for row in rows} == {(50, clock.now() + timedelta(30))}


async def test_an_expired_code_credits_nothing(
    ledger: LedgerService, make_account: MakeAccount, clock: FakeClock
) -> None:
    account = await make_account()
    (issued,) = await ledger.issue_codes("FSACSP50C", 1)  # valid 365 days by default

    clock.advance(timedelta(days=365))

    with pytest.raises(RechargeCodeExpired, match="expired on 2026-03-03"):
        await ledger.redeem_code(account, issued.code)
    assert await ledger.balance(account) == 0


async def test_an_unknown_code_credits_nothing(
    ledger: LedgerService, make_account: MakeAccount
) -> None:
    account = await make_account()
    with pytest.raises(UnknownRechargeCode):
        await ledger.redeem_code(account, "0000-0000-0000-0000-0000-0000-0000")
    with pytest.raises(AccountNotFound):
        (issued,) = await ledger.issue_codes("FSACSP50C", 1)
        await ledger.redeem_code("99999999", issued.code)


async def test_issuing_checks_the_pack_and_count(ledger: LedgerService) -> None:
    with pytest.raises(UnknownPack):
        await ledger.issue_codes("FSACSP20C", 1)
    with pytest.raises(InvalidAmount):
        await ledger.issue_codes("FSACSP50C", 0)


async def test_the_first_order_opens_the_account(
    ledger: LedgerService,
    database_sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    identity = IdentityService(database_sessions, clock)
    (issued,) = await ledger.issue_codes("FSACSP100C", 1)

    account, redemption = await ledger.redeem_code_opening_account(
        issued.code, "Durand Électricité", identity
    )

    assert (redemption.account_number, redemption.balance) == (account.number, 100)
    assert (await identity.get_account(account.number)).holder_name == "Durand Électricité"
    with pytest.raises(RechargeCodeAlreadyRedeemed):
        await ledger.redeem_code_opening_account(issued.code, "Someone Else", identity)
    with pytest.raises(UnknownRechargeCode):
        await ledger.redeem_code_opening_account("NOPE", "Someone Else", identity)
    async with database_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Account)) == 1


# Check


async def test_check_proves_the_cached_balances_and_finds_tampering(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    honest, tampered, empty = await make_account(100), await make_account(50), await make_account()
    await ledger.open_incident(honest, level=STANDARD, pass_=Pass.APPOINTMENT, idempotency_key="x")
    assert await ledger.check() == []

    async with database_sessions.begin() as session:
        await session.execute(
            update(Account).where(Account.number == tampered).values(balance=Account.balance + 10)
        )
        await session.execute(update(Account).where(Account.number == empty).values(balance=5))

    assert sorted(await ledger.check(), key=lambda m: m.movements_sum) == [
        BalanceMismatch(empty, 5, 0),
        BalanceMismatch(tampered, 60, 50),
    ]


async def test_movements_are_append_only_history_with_their_events(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(100)
    opened = await ledger.open_incident(
        account, level=STANDARD, pass_=Pass.FOUR_HOURS, idempotency_key="o"
    )
    await ledger.refund_incident(opened.incident_id, "late", "r")

    async with database_sessions() as session:
        keys = (await session.execute(text("SELECT idempotency_key FROM ledger_movements"))).all()
        events = (await session.execute(select(IncidentEvent.kind))).scalars().all()
    assert sorted(key for (key,) in keys) == sorted(
        [f"credit:{account}", "incident-open:o", f"incident-refund:{opened.incident_id}"]
    )
    assert events == ["refunded"]
