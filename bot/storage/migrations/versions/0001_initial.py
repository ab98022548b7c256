"""Initial schema: replies, their votes and their "did you mean" choices.

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "replies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reply_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("channel_type", sa.String(length=32), nullable=True),
        sa.Column("intent", sa.String(length=128), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("user_hash", sa.String(length=64), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_replies"),
        sa.UniqueConstraint("reply_id", name="uq_replies_reply_id"),
    )
    op.create_index("ix_replies_created_at", "replies", ["created_at"])
    op.create_index("ix_replies_kind", "replies", ["kind"])
    op.create_index("ix_replies_intent", "replies", ["intent"])
    op.create_table(
        "reply_votes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reply_pk", sa.Integer(), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=False),
        sa.Column("vote", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["reply_pk"],
            ["replies.id"],
            name="fk_reply_votes_reply_pk_replies",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reply_votes"),
        sa.UniqueConstraint("reply_pk", "user_hash", name="uq_reply_votes_reply_pk"),
    )
    op.create_table(
        "clarify_choices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reply_pk", sa.Integer(), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=False),
        sa.Column("chosen_intent", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["reply_pk"],
            ["replies.id"],
            name="fk_clarify_choices_reply_pk_replies",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_clarify_choices"),
        sa.UniqueConstraint("reply_pk", "user_hash", name="uq_clarify_choices_reply_pk"),
    )


def downgrade() -> None:
    op.drop_table("clarify_choices")
    op.drop_table("reply_votes")
    op.drop_index("ix_replies_intent", table_name="replies")
    op.drop_index("ix_replies_kind", table_name="replies")
    op.drop_index("ix_replies_created_at", table_name="replies")
    op.drop_table("replies")
