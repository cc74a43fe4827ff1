"""In-process caches that are never stale: copies of what rarely changes, dropped in every
process the moment it changes.

Every committed change names the *tags* it makes stale (`session:12`, `user:5`, `content`...):
the models say which (`watch`), the session collects them while flushing and announces them
after the commit (never for a rollback). In this process the tagged entries go at once; with
`REDIS_URL` the tags are also published on one channel that every process subscribes to, and a
process reads what has arrived before each cache lookup — a non-blocking read of the
subscription's socket, not a round trip. Redis writes the message to every subscriber before it
answers the publisher, so by the time a sign-out's answer reaches anyone, every process on the
machine has the news waiting in its socket. A process whose subscription is broken trusts no
cached entry (every lookup reads the database) until it is subscribed again, and then starts
empty: news may have been missed meanwhile.
"""
import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from cachetools import LRUCache
from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

CHANNEL = "roundtable:stale"
EXTENSION = "roundtable.freshness"
_PENDING = "stale_tags"


class TaggedCache:
    """An LRU cache whose entries are dropped by tag.

    `lookup(key, tags, load)` answers a cached value or loads it; a load that raced with a
    change (a tag went stale while it read the database) is answered but not kept.
    """

    def __init__(self, bus: "FreshnessBus", maxsize: int):
        self._bus = bus
        self._entries = _IndexedLRU(maxsize)
        self._lock = threading.Lock()
        self.generation = 0  # moves on every drop: a load that started before it is not kept

    def lookup(self, key, tags: Callable[[Any], Iterable[str]], load: Callable[[], Any]):
        trusted = self._bus.catch_up()
        if trusted:
            with self._lock:
                found = self._entries.get(key, _MISSING)
            if found is not _MISSING:
                return found
        started_at = self.generation
        value = load()
        if trusted and value is not None:
            with self._lock:
                if self.generation == started_at and self._bus.trusted:
                    self._entries.put(key, value, set(tags(value)))
        return value

    def drop(self, tags: Iterable[str]) -> None:
        with self._lock:
            self.generation += 1
            for tag in tags:
                if tag == "*":
                    self._entries.clear()
                else:
                    self._entries.drop_tag(tag)

    def clear(self) -> None:
        self.drop(["*"])

    def __len__(self) -> int:
        return len(self._entries)


_MISSING = object()


class _IndexedLRU(LRUCache):
    """cachetools' LRU, plus an index from tag to the keys that carry it."""

    def __init__(self, maxsize: int):
        super().__init__(maxsize)
        self._tags_of: dict[Any, set[str]] = {}
        self._keys_of: dict[str, set[Any]] = {}

    def put(self, key, value, tags: set[str]) -> None:
        self._unindex(key)
        self[key] = value
        self._tags_of[key] = tags
        for tag in tags:
            self._keys_of.setdefault(tag, set()).add(key)

    def drop_tag(self, tag: str) -> None:
        for key in list(self._keys_of.get(tag, ())):
            self.pop(key, None)

    def popitem(self):  # called by the LRU when it evicts
        key, value = super().popitem()
        self._unindex(key)
        return key, value

    def __delitem__(self, key):
        super().__delitem__(key)
        self._unindex(key)

    def _unindex(self, key) -> None:
        for tag in self._tags_of.pop(key, ()):
            keys = self._keys_of.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._keys_of[tag]


