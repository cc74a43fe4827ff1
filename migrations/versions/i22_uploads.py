"""uploads: stored images and PDFs, and which posts show them.

Revision ID: i22_uploads
Revises: i19_erasure
"""
from alembic import op
import sqlalchemy as sa

revision = 'i22_uploads'
down_revision = 'i19_erasure'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('extension', sa.String(length=8), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], name=op.f('fk_uploads_uploader_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads')),
    sa.UniqueConstraint('key', name=op.f('uq_uploads_key'))
    )
    op.create_table('post_uploads',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('upload_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_uploads_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_post_uploads_upload_id_uploads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'upload_id', name=op.f('pk_post_uploads'))
    )
    op.create_index(op.f('ix_post_uploads_upload_id'), 'post_uploads', ['upload_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_post_uploads_upload_id'), table_name='post_uploads')
    op.drop_table('post_uploads')
    op.drop_table('uploads')
