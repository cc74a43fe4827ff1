"""Who acts when nobody signed in does: the operator at the command line, the demo seed, and
the system itself (a post hidden by enough flags).

Passing `SYSTEM` says so explicitly; `None` always means "nobody signed in" and is refused
everything but reading what is public, so a forgotten actor can never become a superuser.
"""
from .accounts.models import User


class SystemActor:
    """The operator or the system. Not a member: it has no id, row, role or organization."""

    id = None
    display_name = "Roundtable"

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = SystemActor()

Actor = User | SystemActor


def is_system(actor) -> bool:
    return actor is SYSTEM


def person(actor: "Actor | None") -> User | None:
    """The member who acted, for "by whom" columns and notifications; None for the system."""
    return None if actor is SYSTEM else actor
