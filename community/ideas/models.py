from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from ..accounts.models import User
from ..database import UTCDateTime, db, utcnow
from ..threads.models import Post, Thread


class IdeaStatus(StrEnum):
    OPEN = "open"
    UNDER_REVIEW = "under_review"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    SHIPPED = "shipped"
    DECLINED = "declined"
    MERGED = "merged"


STATUS_LABELS = {
    IdeaStatus.OPEN: "Open", IdeaStatus.UNDER_REVIEW: "Under review", IdeaStatus.PLANNED: "Planned",
    IdeaStatus.IN_PROGRESS: "In progress", IdeaStatus.SHIPPED: "Shipped", IdeaStatus.DECLINED: "Declined",
    IdeaStatus.MERGED: "Merged",
}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


# A closed idea takes no more votes.
CLOSED_STATUSES = frozenset({IdeaStatus.SHIPPED, IdeaStatus.DECLINED, IdeaStatus.MERGED})
# What staff set with an answer; `merged` comes only with a merge, and leaves only by unmerging.
ANSWER_STATUSES = tuple(status for status in IdeaStatus if status != IdeaStatus.MERGED)


class Importance(StrEnum):
    """How badly a voter needs an idea; an organization needs it as badly as its most urgent voter."""

    NICE_TO_HAVE = "nice_to_have"
    IMPORTANT = "important"
    CRITICAL = "critical"


# What an organization's weight is multiplied by in an idea's demand, by its most urgent voter's
# importance: one critical account counts like two that find it important, four that would like it.
IMPORTANCE_FACTORS = {Importance.NICE_TO_HAVE: 1, Importance.IMPORTANT: 2, Importance.CRITICAL: 4}


@dataclass(frozen=True)
class OfficialAnswer:
    """The vendor's latest answer, shown marked as official."""

    note: str
    note_html: str
    status: str
    by: User | None
    at: datetime


class Idea(db.Model):
    """A feature request. Its title and description are its thread's title and first post, and its
    comments are that thread's later posts, so threads' rules (visibility, editing, moderation)
    apply unchanged.

    `vote_count`, `voter_org_count`, `trending_score` and `demand_score` are kept by the services
    in SQL, one atomic update per vote, so lists never count rows. `demand_score` is the sum over
    the organizations that want the idea of their weight times their importance factor (staff only).
    """

    __tablename__ = "ideas"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), unique=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))  # the description
    status: Mapped[str] = mapped_column(String(20), default=IdeaStatus.OPEN)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    vote_count: Mapped[int] = mapped_column(Integer, default=0)
    voter_org_count: Mapped[int] = mapped_column(Integer, default=0)
    trending_score: Mapped[float] = mapped_column(Float, default=0.0)
    demand_score: Mapped[float] = mapped_column(Float, default=0.0)
    answer_note: Mapped[str | None] = mapped_column(Text)
    answer_html: Mapped[str | None] = mapped_column(Text)
    answer_status: Mapped[str | None] = mapped_column(String(20))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    thread: Mapped[Thread] = relationship(lazy="joined", innerjoin=True)
    post: Mapped[Post] = relationship(lazy="joined", innerjoin=True)
    answered_by: Mapped[User | None] = relationship(lazy="joined")
    tag_rows: Mapped[list["IdeaTag"]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                     order_by="IdeaTag.tag")

    # Set by the ideas services for the viewer who asked (see services.for_viewer); never stored.
    has_voted = False
    my_importance = None  # the viewer's vote's importance
    vote_cast_by = None  # the staff member who added the viewer's vote for them, if one did
    subscription = None  # "watch", "mute" or None

    @property
    def title(self) -> str:
        return self.thread.title

    @property
    def body(self) -> str:
        return self.post.body

    @property
    def body_html(self) -> str:
        return self.post.body_html

    @property
    def author(self) -> User:
        return self.thread.author

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES

    @property
    def official_answer(self) -> OfficialAnswer | None:
        if self.answer_note is None:
            return None
        return OfficialAnswer(self.answer_note, self.answer_html, self.answer_status, self.answered_by,
                              self.answered_at)


