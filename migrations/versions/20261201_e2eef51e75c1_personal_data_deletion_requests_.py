"""Personal data: deletion requests, anonymised accounts, an append-only audit log

Revision ID: e2eef51e75c1
Revises: 2e786240e62b
Create Date: 2026-12-01 19:24:13.452497

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2eef51e75c1'
down_revision = '2e786240e62b'
branch_labels = None
depends_on = None

#: Events that used to copy a person's name or e-mail address into their details;
#: they keep the person's id (``user_id``), which is all the pages need.
NAMED_ACTIONS = (
    "shortlist.added",
    "shortlist.removed",
    "finalists.added",
    "finalists.removed",
    "certificate.issued",
    "partner.account_linked",
    "partner.account_created",
)
PERSONAL_KEYS = ("name", "email")

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_events_append_only
BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
"""


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deletion_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_users_anonymised_inactive'), 'anonymised_at IS NULL OR NOT is_active')

    _scrub_personal_details()
    if op.get_bind().dialect.name == "postgresql":
        # Last: from here on nothing, this migration included, may change an event.
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(APPEND_ONLY_TRIGGER)


def _scrub_personal_details():
    """Drop names and e-mail addresses copied into past events (before the log
    becomes append-only)."""
    events = sa.table(
        'audit_events',
        sa.column('id', sa.Integer),
        sa.column('action', sa.String),
        sa.column('details', sa.JSON),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(events.c.id, events.c.details).where(
            events.c.action.in_(NAMED_ACTIONS)
        )
    ).all()
    for event_id, details in rows:
        if not isinstance(details, dict) or not set(details) & set(PERSONAL_KEYS):
            continue
        kept = {k: v for k, v in details.items() if k not in PERSONAL_KEYS}
        bind.execute(
            events.update().where(events.c.id == event_id).values(details=kept)
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_anonymised_inactive'), type_='check')
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('deletion_requested_at')
