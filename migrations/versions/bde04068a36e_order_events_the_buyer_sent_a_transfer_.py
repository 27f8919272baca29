"""order events: the buyer sent a transfer receipt

Revision ID: bde04068a36e
Revises: f5bc11a97080
Create Date: 2026-12-03 07:11:26.757710

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bde04068a36e'
down_revision = 'f5bc11a97080'
branch_labels = None
depends_on = None


BEFORE = ["placed", "status", "paid_transfer", "paid_card", "expired", "parcel_shipped", "return_received", "note"]
AFTER = [*BEFORE, "receipt_sent"]


def _allow(codes):
    with op.batch_alter_table("order_event", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_order_event_code"), type_="check")
        batch_op.create_check_constraint(op.f("ck_order_event_code"),
                                         "code IN ({})".format(", ".join(f"'{code}'" for code in codes)))


def upgrade():
    _allow(AFTER)


def downgrade():
    op.execute("UPDATE order_event SET code = 'status' WHERE code = 'receipt_sent'")
    _allow(BEFORE)
