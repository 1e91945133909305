"""Core handles on the tables the ledger reads and writes.

The ledger works with Core statements, not ORM objects: its transactions are short and on
the hot path a session's bookkeeping costs about as much CPU as one more statement.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy import Row, Table

from callrouter.identity.models import Account
from callrouter.ledger.models import Hold, Incident, IncidentEvent, Movement, RechargeCode

#: A row of a Core select: columns are read by name.
LedgerRow: TypeAlias = Row[*tuple[Any, ...]]


def _table(model: type[Any]) -> Table:
    table: Table = model.metadata.tables[model.__tablename__]
    return table


ACCOUNTS = _table(Account)
MOVEMENTS = _table(Movement)
CODES = _table(RechargeCode)
INCIDENTS = _table(Incident)
EVENTS = _table(IncidentEvent)
HOLDS = _table(Hold)
