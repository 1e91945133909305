"""Opening an incident on PostgreSQL in one prepared statement sent straight to asyncpg.

Through SQLAlchemy, each statement costs more client CPU than the database's work: this
path keeps bench/ledger_debits.py above 1,200 debits/s with 20 clients. It writes exactly
the rows of the portable path in callrouter.ledger.incidents, in the same order.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from callrouter.db.driver import driver_connection
from callrouter.identity.errors import AccountNotFound
from callrouter.ledger.errors import InsufficientBalance
from callrouter.ledger.idempotency import OPEN_KEY_PREFIX
from callrouter.ledger.opening import OpenedIncident, OpeningRequest, check_replay
from callrouter.ledger.prices import ON_QUOTE, OnQuote, Points, Price

# The whole opening, in one statement and so one round trip. The account row is locked
# first (after waiting for a concurrent debit, FOR UPDATE returns its committed balance, and
# the UPDATE at the end follows that same row version); the key look-up reads the
# statement's snapshot, so a request with the same key committed while we waited for the
# lock is caught by the unique key instead, as on the portable path. Every data-modifying
# CTE runs whether or not the final SELECT reads it; each inserts nothing unless an
# incident was opened. Points held for emergency calls (callrouter.ledger.holds) are not
# spendable: the opening needs `balance - held`.
_OPEN_ON_POSTGRES = """
WITH account AS (
    SELECT id, balance, held FROM accounts WHERE number = $1 FOR UPDATE
), earlier AS (
    SELECT incidents.id, incidents.price, incidents.debited, incidents.balance_after,
        incidents.open_fingerprint, accounts.number
    FROM incidents JOIN accounts ON accounts.id = incidents.account_id
    WHERE incidents.open_key = $2
), incident AS (
    INSERT INTO incidents (account_id, level, chosen_pass, third_party, emergency,
        classification, price, debited, balance_after, summary, opening_call, opened_at,
        open_key, open_fingerprint, refunded_at)
    SELECT id, $4, $5, $6, $7, $8, $9, $3::integer, balance - $3::integer, $10, $11, $12,
        $2, $15, NULL
    FROM account
    WHERE balance - held >= $3::integer AND NOT EXISTS (SELECT FROM earlier)
    RETURNING id, account_id, balance_after
), movement AS (
    INSERT INTO ledger_movements (account_id, kind, amount, balance_after, created_at, reason,
        reference, incident_id, recharge_code_id, idempotency_key)
    SELECT account_id, 'debit', -$3::integer, balance_after, $12, $13,
        'incident ' || id, id, NULL, $14
    FROM incident
    WHERE $3::integer > 0
), cached_balance AS (
    UPDATE accounts SET balance = incident.balance_after
    FROM incident
    WHERE accounts.id = incident.account_id AND $3::integer > 0
)
SELECT account.balance, account.held, incident.id AS incident_id, earlier.id AS earlier_id,
    earlier.price AS earlier_price, earlier.debited AS earlier_debited,
    earlier.balance_after AS earlier_balance, earlier.number AS earlier_number,
    earlier.open_fingerprint AS earlier_fingerprint
FROM (VALUES (1)) AS one (n)
    LEFT JOIN account ON true
    LEFT JOIN incident ON true
    LEFT JOIN earlier ON true
"""


async def open_on_postgres(
    engine: AsyncEngine,
    request: OpeningRequest,
    key: str,
    price: Price,
    due: Points,
    now: datetime,
) -> OpenedIncident:
    """The opening, sent on the driver's connection as a prepared statement (asyncpg caches
    it per connection)."""
    account_number = request.account_number
    async with driver_connection(engine) as driver:
        try:
            # No BEGIN: a single statement is its own transaction.
            row = await driver.fetchrow(
                _OPEN_ON_POSTGRES,
                account_number,
                key,
                due,
                request.level.value,
                request.pass_.value,
                request.third_party,
                request.emergency,
                request.classification.value,
                None if isinstance(price, OnQuote) else due,
                request.summary,
                request.call,
                now,
                f"incident opened: {request.description()}",
                f"{OPEN_KEY_PREFIX}{key}",
                request.fingerprint,
            )
        except asyncpg.UniqueViolationError as error:
            # A racing request with the same key committed first: the caller replays it.
            raise IntegrityError(_OPEN_ON_POSTGRES, None, error) from error
    if row["balance"] is None:
        raise AccountNotFound(account_number)
    if row["earlier_id"] is not None:
        check_replay(
            key,
            request,
            incident_id=row["earlier_id"],
            account_number=row["earlier_number"],
            fingerprint=row["earlier_fingerprint"],
        )
        return OpenedIncident(
            incident_id=row["earlier_id"],
            account_number=account_number,
            price=ON_QUOTE if row["earlier_price"] is None else row["earlier_price"],
            debited=row["earlier_debited"],
            balance=row["earlier_balance"],
            replayed=True,
        )
    if row["incident_id"] is None:
        raise InsufficientBalance(account_number, row["balance"] - row["held"], due)
    return OpenedIncident(
        row["incident_id"], account_number, price, due, row["balance"] - due, replayed=False
    )
