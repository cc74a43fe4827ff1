"""sso: the ID tokens apps exchanged, so none is exchanged twice

Revision ID: i20_sso
Revises: i23_agenda
Create Date: 2026-12-01 20:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i20_sso'
down_revision = 'i23_agenda'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('used_id_tokens',
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('token_digest', name=op.f('pk_used_id_tokens'))
    )
    with op.batch_alter_table('used_id_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_id_tokens_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('used_id_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_id_tokens_expires_at'))
    op.drop_table('used_id_tokens')
