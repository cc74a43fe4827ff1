"""web sessions: browsers signed in on the web pages become revocable sessions beside the apps'
device sessions (`kind`: web | device). A web session has no refresh token (its `refresh_jti`
stays empty).

Cookies issued before this migration name no session and stop working: everyone signs in on the
web once more.

Revision ID: i17_web_sessions
Revises: i21_accounts
"""
from alembic import op
import sqlalchemy as sa

revision = "i17_web_sessions"
down_revision = "i21_accounts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("device_sessions") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), server_default="device", nullable=False))


def downgrade():
    op.execute("DELETE FROM device_sessions WHERE kind = 'web'")
    with op.batch_alter_table("device_sessions") as batch:
        batch.drop_column("kind")
