"""List pages issue a bounded number of queries, whatever the number of items shown."""
import pytest

from community.database import db
from community.threads.models import Post

from .conftest import page_queries
from .factories import make_category, make_organization, make_thread, make_user


def _authors(n):
    """Different authors from different organizations, so per-row lazy loads would show."""
    return [make_user(organization=make_organization()) for _ in range(n)]


@pytest.mark.parametrize("page", ["category", "index"])
def test_thread_lists_do_not_grow_with_their_length(app, make, page):
    def build(n):
        category = make_category()
        authors = _authors(n)
        for author in authors:
            make_thread(author, category, replies=1)
        return category.id, authors[0].id

    small_category, viewer = make(build, 1)
    large_category, _ = make(build, 15)
    url = {"category": "/c/{}", "index": "/"}[page]
    small = page_queries(app, viewer, url.format(small_category))
    large = page_queries(app, viewer, url.format(large_category))
    assert len(large) == len(small), "\n---\n".join(large)
    assert len(large) <= 7  # … and the viewer's watch or mute of the thread


def test_thread_page_does_not_grow_with_its_posts(app, make):
    def build(n):
        category = make_category()
        authors = _authors(n)
        thread = make_thread(authors[0], category)
        for author in authors:
            db.session.add(Post(thread=thread, author=author, body="hi", body_html="<p>hi</p>"))
        db.session.commit()
        return thread.id, authors[0].id

    small_thread, viewer = make(build, 1)
    large_thread, _ = make(build, 19)
    small = page_queries(app, viewer, f"/t/{small_thread}")
    large = page_queries(app, viewer, f"/t/{large_thread}")
    assert len(large) == len(small), "\n---\n".join(large)
    assert len(large) <= 8  # … the viewer's watch or mute of the thread, and the posts they flagged


def test_profile_recent_posts_do_not_grow(app, make):
    def build(n):
        author = make_user(organization=make_organization())
        for _ in range(n):
            make_thread(author, make_category())
        return author.id

    small_author = make(build, 1)
    large_author = make(build, 10)
    viewer = make(lambda: make_user().id)
    small = page_queries(app, viewer, f"/u/{small_author}")
    large = page_queries(app, viewer, f"/u/{large_author}")
    assert len(large) == len(small), "\n---\n".join(large)
    assert len(large) <= 8
