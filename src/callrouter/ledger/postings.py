"""The one write path of money: lock the account, append a movement, cache the balance.

Every use case that moves points (opening an incident, a refund, a recharge, a credit)
does it inside its own transaction with these statements, in this order:
- the account row is locked first (SELECT ... FOR UPDATE on PostgreSQL; on SQLite a write
  transaction takes the process's one writer turn and begins IMMEDIATE, see
  callrouter.db.writer), so the balance read next is the last committed one and nobody
  changes it before we commit: a write is a `sessions.begin()` block or `write_transaction`;
- the movement is appended with its idempotency key (unique: a replay cannot insert twice);
- the account's cached balance is written, in the same transaction.
A debit may spend only what is not held (`balance - held`, callrouter.ledger.holds): the
database refuses a negative balance, or one below the points held (CHECK constraints),
even if the code were wrong.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from callrouter.ledger.prices import Points
from callrouter.ledger.tables import ACCOUNTS, MOVEMENTS


class MovementKind(enum.StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"


@dataclass(frozen=True)
class Posting:
    """A movement written (or found again, `replayed`) and the balance right after it."""

    movement_id: int
    account_number: str
    kind: MovementKind
    amount: Points
    balance: Points
    replayed: bool


# Prepared statements: built once, so each call only binds parameters.
LOCK_ACCOUNT_BY_NUMBER = (
    select(ACCOUNTS.c.id, ACCOUNTS.c.balance, ACCOUNTS.c.held)
    .where(ACCOUNTS.c.number == bindparam("number"))
    .with_for_update()
)
LOCK_ACCOUNT_BY_ID = (
    select(ACCOUNTS.c.number, ACCOUNTS.c.balance, ACCOUNTS.c.held)
    .where(ACCOUNTS.c.id == bindparam("account_id"))
    .with_for_update()
)
_INSERT_MOVEMENT = insert(MOVEMENTS).returning(MOVEMENTS.c.id)
_SET_BALANCE = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.id == bindparam("account_id"))
    .values(balance=bindparam("balance"))
)


async def write_movement(
    connection: AsyncConnection,
    *,
    account_id: int,
    kind: MovementKind,
    amount: Points,
    balance: Points,
    at: datetime,
    reason: str,
    reference: str,
    key: str,
    incident_id: int | None = None,
    recharge_code_id: int | None = None,
) -> int:
    """Append a movement and write the account's cached balance, in the caller's
    transaction, which holds the account's lock."""
    movement_id: int = (
        await connection.execute(
            _INSERT_MOVEMENT,
            {
                "account_id": account_id,
                "kind": kind.value,
                "amount": amount,
                "balance_after": balance,
                "created_at": at,
                "reason": reason,
                "reference": reference,
                "incident_id": incident_id,
                "recharge_code_id": recharge_code_id,
                "idempotency_key": key,
            },
        )
    ).scalar_one()
    await connection.execute(_SET_BALANCE, {"account_id": account_id, "balance": balance})
    return movement_id
