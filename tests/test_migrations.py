"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from community.accounts.models import User
from community.accounts.services import new_handle
from community.database import db

from .factories import make_user


def test_migrations_match_the_models(app_context):
    """Compared as autogenerate compares them: the hand-written full-text objects are skipped
    by name (community.search.schema), everything else must match."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={**current_app.extensions["migrate"].configure_args,
                                                               "compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_migrations_go_down_and_up_again(app_context):
    downgrade(revision="base")
    with db.engine.connect() as connection:
        assert db.inspect(connection).get_table_names() == ["alembic_version"]
    upgrade()
    with db.engine.connect() as connection:
        tables = set(db.inspect(connection).get_table_names())
    assert {"users", "threads", "posts", "categories", "invitations"} <= tables


def test_only_the_full_text_objects_are_skipped(app_context):
    """Without the filters the comparison sees the search objects, and nothing else."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    names = set()
    for difference in differences:
        operation, obj = difference[0], difference[-1]
        assert operation in ("remove_table", "remove_column", "remove_index"), difference
        names.add(obj.name)
    if db.engine.dialect.name == "postgresql":
        assert names == {"search_vector", "ix_threads_search", "ix_posts_search"}
    else:
        assert {"threads_fts", "posts_fts"} <= names and all(name.startswith(("threads_fts", "posts_fts"))
                                                              for name in names)


def test_one_letter_handles_get_a_mentionable_one(app_context):
    """i16_two_letter_handles: a handle no @mention can reach becomes the one a new member of that
    name gets (`q1`, or the next number free)."""
    taken, short, fine = (make_user(display_name=name, handle=handle) for name, handle in
                          (("Q One", "q1"), ("Q", "q"), ("Al", "al")))
    ids = (taken.id, short.id, fine.id)
    db.session.remove()
    downgrade(revision="i19_webhooks")
    upgrade()
    handles = dict(db.session.execute(select(User.id, User.handle).where(User.id.in_(ids))).all())
    assert [handles[user_id] for user_id in ids] == ["q1", "q2", "al"]
    assert new_handle("Z") == "z1"
