"""Accounts, beneficiaries and caller identification (SPEC "Points account", "People").

seeds/000_0e15b6772b2a7f9e.txt: the holder manages the account online ("Créez ou supprimez
des ayants-droit"); a caller is recognised by caller ID as a beneficiary, or by account
number and phone access code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

import structlog
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.clock import Clock
from callrouter.db.driver import driver_connection, is_postgres
from callrouter.identity.callerid import normalise_caller_id
from callrouter.identity.codes import (
    CodeHasher,
    check_pin,
    check_web_code,
    generate_account_number,
    generate_pin,
    generate_web_code,
)
from callrouter.identity.errors import (
    AccountNotFound,
    BeneficiaryExists,
    BeneficiaryNotFound,
    InvalidCallerId,
    InvalidCredentials,
    InvalidName,
    NoFreeAccountNumber,
    SignInLocked,
)
from callrouter.identity.lockout import AttemptState, LockoutPolicy, after_failure
from callrouter.identity.models import Account, Beneficiary

NAME_MAX_LENGTH = 200
_NUMBER_DRAWS = 20

log = structlog.get_logger(__name__)


class IdentificationStatus(StrEnum):
    CALLER_ID = "caller-id"
    PIN = "pin"
    UNKNOWN = "unknown"
    WRONG_PIN = "wrong-pin"
    LOCKED = "locked"


@dataclass(frozen=True)
class Identification:
    """Who the caller is. `account_number` is set for caller-id, pin, locked, and wrong-pin
    on an existing account; `beneficiary_name` only for caller-id recognition."""

    status: IdentificationStatus
    account_number: str | None = None
    beneficiary_name: str | None = None
    #: The account's points when identified (caller-id or pin): read in the same query,
    #: so routing checks the price without another round trip.
    balance: int | None = None


@dataclass(frozen=True)
class NewAccount:
    """A freshly created account with its codes in clear: shown once, never stored so."""

    number: str
    holder_name: str
    pin: str
    web_code: str


@dataclass(frozen=True)
class AccountSummary:
    """An account as its holder and the staff see it; a lock is shown only while it lasts."""

    number: str
    holder_name: str
    balance: int
    created_at: datetime
    pin_locked_until: datetime | None
    web_locked_until: datetime | None


@dataclass(frozen=True)
class BeneficiaryView:
    account_number: str
    name: str
    caller_id: str
    created_at: datetime
    removed_at: datetime | None


_BY_CALLER_ID = (
    select(Account.number, Account.balance, Beneficiary.name)
    .join(Beneficiary.account)
    .where(Beneficiary.caller_id == bindparam("caller_id"), Beneficiary.removed_at.is_(None))
)


#: `_BY_CALLER_ID` for asyncpg (the identification tests run on both databases).
_BY_CALLER_ID_ON_POSTGRES = (
    "SELECT accounts.number, accounts.balance, beneficiaries.name "
    "FROM beneficiaries JOIN accounts ON accounts.id = beneficiaries.account_id "
    "WHERE beneficiaries.caller_id = $1 AND beneficiaries.removed_at IS NULL"
)


class IdentityService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        hasher: CodeHasher | None = None,
        pin_lockout: LockoutPolicy | None = None,
        web_lockout: LockoutPolicy | None = None,
    ) -> None:
        self._sessions = sessions
        engine = sessions.kw.get("bind")
        if not isinstance(engine, AsyncEngine):
            raise TypeError("the identity service needs sessions bound to an AsyncEngine")
        self._engine = engine
        self._clock = clock
        self._hasher = hasher or CodeHasher()
        self._pin_lockout = pin_lockout or LockoutPolicy()
        self._web_lockout = web_lockout or LockoutPolicy()

    # Accounts

    async def create_account(
        self, holder_name: str, *, pin: str | None = None, web_code: str | None = None
    ) -> NewAccount:
        """Open an account with the given codes, or freshly drawn ones."""
        holder = _check_name(holder_name, "holder")
        pin = check_pin(pin) if pin is not None else generate_pin()
        web_code = check_web_code(web_code) if web_code is not None else generate_web_code()
        pin_hash = await self._hasher.hash_pin(pin)
        web_code_hash = await self._hasher.hash_web_code(web_code)
        for _ in range(_NUMBER_DRAWS):
            number = generate_account_number()
            try:
                async with self._sessions.begin() as session:
                    session.add(
                        Account(
                            number=number,
                            holder_name=holder,
                            pin_hash=pin_hash,
                            web_code_hash=web_code_hash,
                            created_at=self._clock.now(),
                        )
                    )
            except IntegrityError:
                continue
            log.info("identity.account_created", account=number)
            return NewAccount(number=number, holder_name=holder, pin=pin, web_code=web_code)
        raise NoFreeAccountNumber(f"no free account number after {_NUMBER_DRAWS} draws")

    async def get_account(self, number: str) -> AccountSummary:
        async with self._sessions() as session:
            return self._summary(await _account(session, number))

    async def list_accounts(self) -> list[AccountSummary]:
        async with self._sessions() as session:
            accounts = (await session.scalars(select(Account).order_by(Account.number))).all()
        return [self._summary(account) for account in accounts]

    # Beneficiaries

    async def add_beneficiary(
        self, account_number: str, name: str, caller_id: str
    ) -> BeneficiaryView:
        """Allow the person at `caller_id` to use the account; a caller id belongs to one
        active beneficiary at most, across all accounts."""
        beneficiary_name = _check_name(name, "beneficiary")
        normalised = normalise_caller_id(caller_id)
        try:
            async with self._sessions.begin() as session:
                account = await _account(session, account_number)
                holder_of = await session.scalar(
                    select(Account.number)
                    .join(Beneficiary.account)
                    .where(Beneficiary.caller_id == normalised, Beneficiary.removed_at.is_(None))
                )
                if holder_of is not None:
                    raise _already_registered(normalised, account.number, holder_of)
                beneficiary = Beneficiary(
                    account_id=account.id,
                    name=beneficiary_name,
                    caller_id=normalised,
                    created_at=self._clock.now(),
                )
                session.add(beneficiary)
        except IntegrityError:
            # Someone registered the same caller id between our check and our insert.
            raise BeneficiaryExists(
                f"caller id {normalised} is already registered as a beneficiary"
            ) from None
        log.info("identity.beneficiary_added", account=account.number, caller_id=normalised)
        return _view(account.number, beneficiary)

    async def remove_beneficiary(self, account_number: str, caller_id: str) -> BeneficiaryView:
        """Stop recognising `caller_id` for the account; the row stays, for history."""
        normalised = normalise_caller_id(caller_id)
        async with self._sessions.begin() as session:
            account = await _account(session, account_number)
            beneficiary = await session.scalar(
                select(Beneficiary).where(
                    Beneficiary.account_id == account.id,
                    Beneficiary.caller_id == normalised,
                    Beneficiary.removed_at.is_(None),
                )
            )
            if beneficiary is None:
                raise BeneficiaryNotFound(account.number, normalised)
            beneficiary.removed_at = self._clock.now()
        log.info("identity.beneficiary_removed", account=account.number, caller_id=normalised)
        return _view(account.number, beneficiary)

    async def list_beneficiaries(
        self, account_number: str, *, include_removed: bool = False
    ) -> list[BeneficiaryView]:
        async with self._sessions() as session:
            account = await _account(session, account_number)
            query = select(Beneficiary).where(Beneficiary.account_id == account.id)
            if not include_removed:
                query = query.where(Beneficiary.removed_at.is_(None))
            beneficiaries = (await session.scalars(query.order_by(Beneficiary.id))).all()
        return [_view(account.number, beneficiary) for beneficiary in beneficiaries]

    # Identification

    async def identify_caller(
        self, caller_id: str | None, account_entry: str | None, pin: str | None
    ) -> Identification:
        """Who is calling, from the HotlineCall event's Caller, Account and Pin headers.

        A caller id of an active beneficiary is enough (one indexed query). Otherwise the
        keyed account number and PIN are checked, counting failures towards the lockout.
        Nothing keyed at all is "unknown"; a partial entry or an account that does not
        exist is "wrong-pin", like a wrong PIN, so the caller may try again and learns
        nothing about which accounts exist.
        """
        recognised = await self._recognise(caller_id)
        if recognised is not None:
            return recognised
        entry = (account_entry or "").strip()
        keyed_pin = (pin or "").strip()
        if not entry and not keyed_pin:
            return Identification(IdentificationStatus.UNKNOWN)
        return await self._identify_by_pin(entry, keyed_pin)

    async def verify_web_code(self, account_number: str, code: str) -> AccountSummary:
        """Sign-in to the online account. Raises InvalidCredentials (without saying whether
        the number or the code was wrong) or SignInLocked after too many failures."""
        async with self._sessions() as session:
            account = await session.scalar(
                select(Account).where(Account.number == account_number.strip())
            )
        if account is None:
            await self._hasher.verify_web_code(None, code)
            raise InvalidCredentials()
        now = self._clock.now()
        state = AttemptState(account.web_failed_attempts, account.web_locked_until)
        if state.is_locked(now) and state.locked_until is not None:
            raise SignInLocked(account.number, state.locked_until)
        matched = await self._hasher.verify_web_code(account.web_code_hash, code)
        after = await self._record_attempt(account.id, "web", matched=matched)
        if matched:
            return self._summary(account)
        if after.locked_until is not None and after.is_locked(now):
            raise SignInLocked(account.number, after.locked_until)
        raise InvalidCredentials()

    async def _recognise(self, caller_id: str | None) -> Identification | None:
        if not caller_id:
            return None
        try:
            normalised = normalise_caller_id(caller_id)
        except InvalidCallerId:
            return None
        # Every call starts here (bench/routing_latency.py): on PostgreSQL the statement goes
        # straight to the driver, elsewhere through a bare connection, never a session.
        if is_postgres(self._engine):
            async with driver_connection(self._engine) as driver:
                row = await driver.fetchrow(_BY_CALLER_ID_ON_POSTGRES, normalised)
        else:
            async with self._engine.connect() as connection:
                row = (await connection.execute(_BY_CALLER_ID, {"caller_id": normalised})).first()
        if row is None:
            return None
        number, balance, name = row[0], row[1], row[2]
        return Identification(IdentificationStatus.CALLER_ID, number, name, balance)

    async def _identify_by_pin(self, entry: str, pin: str) -> Identification:
        account: Account | None = None
        if entry and pin:
            async with self._sessions() as session:
                account = await session.scalar(select(Account).where(Account.number == entry))
        if account is None:
            await self._hasher.verify_pin(None, pin)
            return Identification(IdentificationStatus.WRONG_PIN)
        now = self._clock.now()
        if AttemptState(account.pin_failed_attempts, account.pin_locked_until).is_locked(now):
            return Identification(IdentificationStatus.LOCKED, account.number)
        matched = await self._hasher.verify_pin(account.pin_hash, pin)
        needs_write = not matched or account.pin_failed_attempts or account.pin_locked_until
        if needs_write:
            after = await self._record_attempt(account.id, "pin", matched=matched)
            if not matched:
                if after.is_locked(now):
                    return Identification(IdentificationStatus.LOCKED, account.number)
                return Identification(IdentificationStatus.WRONG_PIN, account.number)
        return Identification(IdentificationStatus.PIN, account.number, balance=account.balance)

    async def _record_attempt(
        self, account_id: int, channel: Literal["pin", "web"], *, matched: bool
    ) -> AttemptState:
        """Apply the lockout rule to the account row, locked so that concurrent failures
        all count (the ledger locks the same row, briefly, for its own writes)."""
        policy = self._pin_lockout if channel == "pin" else self._web_lockout
        now = self._clock.now()
        async with self._sessions.begin() as session:
            account = await session.scalar(
                select(Account).where(Account.id == account_id).with_for_update()
            )
            if account is None:
                raise AccountNotFound(str(account_id))
            if channel == "pin":
                before = AttemptState(account.pin_failed_attempts, account.pin_locked_until)
            else:
                before = AttemptState(account.web_failed_attempts, account.web_locked_until)
            after = AttemptState() if matched else after_failure(policy, before, now)
            if channel == "pin":
                account.pin_failed_attempts = after.failures
                account.pin_locked_until = after.locked_until
            else:
                account.web_failed_attempts = after.failures
                account.web_locked_until = after.locked_until
        if after.locked_until is not None and after != before:
            log.warning(
                "identity.locked", account=account.number, channel=channel, until=after.locked_until
            )
        return after

    def _summary(self, account: Account) -> AccountSummary:
        now = self._clock.now()
        pin = AttemptState(account.pin_failed_attempts, account.pin_locked_until)
        web = AttemptState(account.web_failed_attempts, account.web_locked_until)
        return AccountSummary(
            number=account.number,
            holder_name=account.holder_name,
            balance=account.balance,
            created_at=account.created_at,
            pin_locked_until=pin.locked_until if pin.is_locked(now) else None,
            web_locked_until=web.locked_until if web.is_locked(now) else None,
        )


async def _account(session: AsyncSession, number: str) -> Account:
    cleaned = number.strip()
    account = await session.scalar(select(Account).where(Account.number == cleaned))
    if account is None:
        raise AccountNotFound(cleaned)
    return account


def _check_name(name: str, role: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidName(f"the {role} name is empty")
    if len(cleaned) > NAME_MAX_LENGTH:
        raise InvalidName(f"the {role} name is longer than {NAME_MAX_LENGTH} characters")
    return cleaned


def _already_registered(caller_id: str, account_number: str, holder_of: str) -> BeneficiaryExists:
    if holder_of == account_number:
        return BeneficiaryExists(
            f"caller id {caller_id} is already a beneficiary of account {account_number}"
        )
    return BeneficiaryExists(f"caller id {caller_id} is already registered to another account")


def _view(account_number: str, beneficiary: Beneficiary) -> BeneficiaryView:
    return BeneficiaryView(
        account_number=account_number,
        name=beneficiary.name,
        caller_id=beneficiary.caller_id,
        created_at=beneficiary.created_at,
        removed_at=beneficiary.removed_at,
    )
