"""Recharge codes: drawn for a pack card, redeemed once to credit the pack's points.

seeds/000_0e15b6772b2a7f9e.txt: a pack card carries a one-time code; entering it credits
the account once. Only the codes' hashes are stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from callrouter.identity.errors import AccountNotFound
from callrouter.identity.service import IdentityService, NewAccount
from callrouter.ledger.codes import generate_recharge_code, hash_recharge_code
from callrouter.ledger.context import LedgerContext
from callrouter.ledger.errors import (
    InvalidAmount,
    RechargeCodeAlreadyRedeemed,
    RechargeCodeExpired,
    UnknownRechargeCode,
)
from callrouter.ledger.idempotency import idempotent
from callrouter.ledger.postings import LOCK_ACCOUNT_BY_NUMBER, MovementKind, write_movement
from callrouter.ledger.prices import Points
from callrouter.ledger.tables import ACCOUNTS, CODES, MOVEMENTS, LedgerRow

log = structlog.get_logger(__name__)

MAX_CODES_PER_BATCH = 10_000


@dataclass(frozen=True)
class Redemption:
    account_number: str
    pack_reference: str
    points: Points
    balance: Points
    replayed: bool


@dataclass(frozen=True)
class IssuedCode:
    """A recharge code in clear: returned once at issue, only its hash is kept."""

    code: str
    pack_reference: str
    points: Points
    expires_at: datetime


class Recharges:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    async def issue_codes(
        self, pack_reference: str, count: int, *, validity: timedelta | None = None
    ) -> list[IssuedCode]:
        """Draw `count` one-time codes for a pack; only their hashes are stored."""
        context = self._context
        pack = context.config.packs.pack(pack_reference)
        if (
            isinstance(count, bool)
            or not isinstance(count, int)
            or not 0 < count <= MAX_CODES_PER_BATCH
        ):
            raise InvalidAmount(f"issue 1 to {MAX_CODES_PER_BATCH} codes at a time, not {count}")
        lifetime = validity if validity is not None else context.config.code_validity
        if lifetime <= timedelta(0):
            raise InvalidAmount("a recharge code must stay valid for some time")
        now = context.clock.now()
        expires_at = now + lifetime
        codes = [generate_recharge_code() for _ in range(count)]
        async with context.sessions.begin() as session:
            connection = await session.connection()
            await connection.execute(
                insert(CODES),
                [
                    {
                        "code_hash": hash_recharge_code(code),
                        "pack_reference": pack.reference,
                        "points": pack.points,
                        "issued_at": now,
                        "expires_at": expires_at,
                        "redeemed_at": None,
                        "redeemed_by": None,
                    }
                    for code in codes
                ],
            )
        log.info("ledger.codes_issued", pack=pack.reference, count=count, expires_at=expires_at)
        return [IssuedCode(code, pack.reference, pack.points, expires_at) for code in codes]

    async def redeem_code(self, account_number: str, code: str) -> Redemption:
        """Credit the account with the code's pack, exactly once. The same account entering
        the same code again gets the first result back; any other use is refused."""
        code_hash = hash_recharge_code(code)
        context = self._context

        async def work() -> Redemption:
            async with context.sessions.begin() as session:
                connection = await session.connection()
                found = (
                    await connection.execute(
                        select(CODES).where(CODES.c.code_hash == code_hash).with_for_update()
                    )
                ).first()
                if found is None:
                    raise UnknownRechargeCode()
                if found.redeemed_at is not None:
                    return await _earlier_redemption(connection, found, account_number)
                now = context.clock.now()
                if found.expires_at <= now:
                    raise RechargeCodeExpired(found.expires_at)
                account = (
                    await connection.execute(LOCK_ACCOUNT_BY_NUMBER, {"number": account_number})
                ).first()
                if account is None:
                    raise AccountNotFound(account_number)
                balance = account.balance + found.points
                await write_movement(
                    connection,
                    account_id=account.id,
                    kind=MovementKind.CREDIT,
                    amount=found.points,
                    balance=balance,
                    at=now,
                    reason=f"recharge code of pack {found.pack_reference}",
                    reference=f"pack {found.pack_reference}, code #{found.id}",
                    recharge_code_id=found.id,
                    key=f"recharge-code:{found.id}",
                )
                await connection.execute(
                    update(CODES)
                    .where(CODES.c.id == found.id)
                    .values(redeemed_at=now, redeemed_by=account.id)
                )
            log.info(
                "ledger.code_redeemed", account=account_number, code_id=found.id, balance=balance
            )
            return Redemption(
                account_number, found.pack_reference, found.points, balance, replayed=False
            )

        async def replay() -> Redemption | None:
            # Reached only when a racing redemption committed first; `work` then reads it.
            return await work()

        return await idempotent(work, replay)

    async def redeem_code_opening_account(
        self, code: str, holder_name: str, identity: IdentityService
    ) -> tuple[NewAccount, Redemption]:
        """A first order paid with a recharge code: open the account ("A la première commande
        est créé un compte"), then credit it. The code is checked first, so a bad code
        opens nothing; only a code redeemed by someone else in between leaves an empty
        account behind, and that is reported as the code being used."""
        async with self._context.sessions() as session:
            found = (
                await session.execute(
                    select(CODES.c.expires_at, CODES.c.redeemed_at).where(
                        CODES.c.code_hash == hash_recharge_code(code)
                    )
                )
            ).first()
        if found is None:
            raise UnknownRechargeCode()
        if found.redeemed_at is not None:
            raise RechargeCodeAlreadyRedeemed(found.redeemed_at)
        if found.expires_at <= self._context.clock.now():
            raise RechargeCodeExpired(found.expires_at)
        account = await identity.create_account(holder_name)
        return account, await self.redeem_code(account.number, code)


async def _earlier_redemption(
    connection: AsyncConnection, code: LedgerRow, account_number: str
) -> Redemption:
    """The code was used: by this account, that was this very redemption (a replay)."""
    row = (
        await connection.execute(
            select(MOVEMENTS.c.balance_after, ACCOUNTS.c.number)
            .join_from(MOVEMENTS, ACCOUNTS, MOVEMENTS.c.account_id == ACCOUNTS.c.id)
            .where(MOVEMENTS.c.recharge_code_id == code.id)
        )
    ).one()
    if row.number != account_number:
        raise RechargeCodeAlreadyRedeemed(code.redeemed_at)
    return Redemption(account_number, code.pack_reference, code.points, row.balance_after, True)
