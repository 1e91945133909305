"""Call records say whether the Redirect took effect, why not, and when the PBX's state
confirmed or supplied them (fail-safe calls, records recovered after a restart).

Revision ID: 0007_call_record_outcome
Revises: 0003_operators
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_call_record_outcome"
down_revision: str | None = "0006_incident_fingerprints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_records") as table:
        table.add_column(
            sa.Column("redirected", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        table.add_column(sa.Column("error", sa.Text(), nullable=True))
        table.add_column(sa.Column("reconciled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_records") as table:
        table.drop_column("reconciled_at")
        table.drop_column("error")
        table.drop_column("redirected")