class FreshnessBus:
    """Carries stale tags to every cache of every process (one per app)."""

    def __init__(self, redis_url: str | None = None, enabled: bool = True):
        self.named: dict[str, TaggedCache] = {}
        self.redis_url = redis_url
        self.enabled = enabled
        self._lock = threading.Lock()
        self._publisher = None
        self._subscription = None
        self._pid = None  # the process the connections above belong to
        self.trusted = True

    @property
    def caches(self):
        return self.named.values()

    def cache(self, name: str, maxsize: int) -> TaggedCache:
        found = self.named.get(name)
        if found is None:
            found = self.named[name] = TaggedCache(self, maxsize)
        return found

    def announce(self, tags: set[str]) -> None:
        """Drop the tags here now, and in every other process (after a commit)."""
        if not tags:
            return
        self._drop_locally(tags)
        if self.redis_url is None:
            return
        try:
            self._redis().publish(CHANNEL, " ".join(sorted(tags)))
        except Exception:
            # The others will not hear of it: nobody may trust a cache until that is repaired.
            logger.exception("cannot publish stale tags; caches are off until Redis answers")
            self._distrust()

    def catch_up(self) -> bool:
        """Apply the tags that arrived from other processes; False: do not trust the caches."""
        if not self.enabled:
            return False
        if self.redis_url is None:
            return True
        with self._lock:
            try:
                subscription = self._subscription_of_this_process()
                while True:
                    message = subscription.get_message(timeout=0.0)
                    if message is None:
                        break
                    if message["type"] == "message":
                        self._drop_locally(message["data"].decode().split())
                self.trusted = True
            except Exception:
                logger.warning("lost the stale-tag subscription; caches are off until it is back")
                self._distrust()
        return self.trusted

    def _subscription_of_this_process(self):
        # Each process subscribes itself and starts with empty caches: what a forked worker
        # inherited may have gone stale unheard.
        if self._subscription is None or self._pid != os.getpid():
            self._subscription = self._redis().pubsub(ignore_subscribe_messages=True)
            self._subscription.subscribe(CHANNEL)
            for cache in self.caches:
                cache.clear()
        return self._subscription

    def _redis(self):
        """This process's own client (a forked worker must not share its parent's sockets)."""
        if self._publisher is None or self._pid != os.getpid():
            import redis

            self._subscription = None
            self._publisher = redis.Redis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
            self._pid = os.getpid()
        return self._publisher

    def _drop_locally(self, tags: Iterable[str]) -> None:
        tags = list(tags)
        for cache in self.caches:
            cache.drop(tags)

    def _distrust(self) -> None:
        self.trusted = False
        self._drop_subscription()
        for cache in self.caches:
            cache.clear()

    def close(self) -> None:
        self._drop_subscription()

    def _drop_subscription(self) -> None:
        subscription, self._subscription = self._subscription, None
        publisher, self._publisher = self._publisher, None
        for connection in (subscription, publisher):
            if connection is not None:
                try:
                    connection.close()
                except Exception:
                    logger.debug("closing a broken Redis connection failed", exc_info=True)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = FreshnessBus(app.config["REDIS_URL"], app.config["CACHE_ENABLED"])


def cache(name: str, maxsize: int = 10_000) -> TaggedCache:
    """The app's cache of that name (made on first use)."""
    return current_app.extensions[EXTENSION].cache(name, maxsize)


def _bus() -> FreshnessBus | None:
    return current_app.extensions.get(EXTENSION) if has_app_context() else None

# What each watched model makes stale when one of its rows is written: `row_tags(row)` for a
# change through the unit of work, `table_tags` for a bulk UPDATE/DELETE or a Core INSERT,
# which name no single row.
_WATCHED: dict[str, tuple[Callable[[Any], Iterable[str]], tuple[str, ...]]] = {}


def watch(model, row_tags: Callable[[Any], Iterable[str]], table_tags: Iterable[str]) -> None:
    _WATCHED[model.__table__.name] = (row_tags, tuple(table_tags))


def _pending(session) -> set[str]:
    return session.info.setdefault(_PENDING, set())


@event.listens_for(Session, "after_flush")
def _collect_row_tags(session, flush_context):
    if not _WATCHED:
        return
    tags = _pending(session)
    for row in (*session.new, *session.dirty, *session.deleted):
        watched = _WATCHED.get(getattr(getattr(row, "__table__", None), "name", None))
        if watched is not None:
            tags.update(watched[0](row))


@event.listens_for(Session, "do_orm_execute")
def _collect_statement_tags(state):
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    watched = _WATCHED.get(getattr(table, "name", None))
    if watched is not None:
        _pending(state.session).update(watched[1])


@event.listens_for(Session, "after_commit")
def _announce_committed(session):
    tags = session.info.pop(_PENDING, None)
    bus = _bus()
    if tags and bus is not None:
        bus.announce(tags)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session):
    session.info.pop(_PENDING, None)