# Keyset pagination: each sort (and each status filter with it) reads one index range.
Index("ix_ideas_top", Idea.vote_count, Idea.id)
Index("ix_ideas_trending", Idea.trending_score, Idea.id)
Index("ix_ideas_status_new", Idea.status, Idea.id)
Index("ix_ideas_status_top", Idea.status, Idea.vote_count, Idea.id)
Index("ix_ideas_status_trending", Idea.status, Idea.trending_score, Idea.id)
Index("ix_ideas_organizations", Idea.voter_org_count, Idea.id)
Index("ix_ideas_demand", Idea.demand_score, Idea.id)
Index("ix_ideas_status_organizations", Idea.status, Idea.voter_org_count, Idea.id)
Index("ix_ideas_status_demand", Idea.status, Idea.demand_score, Idea.id)
Index("ix_ideas_status_changed", Idea.status, Idea.status_changed_at, Idea.id)  # the changelog
Index("ix_ideas_merged_into", Idea.merged_into_id)

# The status of the idea a merged idea went into: a merge whose target was merged in turn is undone
# from the far end first. Read with every idea (by primary key), so the `can_unmerge` flags of a
# page cost no query of their own.
_merge_targets = Idea.__table__.alias("merge_targets")
Idea.merged_into_status = column_property(
    select(_merge_targets.c.status).where(_merge_targets.c.id == Idea.merged_into_id).scalar_subquery())


class IdeaTag(db.Model):
    __tablename__ = "idea_tags"

    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)


Index("ix_idea_tags_tag", IdeaTag.tag, IdeaTag.idea_id)


class IdeaVote(db.Model):
    """One member's vote. `organization_id` is the voter's customer organization when they voted
    (none for staff: the vendor is not a customer), so withdrawing it later untallies the same one.
    `cast_by_id` is the staff member who added it on the member's behalf (after a call, say)."""

    __tablename__ = "idea_votes"
    __table_args__ = (UniqueConstraint("idea_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    importance: Mapped[str] = mapped_column(String(16), default=Importance.NICE_TO_HAVE)
    cast_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


Index("ix_idea_votes_user", IdeaVote.user_id, IdeaVote.idea_id)


class IdeaOrganization(db.Model):
    """How many voters of an idea belong to one customer organization, and how many of them find
    it important or critical (the rest would like it): the organization's importance is its most
    urgent voter's.

    Upserted on each vote: the row lock makes "is this the organization's first voter?" exact
    under concurrency, which a count over the votes inside the same statement would not be.
    """

    __tablename__ = "idea_organizations"

    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    voters: Mapped[int] = mapped_column(Integer, default=0)
    important_voters: Mapped[int] = mapped_column(Integer, default=0)
    critical_voters: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def importance(self) -> str:
        if self.critical_voters > 0:
            return Importance.CRITICAL
        return Importance.IMPORTANT if self.important_voters > 0 else Importance.NICE_TO_HAVE


Index("ix_idea_organizations_organization", IdeaOrganization.organization_id, IdeaOrganization.idea_id)


class IdeaMerge(db.Model):
    """A merge of `source` into `target`, with what it changed, so an unmerge restores it exactly."""

    __tablename__ = "idea_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source_status: Mapped[str] = mapped_column(String(20))
    source_status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source_thread_was_closed: Mapped[bool] = mapped_column(Boolean)
    unmerged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unmerged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


Index("ix_idea_merges_source", IdeaMerge.source_id, IdeaMerge.id)


class IdeaMergeVote(db.Model):
    """A vote a merge moved from its source to its target (votes of members who had voted for
    both stay where they were, so nobody counts twice)."""

    __tablename__ = "idea_merge_votes"

    merge_id: Mapped[int] = mapped_column(ForeignKey("idea_merges.id", ondelete="CASCADE"), primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("idea_votes.id", ondelete="CASCADE"), primary_key=True)
