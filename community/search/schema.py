"""The full-text objects, which live outside the models.

Migration 0007 writes them by hand, per dialect: a generated `search_vector` tsvector column with
a GIN index on `threads` and `posts` in PostgreSQL; FTS5 external-content tables `threads_fts`
and `posts_fts` (with their shadow tables) kept in sync by triggers in SQLite. SQLAlchemy models
cannot describe either in a way both databases accept, so autogenerate and the schema test skip
exactly these names (`include_name`, `include_object`); everything else is still compared.
"""
FTS_TABLES = ("threads_fts", "posts_fts")
SEARCH_COLUMN = "search_vector"
SEARCH_INDEXES = ("ix_threads_search", "ix_posts_search")


def include_name(name, type_, parent_names) -> bool:
    """Skip the FTS5 tables and their shadow tables (`threads_fts_data`…) before reflection."""
    return not (type_ == "table" and name is not None and name.startswith(FTS_TABLES))


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Skip the PostgreSQL search columns and their indexes, which only the database has."""
    if compare_to is not None or not reflected:
        return True
    return not ((type_ == "column" and name == SEARCH_COLUMN) or (type_ == "index" and name in SEARCH_INDEXES))
