"""Test data, made fast: rows straight into the database (rules are tested through services)."""
from dataclasses import dataclass
from datetime import timedelta
from itertools import count

from werkzeug.security import generate_password_hash

from community import events
from community.accounts.models import Organization, Role, User
from community.accounts.services import new_handle
from community.database import db, utcnow
from community.gatherings.models import Event, EventZone
from community.ideas.models import Idea, IdeaMerge, IdeaStatus
from community.markdown import render_markdown
from community.moderation.models import CategoryModerator, Flag
from community.threads.models import Category, Post, Thread

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = generate_password_hash(PASSWORD)  # hashed once: scrypt is slow on purpose
_sequence = count(1)


def make_organization(name: str | None = None) -> Organization:
    name = name or f"Org {next(_sequence)}"
    organization = Organization(name=name, name_key=name.casefold())
    db.session.add(organization)
    events.commit()
    return organization


def make_user(role: str = Role.MEMBER, organization: Organization | None = None, **fields) -> User:
    n = next(_sequence)
    fields.setdefault("email", f"user{n}@example.test")
    fields.setdefault("display_name", f"User {n}")
    fields.setdefault("handle", new_handle(fields["display_name"]))
    user = User(role=role, organization=organization, password_hash=_PASSWORD_HASH, **fields)
    db.session.add(user)
    events.commit()
    return user


def make_category(name: str | None = None, staff_only: bool = False, position: int = 0) -> Category:
    category = Category(name=name or f"Category {next(_sequence)}", staff_only=staff_only, position=position)
    db.session.add(category)
    events.commit()
    return category


def make_thread(author: User, category: Category, title: str | None = None, body: str = "First post",
                replies: int = 0, **fields) -> Thread:
    thread = Thread(category=category, author=author, title=title or f"Thread {next(_sequence)}",
                    reply_count=replies, **fields)
    db.session.add(thread)
    db.session.add(Post(thread=thread, author=author, body=body, body_html=render_markdown(body)))
    for i in range(replies):
        db.session.add(Post(thread=thread, author=author, body=f"reply {i}", body_html=f"<p>reply {i}</p>"))
    events.commit()
    return thread


def make_post(thread: Thread, author: User, body: str = "A reply") -> Post:
    post = Post(thread=thread, author=author, body=body, body_html=render_markdown(body))
    db.session.add(post)
    events.commit()
    return post


@dataclass
class People:
    member: User
    outsider: User  # a member of another customer organization
    moderator: User
    admin: User
    acme: Organization
    globex: Organization
    # A member who moderates only the categories a test assigns (`make_category_moderator`):
    # staff there, an ordinary member everywhere else.
    category_moderator: User


def make_people() -> People:
    acme, globex, vendor = make_organization("Acme"), make_organization("Globex"), make_organization("Vendor")
    return People(
        member=make_user(organization=acme, email="member@acme.test", display_name="Mia Member"),
        outsider=make_user(organization=globex, email="otto@globex.test", display_name="Otto Outsider"),
        moderator=make_user(Role.MODERATOR, vendor, email="mod@vendor.test", display_name="Moe Moderator"),
        admin=make_user(Role.ADMIN, vendor, email="admin@vendor.test", display_name="Ada Admin"),
        acme=acme,
        globex=globex,
        category_moderator=make_user(organization=make_organization("Hooli"), email="cass@hooli.test",
                                     display_name="Cass Catmod"),
    )


def make_category_moderator(user: User, category: Category) -> None:
    db.session.add(CategoryModerator(user_id=user.id, category_id=category.id))
    events.commit()


def make_flag(post: Post, user: User, reason: str = "spam") -> Flag:
    flag = Flag(post_id=post.id, user_id=user.id, reason=reason)
    db.session.add(flag)
    events.commit()
    return flag


def make_event(name: str = "Customer Summit", *, starts_in: timedelta = timedelta(hours=-1),
               lasts: timedelta = timedelta(hours=8), fence: tuple[float, float, int] | None = None,
               zones: tuple[str, ...] = ("Main hall", "Expo", "Workshop room")) -> Event:
    """An event, by default on right now, with three zones."""
    starts_at = utcnow() + starts_in
    lat, lng, radius = fence or (None, None, None)
    event = Event(name=name, venue="Congress Center", starts_at=starts_at, ends_at=starts_at + lasts,
                  checkin_code=f"code-{next(_sequence)}", fence_lat=lat, fence_lng=lng, fence_radius_m=radius,
                  zones=[EventZone(name=zone, position=i) for i, zone in enumerate(zones)])
    db.session.add(event)
    events.commit()
    return event


def make_idea(author: User, board: Category, title: str | None = None, *, status: str = IdeaStatus.OPEN,
              merged_into: Idea | None = None) -> Idea:
    """An idea on `board` (the ideas category), without votes; `merged_into`: merged into that
    idea, as a merge of an idea nobody voted for leaves it."""
    thread = make_thread(author, board, title=title or f"Idea {next(_sequence)}", body="Please add it.")
    first_post = db.session.scalar(db.select(Post).where(Post.thread_id == thread.id))
    now = utcnow()
    idea = Idea(thread_id=thread.id, post_id=first_post.id, status=status, created_at=now, status_changed_at=now)
    db.session.add(idea)
    db.session.flush()
    if merged_into is not None:
        db.session.add(IdeaMerge(source_id=idea.id, target_id=merged_into.id, merged_at=now, source_status=status,
                                 source_status_changed_at=now, source_thread_was_closed=False))
        idea.status, idea.merged_into_id, thread.closed = IdeaStatus.MERGED, merged_into.id, True
    events.commit()
    return idea
