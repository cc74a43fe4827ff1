"""reading state: how far each member has read each thread.

Revision ID: i22_reading_state
Revises: i20_org_domains
"""
from alembic import op
import sqlalchemy as sa

revision = 'i22_reading_state'
down_revision = 'i20_org_domains'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('thread_reads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('last_read_post_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_thread_reads_thread_id_threads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_thread_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thread_reads')),
    sa.UniqueConstraint('user_id', 'thread_id', name=op.f('uq_thread_reads_user_id'))
    )


def downgrade():
    op.drop_table('thread_reads')
