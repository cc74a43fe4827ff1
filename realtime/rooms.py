"""A room is a permission check, not a string: who may join which room."""
import re

from community import permissions
from community.accounts.models import User
from community.errors import Forbidden, NotFound
from community.gatherings import calendar as gatherings
from community.ideas import services as ideas
from community.threads import services as threads

ROOM = re.compile(r"^(?P<kind>[a-z]+)(?::(?P<id>[1-9][0-9]{0,17}))?$")


def _thread(user, thread_id):
    threads.access_thread(user, thread_id)


def _category(user, category_id):
    threads.access_category(user, category_id)


def _idea(user, idea_id):
    ideas.access_idea(user, idea_id)


def _ideas_board(user, _):
    board = ideas.find_board()
    if board is not None and not permissions.can_read_category(user, board):
        raise Forbidden()


def _event(user, event_id):
    gatherings.access_event(user, event_id)


def _moderation(user, _):
    if not permissions.can_join_moderation_room(user):
        raise Forbidden()


def _personal(user, user_id):
    if not permissions.can_join_personal_room(user, user_id):
        raise Forbidden()


# kind -> (needs an id, check raising NotFound/Forbidden)
ROOM_CHECKS = {
    "thread": (True, _thread),
    "category": (True, _category),
    "idea": (True, _idea),
    "ideas": (False, _ideas_board),
    "event": (True, _event),
    "user": (True, _personal),
    "moderation": (False, _moderation),
}


def room_error(user: User, room) -> str | None:
    """None if `user` may be in `room`, else the ack error: "forbidden" or "not_found"."""
    match = ROOM.match(room) if isinstance(room, str) else None
    if match is None or match["kind"] not in ROOM_CHECKS:
        return "not_found"
    needs_id, check = ROOM_CHECKS[match["kind"]]
    if needs_id != (match["id"] is not None):
        return "not_found"
    try:
        check(user, int(match["id"]) if needs_id else None)
    except NotFound:
        return "not_found"
    except Forbidden:
        return "forbidden"
    return None
