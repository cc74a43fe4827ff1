"""In-process caches that are never stale: copies of what rarely changes, dropped in every
process the moment it changes.

Every committed change names the *tags* it makes stale (`session:12`, `user:5`...): the models
say which (`watch`), the session collects them while flushing and announces them after the
commit (never for a rollback). In this process the tagged entries go at once. With `REDIS_URL`
each announcement is also numbered and published (one atomic step) to every process, and the
announcing request waits until Redis has written it to every subscriber's socket (one more
round trip, on commits only). Before a process uses its caches it reads what waits in its own
subscription's socket, without a round trip: a change committed anywhere, whose request has
answered, is there already, so the next request everywhere sees it. When something was waiting
(more may be on the way) or a second has passed, the process also reads the announcements'
counter and waits for every announcement up to it. A process that cannot follow (Redis gone,
an announcement lost) trusts no cached entry — every lookup reads the database — until it
can, and then starts empty.
"""
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from cachetools import LRUCache
from flask import Flask, current_app, g, has_app_context, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators

logger = logging.getLogger(__name__)

CHANNEL = "roundtable:stale"
SEQUENCE_KEY = "roundtable:stale-announcements"
CATCH_UP_SECONDS = 1.0  # an announcement not arrived by then: caches off until it does
# How long a quiet subscription is taken at its word before the counter is read anyway: a link to
# Redis that died without a word (no end of file) is noticed within this.
RECHECK_SECONDS = 1.0
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
        trusted = self._bus.catch_up_once()
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
        self._redis_client = None
        self._subscription = None
        self._pid = None  # the process the connections above belong to
        self._applied = 0  # the number of the last announcement this process has applied
        self._counter_read_at = 0.0  # monotonic time of the last read of the announcements' counter
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
            self._redis().eval(_ANNOUNCE, 1, SEQUENCE_KEY, CHANNEL, " ".join(sorted(tags)))
            # Redis writes out what a command produced before it reads the next command: once this
            # answers, the announcement is in every subscriber's socket, before this request answers.
            self._redis().ping()
        except Exception:
            # The others will not hear of it: nobody may trust a cache until that is repaired.
            logger.exception("cannot announce stale tags; caches are off until Redis answers")
            self._distrust()

    def catch_up_once(self) -> bool:
        """`catch_up`, once per request: a request sees the caches as they were when it began
        using them (plus its own changes, dropped here at once)."""
        if not has_request_context():
            return self.catch_up()
        if g.get("_caught_up") is None:
            g._caught_up = self.catch_up()
        return g._caught_up and self.trusted

    def catch_up(self) -> bool:
        """Apply every announcement made before now, from any process; False: do not trust the
        caches. What waits in the subscription's socket is read without a round trip; when
        something was there, or the counter was last read a while ago, the counter is read too
        and every announcement up to it awaited."""
        if not self.enabled:
            return False
        if self.redis_url is None:
            return True
        with self._lock:
            try:
                subscription = self._subscription_of_this_process()
                heard = self._apply_waiting(subscription)
                if heard or time.monotonic() - self._counter_read_at >= RECHECK_SECONDS:
                    self._apply_up_to_counter(subscription)
                self.trusted = True
            except Exception:
                logger.warning("cannot follow the stale tags; caches are off until Redis answers", exc_info=True)
                self._distrust()
        return self.trusted

    def _apply_waiting(self, subscription) -> bool:
        """Apply the announcements already in the socket (no waiting); True if there were any."""
        heard = False
        while (message := subscription.get_message(timeout=0)) is not None:
            self._apply(message["data"].decode())
            heard = True
        return heard

    def _apply_up_to_counter(self, subscription) -> None:
        """Read the counter and wait for every announcement up to it (a burst may still be on its
        way when the socket was full)."""
        announced = self._read_counter()
        deadline = self._counter_read_at + CATCH_UP_SECONDS
        while self._applied < announced:
            message = subscription.get_message(timeout=max(0.0, deadline - time.monotonic()))
            if message is None:
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"announcement {announced} did not arrive")
                continue
            self._apply(message["data"].decode())

    def _read_counter(self) -> int:
        """The number of the last announcement made, by any process."""
        announced = int(self._redis().get(SEQUENCE_KEY) or 0)
        self._counter_read_at = time.monotonic()
        return announced

    def _apply(self, message: str) -> None:
        number, _, tags = message.partition(" ")
        if int(number) != self._applied + 1:
            self._drop_all()  # some were missed: nothing cached can be trusted
        else:
            self._drop_locally(tags.split())
        self._applied = int(number)

    def _subscription_of_this_process(self):
        # Each process subscribes itself and starts with empty caches: what a forked worker
        # inherited may have gone stale unheard.
        if self._subscription is None or self._pid != os.getpid():
            subscription = self._redis().pubsub(ignore_subscribe_messages=True)
            subscription.subscribe(CHANNEL)
            subscription.get_message(timeout=CATCH_UP_SECONDS)  # the confirmation: from now on, nothing is missed
            self._applied = self._read_counter()
            self._subscription = subscription
            self._drop_all()
        return self._subscription

    def _redis(self):
        """This process's own client (a forked worker must not share its parent's sockets)."""
        if self._redis_client is None or self._pid != os.getpid():
            import redis

            self._subscription = None
            self._redis_client = redis.Redis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
            self._pid = os.getpid()
        return self._redis_client

    def _drop_locally(self, tags: Iterable[str]) -> None:
        tags = list(tags)
        for cache in self.caches:
            cache.drop(tags)

    def _drop_all(self) -> None:
        for cache in self.caches:
            cache.clear()

    def _distrust(self) -> None:
        self.trusted = False
        self._drop_subscription()
        self._drop_all()

    def close(self) -> None:
        self._drop_subscription()

    def _drop_subscription(self) -> None:
        subscription, self._subscription = self._subscription, None
        client, self._redis_client = self._redis_client, None
        for connection in (subscription, client):
            if connection is not None:
                try:
                    connection.close()
                except Exception:
                    logger.debug("closing a broken Redis connection failed", exc_info=True)


