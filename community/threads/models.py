from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, exists
from sqlalchemy.orm import Mapped, column_property, mapped_column, query_expression, relationship

from ..accounts.models import User
from ..database import UTCDateTime, db, utcnow


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    staff_only: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A category with a purpose holds threads that belong to another aggregate (the ideas board
    # holds each idea's discussion); only that aggregate's services start threads in it.
    purpose: Mapped[str | None] = mapped_column(String(20), unique=True)
    # `support`: questions, each of which can have one post marked as its solution.
    kind: Mapped[str] = mapped_column(String(20), default="discussion", server_default="discussion")


class Thread(db.Model):
    __tablename__ = "threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Posts after the first one; kept by the services so lists never count rows.
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Deleting is soft: the thread vanishes for members, and staff can restore it.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The reply that answered a support question. (Threads and posts refer to each other, so this
    # key is created after both tables.)
    solution_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL", use_alter=True, name="fk_threads_solution_post_id_posts"))

    category: Mapped[Category] = relationship(lazy="joined", innerjoin=True)
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined", innerjoin=True)
    solution_post: Mapped["Post | None"] = relationship(foreign_keys=[solution_post_id], lazy="select",
                                                        post_update=True)

    # The viewer's reading state, loaded with the thread by `services.with_reading_state` (None
    # when it was not asked for): the last post they read, and how many visible posts follow it.
    last_read_post_id: Mapped[int | None] = query_expression()
    unread_count: Mapped[int | None] = query_expression()


# Keyset pagination: each sort reads one index range, newest first, whatever the table's size.
# Within a category pinned threads come first, so `pinned` leads the category indexes.
Index("ix_threads_category_pinned_activity", Thread.category_id, Thread.pinned, Thread.last_activity_at,
      Thread.id)
Index("ix_threads_activity", Thread.last_activity_at, Thread.id)
Index("ix_threads_category_pinned_new", Thread.category_id, Thread.pinned, Thread.id)
Index("ix_threads_category_pinned_top", Thread.category_id, Thread.pinned, Thread.reply_count, Thread.id)
Index("ix_threads_top", Thread.reply_count, Thread.id)


class Post(db.Model):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)  # Markdown source, for editing
    body_html: Mapped[str] = mapped_column(Text)  # rendered and sanitized once, on write
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Deleting is soft: staff can still see (and later restore) what was removed.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Hidden posts stay in place; members other than the author see a placeholder instead.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: hidden by flags
    hidden_reason: Mapped[str] = mapped_column(Text, default="")
    # When it was last hidden or unhidden, so clients catching up (`since`) hear of it.
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    thread: Mapped[Thread] = relationship(foreign_keys=[thread_id], lazy="select")
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined", innerjoin=True)
    editor: Mapped[User | None] = relationship(foreign_keys=[editor_id], lazy="select")


Index("ix_posts_thread_id", Post.thread_id, Post.id)

# The first post carries its thread: it goes only with the thread. Read with every post, from the
# (thread_id, id) index, so the `can_delete` flags of a page of posts cost no query of their own.
_earlier_posts = Post.__table__.alias("earlier_posts")
Post.is_first = column_property(
    ~exists().where(_earlier_posts.c.thread_id == Post.thread_id, _earlier_posts.c.id < Post.id))
Index("ix_posts_author_id", Post.author_id, Post.id)


class PostRevision(db.Model):
    """A former version of a post, kept when it is edited: its body, who wrote it and when.

    Staff read the history; nothing ever changes a revision.
    """

    __tablename__ = "post_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    editor: Mapped[User] = relationship(lazy="joined", innerjoin=True)


Index("ix_post_revisions_post", PostRevision.post_id, PostRevision.id)


class ThreadRead(db.Model):
    """How far a member has read a thread: every post up to `last_read_post_id` is read.

    It only moves forward, so reading an old page again never marks newer posts unread.
    """

    __tablename__ = "thread_reads"
    __table_args__ = (UniqueConstraint("user_id", "thread_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    last_read_post_id: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PostReaction(db.Model):
    """One member's reaction to a post, from the fixed set in `reactions.REACTIONS`."""

    __tablename__ = "post_reactions"
    __table_args__ = (UniqueConstraint("post_id", "user_id", "reaction"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reaction: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
