"""org domains: the email domains of each customer company, for single sign-on

A domain is the primary key, so it belongs to at most one organization.

Revision ID: i20_org_domains
Revises: 0007_notify
Create Date: 2026-12-01 20:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i20_org_domains'
down_revision = '0007_notify'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organization_domains',
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_organization_domains_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('domain', name=op.f('pk_organization_domains'))
    )
    with op.batch_alter_table('organization_domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organization_domains_organization_id'), ['organization_id'], unique=False)


def downgrade():
    with op.batch_alter_table('organization_domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organization_domains_organization_id'))
    op.drop_table('organization_domains')
