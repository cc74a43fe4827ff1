"""Ranked full-text search over thread titles, posts and ideas, never beyond what the searcher may read."""
