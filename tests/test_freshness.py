"""Caches that are never stale: tags dropped in this process at once and in every other
process (each with its own Redis subscription) before its next lookup; a broken subscription
turns caches off rather than let them serve what may have changed."""
import pytest

from community import freshness
from community.freshness import FreshnessBus


def counting_loader(values: dict):
    calls = []

    def load(key):
        def run():
            calls.append(key)
            return values[key]
        return run

    return load, calls


def test_a_dropped_tag_is_reloaded_and_other_entries_stay():
    bus = FreshnessBus()
    cache = bus.cache("sessions", maxsize=10)
    values = {1: "alice", 2: "bob"}
    load, calls = counting_loader(values)
    tags = {1: {"user:1"}, 2: {"user:2"}}
    for key in (1, 2, 1, 2):
        assert cache.lookup(key, lambda value, key=key: tags[key], load(key)) == values[key]
    assert calls == [1, 2]
    values[1] = "alice, renamed"
    bus.announce({"user:1"})
    assert cache.lookup(1, lambda value: tags[1], load(1)) == "alice, renamed"
    assert cache.lookup(2, lambda value: tags[2], load(2)) == "bob"
    assert calls == [1, 2, 1]


def test_a_load_that_raced_with_a_change_is_not_kept():
    bus = FreshnessBus()
    cache = bus.cache("sessions", maxsize=10)
    values = {"s": "live"}

    def load_while_it_changes():
        value = values["s"]
        values["s"] = "revoked"
        bus.announce({"session:s"})  # committed elsewhere while this read the old row
        return value

    assert cache.lookup("s", lambda value: {"session:s"}, load_while_it_changes) == "live"
    assert cache.lookup("s", lambda value: {"session:s"}, lambda: values["s"]) == "revoked"


def test_the_lru_bound_holds_and_evicted_entries_leave_the_tag_index():
    bus = FreshnessBus()
    cache = bus.cache("small", maxsize=2)
    for key in range(5):
        cache.lookup(key, lambda value, key=key: {f"tag:{key}"}, lambda key=key: key)
    assert len(cache) == 2
    assert set(cache._entries._keys_of) == {"tag:3", "tag:4"}


@pytest.fixture
def two_processes(redis_server):
    """Two buses as two processes have them: each its own publisher and subscription."""
    buses = [FreshnessBus(redis_server.url), FreshnessBus(redis_server.url)]
    for bus in buses:
        bus.catch_up()  # subscribe
    yield buses
    for bus in buses:
        bus.close()


def test_another_process_drops_the_tag_before_its_next_lookup(two_processes):
    here, there = two_processes
    cache_there = there.cache("sessions", maxsize=10)
    here.cache("sessions", maxsize=10)
    state = {"live": True}
    assert cache_there.lookup(7, lambda value: {"session:7"}, lambda: state["live"]) is True
    state["live"] = False
    here.announce({"session:7"})  # no sleep: the news is in the other socket before publish returns
    assert cache_there.lookup(7, lambda value: {"session:7"}, lambda: state["live"]) is False


def test_without_its_subscription_a_process_trusts_no_cache(two_processes, redis_server):
    _, there = two_processes
    cache = there.cache("sessions", maxsize=10)
    loads = []
    cache.lookup(1, lambda value: {"user:1"}, lambda: loads.append(1) or "x")
    redis_server.stop()
    try:
        for _ in range(3):
            assert cache.lookup(1, lambda value: {"user:1"}, lambda: loads.append(1) or "x") == "x"
        assert len(loads) == 4 and len(cache) == 0 and not there.trusted
    finally:
        redis_server.start()
    cache.lookup(1, lambda value: {"user:1"}, lambda: loads.append(1) or "x")
    cache.lookup(1, lambda value: {"user:1"}, lambda: loads.append(1) or "x")
    assert there.trusted and len(loads) == 5  # subscribed again: cached once more


class NoRoundTrips:
    """A Redis client that fails any command: proof that a lookup asked Redis nothing."""

    def __getattr__(self, name):
        raise AssertionError(f"a round trip to Redis: {name}")


def test_a_lookup_with_nothing_announced_asks_redis_nothing(two_processes):
    _, there = two_processes
    cache = there.cache("sessions", maxsize=10)
    cache.lookup(1, lambda value: {"user:1"}, lambda: "x")  # the counter was read just now, subscribing
    client, there._redis_client = there._redis_client, NoRoundTrips()
    try:
        assert cache.lookup(1, lambda value: {"user:1"}, lambda: "reloaded") == "x"
        assert there.trusted
    finally:
        there._redis_client = client


def quick_to_give_up(monkeypatch):
    monkeypatch.setattr(freshness, "CATCH_UP_SECONDS", 0.2)


def test_a_heard_announcement_makes_a_process_await_every_one_counted(two_processes, redis_server, monkeypatch):
    """Something in the socket: more may be on the way, so the counter is read and awaited."""
    quick_to_give_up(monkeypatch)
    here, there = two_processes
    cache = there.cache("sessions", maxsize=10)
    cache.lookup(1, lambda value: {"user:1"}, lambda: "x")
    here.announce({"user:2"})
    here._redis().incr(freshness.SEQUENCE_KEY)  # one counted whose message never comes
    assert cache.lookup(1, lambda value: {"user:1"}, lambda: "from the database") == "from the database"
    assert not there.trusted and len(cache) == 0


def test_a_quiet_subscription_is_checked_against_the_counter_every_second(two_processes, monkeypatch):
    """A link that died without a word is noticed: the counter is read when a second has passed."""
    quick_to_give_up(monkeypatch)
    here, there = two_processes
    cache = there.cache("sessions", maxsize=10)
    cache.lookup(1, lambda value: {"user:1"}, lambda: "x")
    here._redis().incr(freshness.SEQUENCE_KEY)  # counted, never heard of
    assert cache.lookup(1, lambda value: {"user:1"}, lambda: "reloaded") == "x"  # within the second
    there._counter_read_at -= freshness.RECHECK_SECONDS
    assert cache.lookup(1, lambda value: {"user:1"}, lambda: "reloaded") == "reloaded"
    assert not there.trusted