# Numbered and published in one step, so every process sees the announcements in order and
# knows, from the counter alone, whether one is still on its way.
_ANNOUNCE = """
local number = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], number .. ' ' .. ARGV[2])
return number
"""


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = FreshnessBus(app.config["REDIS_URL"], app.config["CACHE_ENABLED"])


def cache(name: str, maxsize: int = 10_000) -> TaggedCache:
    """The app's cache of that name (made on first use)."""
    return current_app.extensions[EXTENSION].cache(name, maxsize)


def _bus() -> FreshnessBus | None:
    return current_app.extensions.get(EXTENSION) if has_app_context() else None

# What each watched model makes stale when its rows are written: `row_tags(row)` for a change
# through the unit of work; `statement_tags(statement)` for a bulk UPDATE or DELETE or a Core
# INSERT, which names no single row (it should err on the side of more).
_WATCHED: dict[str, tuple[Callable[[Any], Iterable[str]], Callable[[Any], Iterable[str]]]] = {}


def watch(model, row_tags: Callable[[Any], Iterable[str]], statement_tags: Callable[[Any], Iterable[str]]) -> None:
    _WATCHED[model.__table__.name] = (row_tags, statement_tags)


def equals_in_where(statement, column_key: str):
    """The value a bulk statement's WHERE pins `column_key` to (`… WHERE id = 5 AND …`), or None."""
    clause = getattr(statement, "whereclause", None)
    for criterion in getattr(clause, "clauses", None) or ([clause] if clause is not None else []):
        column, value = getattr(criterion, "left", None), getattr(criterion, "right", None)
        if (getattr(criterion, "operator", None) is operators.eq and getattr(column, "key", None) == column_key
                and hasattr(value, "effective_value")):
            return value.effective_value
    return None


def inserted_value(statement, column_key: str):
    """The value an INSERT … VALUES gives `column_key` (a single row), or None."""
    for column, value in (getattr(statement, "_values", None) or {}).items():
        if getattr(column, "key", column) == column_key and hasattr(value, "effective_value"):
            return value.effective_value
    return None


def updated_columns(statement) -> set[str]:
    """The columns an UPDATE sets (for `statement_tags` that may ignore some)."""
    return {getattr(column, "key", str(column)) for column in getattr(statement, "_values", None) or {}}


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
        _pending(state.session).update(watched[1](state.statement))


@event.listens_for(Session, "after_commit")
def _announce_committed(session):
    tags = session.info.pop(_PENDING, None)
    bus = _bus()
    if tags and bus is not None:
        bus.announce(tags)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session):
    session.info.pop(_PENDING, None)
