"""Accounts, beneficiaries and caller identification (SPEC "Points account", "People").

seeds/000_0e15b6772b2a7f9e.txt: the holder manages the account online ("Créez ou supprimez
des ayants-droit"); a caller is recognised by caller ID as a beneficiary, or by account
number and phone access code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.clock import Clock
from callrouter.db.driver import driver_connection, is_postgres
from callrouter.db.hotpool import HotPool
from callrouter.identity.beneficiaries import (
    BeneficiaryView as BeneficiaryView,  # where the account API has always found it
)
from callrouter.identity.beneficiaries import (
    active,
    confirmed,
    elsewhere,
    view,
)
from callrouter.identity.callerid import normalise_caller_id
from callrouter.identity.callerindex import CallerIndex, KnownCaller
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
from callrouter.identity.models import Account, Beneficiary
from callrouter.identity.sources import address_source, entry_key, line_source
from callrouter.identity.throttle import SignInPolicy, default_policy
from callrouter.identity.throttle_store import Attempt, Channel, Standing, ThrottleStore

NAME_MAX_LENGTH = 200
#: How often spent throttle counters are deleted (on the next failure after that long).
FORGET_SPENT_EVERY = timedelta(hours=1)
_NUMBER_DRAWS = 20

log = structlog.get_logger(__name__)


class IdentificationStatus(StrEnum):
    CALLER_ID = "caller-id"
    PIN = "pin"
    UNKNOWN = "unknown"
    #: A wrong PIN, an account that does not exist, or a throttled try: the caller must not
    #: be able to tell them apart, so they are one status (the log tells them apart).
    WRONG_PIN = "wrong-pin"


@dataclass(frozen=True)
class Identification:
    """Who the caller is. `account_number` is set for caller-id, pin, and wrong-pin on an
    existing account (for the call records); `beneficiary_name` only for caller-id
    recognition."""

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
    """An account as its holder and the staff see it."""

    number: str
    holder_name: str
    balance: int
    created_at: datetime
    #: Points held for emergencies under way (issue 10): owned, not spendable.
    held: int = 0


_BY_CALLER_ID = (
    select(Account.number, Account.balance, Beneficiary.name)
    .join(Beneficiary.account)
    .where(
        Beneficiary.caller_id == bindparam("caller_id"),
        Beneficiary.removed_at.is_(None),
        Beneficiary.confirmed_at.is_not(None),
    )
)


#: `_BY_CALLER_ID` for asyncpg (the identification tests run on both databases).
_BY_CALLER_ID_ON_POSTGRES = (
    "SELECT accounts.number, accounts.balance, beneficiaries.name "
    "FROM beneficiaries JOIN accounts ON accounts.id = beneficiaries.account_id "
    "WHERE beneficiaries.caller_id = $1 AND beneficiaries.removed_at IS NULL"
    " AND beneficiaries.confirmed_at IS NOT NULL"
)


class IdentityService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        hasher: CodeHasher | None = None,
        pin_throttle: SignInPolicy | None = None,
        web_throttle: SignInPolicy | None = None,
        hot_pool: HotPool | None = None,
        callers: CallerIndex | None = None,
    ) -> None:
        self._sessions = sessions
        #: PostgreSQL: the identification by caller ID goes through it once it is open.
        self._hot_pool = hot_pool
        #: PostgreSQL: answers the identification by caller ID from memory while it can.
        self._callers = callers
        engine = sessions.kw.get("bind")
        if not isinstance(engine, AsyncEngine):
            raise TypeError("the identity service needs sessions bound to an AsyncEngine")
        self._engine = engine
        self._clock = clock
        self._hasher = hasher or CodeHasher()
        self._throttle = ThrottleStore(
            sessions,
            {
                Channel.PIN: pin_throttle or default_policy(),
                Channel.WEB: web_throttle or default_policy(),
            },
        )
        self._next_forget: datetime | None = None

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
        """Staff (a coordinator, at the shell) vouch for the number: it is confirmed at once.
        A caller id belongs to one confirmed beneficiary at most, across all accounts."""
        return await self._add_beneficiary(account_number, name, caller_id, vouched=True)

    async def name_beneficiary(
        self, account_number: str, name: str, caller_id: str
    ) -> BeneficiaryView:
        """The holder names a number: it stays pending, unrecognised, until the first call
        from that very number authenticated with the account's PIN proves it. Whether the
        number is a customer elsewhere is never looked at here, so the answer tells the
        holder nothing about other accounts; a number confirmed elsewhere simply never gets
        confirmed here (its own line, and staff, can learn why)."""
        return await self._add_beneficiary(account_number, name, caller_id, vouched=False)

    async def _add_beneficiary(
        self, account_number: str, name: str, caller_id: str, *, vouched: bool
    ) -> BeneficiaryView:
        beneficiary_name = _check_name(name, "beneficiary")
        normalised = normalise_caller_id(caller_id)
        now = self._clock.now()
        try:
            async with self._sessions.begin() as session:
                account = await _account(session, account_number)
                mine = await session.scalar(
                    select(
                        exists().where(*active(normalised), Beneficiary.account_id == account.id)
                    )
                )
                if mine:
                    raise BeneficiaryExists(
                        f"caller id {normalised} is already a beneficiary of account "
                        f"{account.number}"
                    )
                if vouched and await session.scalar(
                    select(exists().where(*active(normalised), *confirmed()))
                ):
                    raise elsewhere(normalised)
                beneficiary = Beneficiary(
                    account_id=account.id,
                    name=beneficiary_name,
                    caller_id=normalised,
                    created_at=now,
                    confirmed_at=now if vouched else None,
                )
                session.add(beneficiary)
        except IntegrityError:
            # Someone confirmed the same caller id between our check and our insert.
            raise elsewhere(normalised) from None
        log.info(
            "identity.beneficiary_added",
            account=account.number,
            caller_id=normalised,
            confirmed=vouched,
        )
        return view(account.number, beneficiary)

    async def remove_beneficiary(self, account_number: str, caller_id: str) -> BeneficiaryView:
        """Stop recognising `caller_id` for the account; the row stays, for history."""
        normalised = normalise_caller_id(caller_id)
        async with self._sessions.begin() as session:
            account = await _account(session, account_number)
            beneficiary = await session.scalar(
                select(Beneficiary).where(Beneficiary.account_id == account.id, *active(normalised))
            )
            if beneficiary is None:
                raise BeneficiaryNotFound(account.number, normalised)
            beneficiary.removed_at = self._clock.now()
        log.info("identity.beneficiary_removed", account=account.number, caller_id=normalised)
        return view(account.number, beneficiary)

    async def list_beneficiaries(
        self, account_number: str, *, include_removed: bool = False
    ) -> list[BeneficiaryView]:
        async with self._sessions() as session:
            account = await _account(session, account_number)
            query = select(Beneficiary).where(Beneficiary.account_id == account.id)
            if not include_removed:
                query = query.where(Beneficiary.removed_at.is_(None))
            beneficiaries = (await session.scalars(query.order_by(Beneficiary.id))).all()
        return [view(account.number, beneficiary) for beneficiary in beneficiaries]

    # Identification

    async def identify_caller(
        self, caller_id: str | None, account_entry: str | None, pin: str | None
    ) -> Identification:
        """Who is calling, from the HotlineCall event's Caller, Account and Pin headers.

        An account number and PIN typed in full are what the caller says about themselves:
        they are checked first and win over caller-ID recognition (a number can be named by
        anyone; only the PIN proves the account). Without them, a confirmed beneficiary's
        caller ID is enough (one indexed query). Nothing keyed and no caller ID is
        "unknown"; a partial entry, an account that does not exist, a wrong PIN and a
        throttled try are all "wrong-pin", so the caller may try again and learns nothing
        about which accounts exist or are under attack.
        """
        entry = (account_entry or "").strip()
        keyed_pin = (pin or "").strip()
        if entry and keyed_pin:
            return await self._identify_by_pin(caller_id, entry, keyed_pin)
        recognised = await self._recognise(caller_id)
        if recognised is not None:
            return recognised
        if not entry and not keyed_pin:
            return Identification(IdentificationStatus.UNKNOWN)
        return Identification(IdentificationStatus.WRONG_PIN)

    async def verify_web_code(
        self, account_number: str, code: str, client_address: str | None = None
    ) -> AccountSummary:
        """Sign-in to the online account from `client_address`. Raises InvalidCredentials
        (without saying whether the number or the code was wrong) or SignInLocked when this
        client has failed too often; an invented number gets exactly the same answers as a
        real one. A throttled try is refused before any hashing, so an anonymous client
        cannot make the server burn argon2 time past its budget."""
        attempt = Attempt(Channel.WEB, entry_key(account_number), address_source(client_address))
        now = self._clock.now()
        async with self._sessions() as session:
            standing = await self._throttle.standing(session, attempt)
            # On the web, a source is known to an account only by an earlier success from it.
            until = standing.blocked_until(known_source=standing.proven, now=now)
            if until is not None:
                log.warning("identity.throttled", channel="web", source=attempt.source)
                raise SignInLocked(until)
            account = await session.scalar(
                select(Account).where(Account.number == account_number.strip())
            )
        matched = await self._hasher.verify_web_code(
            account.web_code_hash if account is not None else None, code
        )
        if account is None or not matched:
            after = await self._failed(attempt, known_source=standing.proven, now=now)
            until = after.blocked_until(known_source=standing.proven, now=now)
            if until is not None:
                raise SignInLocked(until)
            raise InvalidCredentials()
        if not standing.pair_is_clean:
            await self._throttle.record_success(attempt, now)
        return self._summary(account)

    async def _recognise(self, caller_id: str | None) -> Identification | None:
        if not caller_id:
            return None
        try:
            normalised = normalise_caller_id(caller_id)
        except InvalidCallerId:
            return None
        # Every call starts here (bench/routing_latency.py): on PostgreSQL the index in
        # memory answers when it is sure, else the statement goes straight to the driver
        # (the hot pool's when open); elsewhere through a bare connection, never a session.
        if self._callers is not None:
            known = self._callers.lookup(normalised)
            if known is None:
                return None
            if isinstance(known, KnownCaller):
                return Identification(
                    IdentificationStatus.CALLER_ID,
                    known.account_number,
                    known.beneficiary_name,
                    known.balance,
                )
        if self._hot_pool is not None and self._hot_pool.is_open:
            row = await self._hot_pool.fetchrow(_BY_CALLER_ID_ON_POSTGRES, normalised)
        elif is_postgres(self._engine):
            async with driver_connection(self._engine) as driver:
                row = await driver.fetchrow(_BY_CALLER_ID_ON_POSTGRES, normalised)
        else:
            async with self._engine.connect() as connection:
                row = (await connection.execute(_BY_CALLER_ID, {"caller_id": normalised})).first()
        if row is None:
            return None
        number, balance, name = row[0], row[1], row[2]
        return Identification(IdentificationStatus.CALLER_ID, number, name, balance)

    async def _identify_by_pin(self, caller_id: str | None, entry: str, pin: str) -> Identification:
        attempt = Attempt(Channel.PIN, entry_key(entry), line_source(caller_id))
        line = attempt.source.removeprefix("tel:")
        now = self._clock.now()
        async with self._sessions() as session:
            standing = await self._throttle.standing(session, attempt)
            found = (
                await session.execute(
                    select(
                        Account,
                        exists().where(
                            Beneficiary.account_id == Account.id, *active(line), *confirmed()
                        ),
                        exists().where(
                            Beneficiary.account_id == Account.id,
                            *active(line),
                            Beneficiary.confirmed_at.is_(None),
                        ),
                    ).where(Account.number == entry)
                )
            ).first()
        account, own_line, pending = (
            (found[0], found[1], found[2]) if found else (None, False, False)
        )
        # The holder's own proven line, or a line that already succeeded here, is judged by
        # its own failures only: strangers elsewhere cannot keep it out.
        known = standing.proven or bool(own_line)
        number = account.number if account is not None else None
        if standing.blocked_until(known_source=known, now=now) is not None:
            log.warning("identity.throttled", channel="pin", account=number, source=attempt.source)
            return Identification(IdentificationStatus.WRONG_PIN, number)
        check = await self._hasher.verify_pin(account.pin_hash if account else None, pin)
        if account is None or not check.matched:
            await self._failed(attempt, known_source=known, now=now)
            return Identification(IdentificationStatus.WRONG_PIN, number)
        if not standing.pair_is_clean:
            await self._throttle.record_success(attempt, now)
        if check.needs_rehash:
            await self._rehash_pin(account.id, pin)
        if pending:
            await self._confirm_by_call(account, line, now)
        return Identification(IdentificationStatus.PIN, account.number, balance=account.balance)

    async def _failed(self, attempt: Attempt, *, known_source: bool, now: datetime) -> Standing:
        """Count the failure; about once an hour, also forget the counters that are spent."""
        after = await self._throttle.record_failure(attempt, known_source=known_source, now=now)
        if self._next_forget is None or now >= self._next_forget:
            self._next_forget = now + FORGET_SPENT_EVERY
            forgotten = await self._throttle.forget_spent(now)
            log.info("identity.throttle_counters_forgotten", count=forgotten)
        return after

    async def _rehash_pin(self, account_id: int, pin: str) -> None:
        """The PIN is known right now: store it under the current scheme (pepper, cost)."""
        fresh = await self._hasher.hash_pin(pin)
        async with self._sessions.begin() as session:
            await session.execute(
                update(Account).where(Account.id == account_id).values(pin_hash=fresh)
            )
        log.info("identity.pin_rehashed", account_id=account_id)

    async def _confirm_by_call(self, account: Account, line: str, now: datetime) -> None:
        """A call from the pending number, authenticated with the account's PIN, proves the
        number belongs to someone the holder trusts. Refused if the number is already
        confirmed elsewhere (the unique index decides any race)."""
        try:
            async with self._sessions.begin() as session:
                if await session.scalar(select(exists().where(*active(line), *confirmed()))):
                    log.warning(
                        "identity.beneficiary_taken", account=account.number, caller_id=line
                    )
                    return
                await session.execute(
                    update(Beneficiary)
                    .where(
                        Beneficiary.account_id == account.id,
                        *active(line),
                        Beneficiary.confirmed_at.is_(None),
                    )
                    .values(confirmed_at=now)
                )
        except IntegrityError:
            log.warning("identity.beneficiary_taken", account=account.number, caller_id=line)
            return
        log.info("identity.beneficiary_confirmed", account=account.number, caller_id=line)

    def _summary(self, account: Account) -> AccountSummary:
        return AccountSummary(
            number=account.number,
            holder_name=account.holder_name,
            balance=account.balance,
            created_at=account.created_at,
            held=account.held,
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
