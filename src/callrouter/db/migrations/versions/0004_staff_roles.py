"""Staff roles: each operator's API key opens the routes of one role.

Revision ID: 0004_staff_roles
Revises: 0003_operators
Create Date: 2026-12-01

Operators issued before roles existed were coordinators, and stay so.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_staff_roles"
down_revision: str | None = "0003_operators"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.add_column(
            sa.Column("role", sa.String(length=16), server_default="coordinator", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("role")
