"""What many test modules need: bursts of simultaneous actions, recorders of domain events and
hostile inputs."""
import base64
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from threading import Barrier

from community.database import db
from community.errors import DomainError


def at_once(app, action, arguments) -> list:
    """Run `action(argument)` for every argument at the same moment, each in its own thread and
    app context, all released together by a barrier. Answers the results in order; an action the
    domain refused answers its error's code (e.g. "already_flagged"). Any other error fails the test."""
    arguments = list(arguments)
    barrier = Barrier(len(arguments))

    def run(argument):
        with app.app_context():
            barrier.wait()
            try:
                return action(argument)
            except DomainError as refusal:
                return refusal.code
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(arguments)) as pool:
        return list(pool.map(run, arguments))


@contextmanager
def announced(*signals):
    """The (signal name, payload) pairs delivered while the block runs, from any thread: only
    what was really sent (after commit), in the order it was."""
    heard = []
    receivers = []
    for signal in signals:
        def receive(sender, _name=signal.name, **payload):
            heard.append((_name, payload))  # list.append is atomic: bursts may deliver from many threads
        receivers.append(receive)
        signal.connect(receive)
    try:
        yield heard
    finally:
        for signal, receive in zip(signals, receivers, strict=True):
            signal.disconnect(receive)


def deep_json(depth: int) -> str:
    """A JSON document nested `depth` arrays deep: deeper than any parser should be made to go."""
    return "[" * depth + "]" * depth


def cursor_of(text: str) -> str:
    """`text` as an opaque list cursor, encoded the way the API encodes its own (URL-safe base64, unpadded)."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
