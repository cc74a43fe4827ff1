"""handles of two characters or more: a one-letter handle could never be @mentioned

Revision ID: i16_two_letter_handles
Revises: i19_webhooks
Create Date: 2026-12-02 05:50:00

Members whose name gave them a one-letter handle (`Q` → `q`) get the handle a new member of
that name gets: the letter numbered from 1 (`q1`, `q2`…), skipping handles taken.
"""
from alembic import op
import sqlalchemy as sa


revision = 'i16_two_letter_handles'
down_revision = 'i19_webhooks'
branch_labels = None
depends_on = None


def upgrade():
    connection = op.get_bind()
    taken = set(connection.execute(sa.text("SELECT handle FROM users")).scalars())
    short = connection.execute(sa.text("SELECT id, handle FROM users WHERE length(handle) < 2 ORDER BY id")).all()
    for user_id, base in short:
        n, handle = 1, f"{base}1"
        while handle in taken:
            n += 1
            handle = f"{base}{n}"
        taken.add(handle)
        connection.execute(sa.text("UPDATE users SET handle = :handle WHERE id = :id"), {"handle": handle, "id": user_id})


def downgrade():
    pass  # the longer handles stay valid: nothing to undo
