"""PostgreSQL tells the router's caller index what changed (identity/callerindex.py).

Every committed change of an account's balance (or a new account) is notified on the
`callrouter_callers` channel with its new value, `a <account id> <balance>`; every change
of a beneficiary with its caller ID, `b <caller id>`, which the index reads again.
Notifications are delivered in commit order, so the last value notified is the current
one. SQLite has no NOTIFY: there the router reads the database at every call.

Revision ID: 0016_caller_index_notify
Revises: 0015_appointment_calls
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016_caller_index_notify"
down_revision: str | None = "0015_appointment_calls"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATEMENTS = (
    """
    CREATE FUNCTION callrouter_notify_balance() RETURNS trigger AS $$
    BEGIN
        PERFORM pg_notify('callrouter_callers', 'a ' || NEW.id || ' ' || NEW.balance);
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER callrouter_balance_changed AFTER UPDATE OF balance ON accounts
    FOR EACH ROW WHEN (OLD.balance IS DISTINCT FROM NEW.balance)
    EXECUTE FUNCTION callrouter_notify_balance()
    """,
    """
    CREATE TRIGGER callrouter_account_created AFTER INSERT ON accounts
    FOR EACH ROW EXECUTE FUNCTION callrouter_notify_balance()
    """,
    """
    CREATE FUNCTION callrouter_notify_beneficiary() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            PERFORM pg_notify('callrouter_callers', 'b ' || OLD.caller_id);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM pg_notify('callrouter_callers', 'b ' || NEW.caller_id);
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER callrouter_beneficiary_changed
    AFTER INSERT OR UPDATE OR DELETE ON beneficiaries
    FOR EACH ROW EXECUTE FUNCTION callrouter_notify_beneficiary()
    """,
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER callrouter_beneficiary_changed ON beneficiaries")
    op.execute("DROP TRIGGER callrouter_account_created ON accounts")
    op.execute("DROP TRIGGER callrouter_balance_changed ON accounts")
    op.execute("DROP FUNCTION callrouter_notify_beneficiary()")
    op.execute("DROP FUNCTION callrouter_notify_balance()")
