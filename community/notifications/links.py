"""Where a notification leads: one answer for the page, emails, pushes and the API."""
from flask import current_app, url_for

from .models import EXPORT_READY, Notification


def target_url(notification: Notification) -> str:
    """Where a notification leads."""
    if notification.kind == EXPORT_READY:
        return url_for("privacy.my_data", _anchor="export")
    if notification.idea_id is not None:
        return url_for("ideas.idea", idea_id=notification.idea_id)
    if notification.thread_id is not None:
        anchor = f"post-{notification.post_id}" if notification.post_id else None
        return url_for("threads.thread", thread_id=notification.thread_id, _anchor=anchor)
    if notification.event_id is not None:
        return url_for("gatherings.meetings", event_id=notification.event_id)
    return url_for("notifications.index")


def public_links():
    """A request context on the public address, so links made outside a request (emails,
    pushes) point at the site."""
    return current_app.test_request_context(base_url=current_app.config["BASE_URL"])
