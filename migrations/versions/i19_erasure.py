"""erasure: `users.erased_at`, set when a member's personal data is erased (the row stays as a
nameless tombstone that keeps their posts' and votes' author).

Revision ID: i19_erasure
Revises: i22_reactions_solutions
Create Date: 2026-12-01 20:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i19_erasure'
down_revision = 'i22_reactions_solutions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
