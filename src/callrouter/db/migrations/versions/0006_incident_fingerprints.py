"""Incidents keep a fingerprint of their opening request next to its idempotency key.

The same key sent again with a different request (another level, pass, third party...) is
refused instead of replaying the first incident. Incidents opened before this revision
keep NULL: their requests were not kept, so they are compared by account only, as before.

Revision ID: 0006_incident_fingerprints
Revises: 0004_staff_roles
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_incident_fingerprints"
down_revision: str | None = "0005_identity_throttle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("open_fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("open_fingerprint")
