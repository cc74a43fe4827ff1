"""The audit log's one writer. Entries are only ever added: nothing updates or deletes them."""
from ..actors import Actor
from ..database import db
from .models import AuditEntry

# What each action the services record is called on the audit log page (the API keeps the
# codes). A code without a label (an entry older than its label) shows as itself.
ACTION_LABELS = {
    "category.create": "Created a category",
    "category.add_moderator": "Made a category moderator",
    "category.remove_moderator": "Removed a category moderator",
    "event.create": "Created an event",
    "event.session_add": "Added a session",
    "event.session_change": "Changed a session",
    "event.session_remove": "Removed a session",
    "flag.dismiss": "Dismissed flags",
    "flag.hide": "Hid a flagged post",
    "idea.answer": "Answered an idea",
    "idea.merge": "Merged an idea",
    "idea.status": "Changed an idea's status",
    "idea.unmerge": "Unmerged an idea",
    "idea.vote_added": "Voted on a member's behalf",
    "idea.vote_importance": "Changed a vote's importance on a member's behalf",
    "idea.vote_removed": "Withdrew a vote on a member's behalf",
    "organization.domains": "Changed an organization's domains",
    "organization.update": "Changed an organization",
    "post.delete": "Deleted a post",
    "post.edit": "Edited a post",
    "post.hide": "Hid a post",
    "post.unhide": "Unhid a post",
    "thread.close": "Closed a thread",
    "thread.delete": "Deleted a thread",
    "thread.lock": "Locked a thread",
    "thread.move": "Moved a thread",
    "thread.pin": "Pinned a thread",
    "thread.rename": "Renamed a thread",
    "thread.reopen": "Reopened a thread",
    "thread.restore": "Restored a thread",
    "thread.solution": "Marked a solution",
    "thread.unlock": "Unlocked a thread",
    "thread.unpin": "Unpinned a thread",
    "thread.unsolve": "Removed a solution",
    "user.erase": "Erased a member",
    "user.silence": "Silenced a member",
    "user.suspend": "Suspended a member",
    "user.unsilence": "Lifted a silence",
    "user.unsuspend": "Lifted a suspension",
    "webhook.create": "Created a webhook",
    "webhook.delete": "Deleted a webhook",
    "webhook.rotate_secret": "Rotated a webhook's secret",
    "webhook.switch_off": "Switched off a failing webhook",
    "webhook.update": "Changed a webhook",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def record(actor: Actor, action: str, target_type: str, target_id: int, *, category_id: int | None = None,
           before: dict | None = None, after: dict | None = None, reason: str = "") -> AuditEntry:
    """Log a staff action; call inside the transaction of the action, before its commit, so
    the entry exists exactly when the action does. `SYSTEM` acting has no actor id. A new
    `action` gets its label in ACTION_LABELS."""
    entry = AuditEntry(actor_id=actor.id, action=action, target_type=target_type,
                       target_id=target_id, category_id=category_id, before=before, after=after, reason=reason)
    db.session.add(entry)
    return entry
