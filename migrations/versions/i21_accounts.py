"""accounts: organizations as customer accounts (tier, weight, CRM id, account owner), votes with
importance and the staff member who cast them on a member's behalf, kept demand counters.

Existing organizations weigh 1 and existing votes are "nice to have", so an idea's demand starts
as its number of organizations. Merged ideas count nothing from now on (their votes count in the
idea they were merged into), so their counters and tallies are emptied.

Revision ID: i21_accounts
Revises: i18_push
Create Date: 2026-12-01 20:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i21_accounts'
down_revision = 'i18_push'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tier', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('weight', sa.Float(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('crm_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('account_owner_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_organizations_crm_id'), ['crm_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_organizations_account_owner_id_users'), 'users',
                                    ['account_owner_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('idea_votes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('importance', sa.String(length=16), nullable=False,
                                      server_default='nice_to_have'))
        batch_op.add_column(sa.Column('cast_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_idea_votes_cast_by_id_users'), 'users',
                                    ['cast_by_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('idea_organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('important_voters', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('critical_voters', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_idea_organizations_organization', ['organization_id', 'idea_id'], unique=False)

    with op.batch_alter_table('ideas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('demand_score', sa.Float(), nullable=False, server_default='0'))
        batch_op.create_index('ix_ideas_organizations', ['voter_org_count', 'id'], unique=False)
        batch_op.create_index('ix_ideas_demand', ['demand_score', 'id'], unique=False)
        batch_op.create_index('ix_ideas_status_organizations', ['status', 'voter_org_count', 'id'], unique=False)
        batch_op.create_index('ix_ideas_status_demand', ['status', 'demand_score', 'id'], unique=False)

    op.execute("DELETE FROM idea_organizations WHERE idea_id IN (SELECT id FROM ideas WHERE status = 'merged')")
    op.execute("UPDATE ideas SET vote_count = 0, voter_org_count = 0, trending_score = 0 WHERE status = 'merged'")
    op.execute("UPDATE ideas SET demand_score = voter_org_count")


def downgrade():
    with op.batch_alter_table('ideas', schema=None) as batch_op:
        batch_op.drop_index('ix_ideas_status_demand')
        batch_op.drop_index('ix_ideas_status_organizations')
        batch_op.drop_index('ix_ideas_demand')
        batch_op.drop_index('ix_ideas_organizations')
        batch_op.drop_column('demand_score')

    with op.batch_alter_table('idea_organizations', schema=None) as batch_op:
        batch_op.drop_index('ix_idea_organizations_organization')
        batch_op.drop_column('critical_voters')
        batch_op.drop_column('important_voters')

    with op.batch_alter_table('idea_votes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_idea_votes_cast_by_id_users'), type_='foreignkey')
        batch_op.drop_column('cast_by_id')
        batch_op.drop_column('importance')

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_organizations_account_owner_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_organizations_crm_id'))
        batch_op.drop_column('account_owner_id')
        batch_op.drop_column('crm_id')
        batch_op.drop_column('weight')
        batch_op.drop_column('tier')
