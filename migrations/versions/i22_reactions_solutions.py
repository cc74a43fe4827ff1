"""reactions on posts; category kinds and the solution of a support question.

On SQLite, adding the foreign key `threads.solution_post_id` rebuilds `threads`, which drops its
full-text triggers with the old table (see 0007_notify): they are created again here.

Revision ID: i22_reactions_solutions
Revises: i18_jobs
"""
from alembic import op
import sqlalchemy as sa

revision = 'i22_reactions_solutions'
down_revision = 'i18_jobs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('post_reactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reaction', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_reactions_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_post_reactions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_reactions')),
    sa.UniqueConstraint('post_id', 'user_id', 'reaction', name=op.f('uq_post_reactions_post_id'))
    )
    op.add_column('categories', sa.Column('kind', sa.String(length=20), server_default='discussion', nullable=False))
    with op.batch_alter_table('threads') as batch_op:
        batch_op.add_column(sa.Column('solution_post_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_threads_solution_post_id_posts', 'posts', ['solution_post_id'], ['id'],
                                    ondelete='SET NULL')
    _restore_sqlite_title_triggers()


def _restore_sqlite_title_triggers():
    """The triggers of 0007_notify that keep `threads_fts` in step with thread titles."""
    if op.get_bind().dialect.name != 'sqlite':
        return
    delete = "INSERT INTO threads_fts(threads_fts, rowid, title) VALUES ('delete', old.id, old.title);"
    insert = "INSERT INTO threads_fts(rowid, title) VALUES (new.id, new.title);"
    for statement in (
        f"CREATE TRIGGER IF NOT EXISTS threads_fts_insert AFTER INSERT ON threads BEGIN {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS threads_fts_delete AFTER DELETE ON threads BEGIN {delete} END",
        f"CREATE TRIGGER IF NOT EXISTS threads_fts_update AFTER UPDATE OF title ON threads BEGIN {delete} {insert} END",
    ):
        op.execute(statement)


def downgrade():
    with op.batch_alter_table('threads') as batch_op:
        batch_op.drop_constraint('fk_threads_solution_post_id_posts', type_='foreignkey')
        batch_op.drop_column('solution_post_id')
    _restore_sqlite_title_triggers()
    op.drop_column('categories', 'kind')
    op.drop_table('post_reactions')
