"""The audit log's one writer. Entries are only ever added: nothing updates or deletes them."""
from ..actors import Actor
from ..database import db
from .models import AuditEntry


def record(actor: Actor, action: str, target_type: str, target_id: int, *, category_id: int | None = None,
           before: dict | None = None, after: dict | None = None, reason: str = "") -> AuditEntry:
    """Log a staff action; call inside the transaction of the action, before its commit, so
    the entry exists exactly when the action does. `SYSTEM` acting has no actor id."""
    entry = AuditEntry(actor_id=actor.id, action=action, target_type=target_type,
                       target_id=target_id, category_id=category_id, before=before, after=after, reason=reason)
    db.session.add(entry)
    return entry
