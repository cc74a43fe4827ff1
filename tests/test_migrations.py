"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import current_app
from flask_migrate import downgrade, upgrade

from community.database import db


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
