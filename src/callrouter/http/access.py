"""Who calls the HTTP API, and how much personal data each of them is shown.

Roles: an account holder (signed-in token) sees their own account only; staff hold an API
key with one role:

- coordinator: takes the calls. Opens and reclassifies incidents, looks up any account (with
  its beneficiaries' full numbers, to confirm or call them back) and watches the queues they
  answer, where waiting callers' numbers are masked and names hidden: their phone already
  shows the caller they pick up.
- supervisor: watches the hotline (queues, live calls, the latest routing decisions) with
  numbers masked, names hidden and no account numbers: enough to see waiting times,
  priorities and where calls went, nothing to identify a customer with.
- admin: everything staff can do, with full numbers, names and the account numbers typed in
  failed PIN attempts (to investigate abuse).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Role(enum.StrEnum):
    HOLDER = "holder"
    COORDINATOR = "coordinator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


STAFF_ROLES = (Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN)


@dataclass(frozen=True)
class Principal:
    """Whoever signed the request: `subject` is a holder's account number or an operator's
    name; `key_id` the operator's public key id (namespaces their idempotency keys)."""

    role: Role
    subject: str
    key_id: str | None = None


@dataclass(frozen=True)
class Visibility:
    full_caller_ids: bool
    caller_names: bool
    account_numbers: bool


_VISIBILITY = {
    Role.ADMIN: Visibility(full_caller_ids=True, caller_names=True, account_numbers=True),
    Role.SUPERVISOR: Visibility(full_caller_ids=False, caller_names=False, account_numbers=False),
    Role.COORDINATOR: Visibility(full_caller_ids=False, caller_names=False, account_numbers=False),
}
_NOTHING = Visibility(full_caller_ids=False, caller_names=False, account_numbers=False)


def visibility(role: Role) -> Visibility:
    """What of the callers' personal data a role sees in the live views."""
    return _VISIBILITY.get(role, _NOTHING)


MASK = "•"
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]*$")
_ACCOUNT_NUMBER = re.compile(r"\b[0-9]{8}\b")


def mask_caller_id(caller_id: str) -> str:
    """`0612345578` -> `06 •• •• •5 78`: the first two and last three digits of a long
    number, only the last two of a short one (an extension), grouped by two from the end.
    Anything that is not a phone number ("anonymous", a name) is masked whole."""
    if not caller_id:
        return caller_id
    if not _PHONE.match(caller_id):
        return MASK * 3
    prefix = "+" if caller_id.startswith("+") else ""
    digits = [character for character in caller_id if character.isdigit()]
    head, tail = (2, 3) if len(digits) >= 8 else (0, min(2, len(digits) - 1))
    shown = [
        digit if index < head or index >= len(digits) - tail else MASK
        for index, digit in enumerate(digits)
    ]
    groups: list[str] = []
    while shown:
        groups.insert(0, "".join(shown[-2:]))
        del shown[-2:]
    return prefix + " ".join(groups)


# A phone number inside a channel name or an extension ("Local/0612345578@hotline-0000001a;1"):
# six digits or more, not the "-00000001" sequence suffix Asterisk adds to channel names.
_NUMBER_IN_TEXT = re.compile(r"(?<![-\w])\+?[0-9]{6,}")


def mask_numbers_in(text: str) -> str:
    """`text` with every phone number in it masked as `mask_caller_id` does."""
    return _NUMBER_IN_TEXT.sub(lambda found: mask_caller_id(found.group()), text)


def mask_account_numbers(text: str) -> str:
    """A routing reason with any account number in it masked ("account •••••••• has ...")."""
    return _ACCOUNT_NUMBER.sub(MASK * 8, text)
