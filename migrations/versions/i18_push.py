"""push: push subscriptions (Web Push, FCM, APNs), each of one session, and members' push choices.

Revision ID: i18_push
Revises: i20_sso
Create Date: 2026-12-01 21:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "i18_push"
down_revision = "i20_sso"
branch_labels = None
depends_on = None

CHOICES = ("push_mentions", "push_replies", "push_idea_updates", "push_meetings")


def upgrade():
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=False),
        sa.Column("auth", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["device_sessions.id"],
                                name=op.f("fk_push_subscriptions_session_id_device_sessions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_push_subscriptions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint("kind", "address", name="uq_push_subscriptions_kind_address"),
    )
    op.create_index(op.f("ix_push_subscriptions_session_id"), "push_subscriptions", ["session_id"])
    op.create_index("ix_push_subscriptions_user", "push_subscriptions", ["user_id", "id"])
    with op.batch_alter_table("users") as batch:
        for name in CHOICES:  # everyone starts with every kind on, as new members do
            batch.add_column(sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("users") as batch:
        for name in CHOICES:
            batch.alter_column(name, server_default=None)


def downgrade():
    with op.batch_alter_table("users") as batch:
        for name in CHOICES:
            batch.drop_column(name)
    op.drop_table("push_subscriptions")
