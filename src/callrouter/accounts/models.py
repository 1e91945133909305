"""Staff (coordinators, supervisors, admins) allowed to call the staff routes of the API.

Each holds one API key, shown once at creation and stored as a SHA-256 hash: the key is
128 random bits, so no slow hash is needed and it can be found by its public key id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from callrouter.db.base import Base
from callrouter.db.types import UTCDateTime

OPERATOR_NAME_MAX_LENGTH = 200
KEY_ID_LENGTH = 12
ROLE_MAX_LENGTH = 16


class Operator(Base):
    __tablename__ = "operators"
    __table_args__ = (
        # One active key per name, so "revoke NAME" is unambiguous; revoked rows stay.
        Index(
            "ix_operators_active_name",
            "name",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(OPERATOR_NAME_MAX_LENGTH))
    key_id: Mapped[str] = mapped_column(String(KEY_ID_LENGTH), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    # coordinator, supervisor or admin (callrouter.http.access.Role): what the key opens.
    role: Mapped[str] = mapped_column(String(ROLE_MAX_LENGTH), server_default="coordinator")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
