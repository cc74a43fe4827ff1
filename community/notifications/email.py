"""Email about notifications: an immediate one for each mention, a daily digest of what is unread.

Nothing is sent inside a transaction: a mention enqueues the job `email.mention` in the
transaction that stores it (see `services.notify`), and a worker sends it after the commit.
Digests are the periodic job `email.digests` (daily at DIGEST_HOUR, UTC), or `flask send-digests`.
Without SMTP_URL nothing is sent at all. An email says only what its recipient may read when it
is sent: notifications are read back through the same visibility rules as the notifications
page, and a post is quoted only when its body is readable to the recipient.
"""
import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, url_for
from sqlalchemy import select

from .. import events, permissions
from ..accounts.models import User
from ..database import db, utcnow
from ..jobs import RetryLater, crontab_at_hour, job, periodic
from ..threads.models import Post
from . import services
from .links import public_links, target_url
from .models import Notification

log = logging.getLogger(__name__)

DIGEST_SIZE = 50
QUOTE_LENGTH = 500


def email_enabled() -> bool:
    return bool(current_app.config.get("SMTP_URL"))


def send_email(to: str, subject: str, body: str) -> bool:
    """Send one plain-text email through SMTP_URL; False when it could not be sent (logged)."""
    url = urlsplit(current_app.config["SMTP_URL"])
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = current_app.config["SMTP_FROM"], to, subject
    message.set_content(body)
    connect = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    try:
        with connect(url.hostname, url.port or (465 if url.scheme == "smtps" else 25), timeout=10) as smtp:
            if parse_qs(url.query).get("starttls") == ["1"]:
                smtp.starttls()
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send email to %s", to)
        return False
    return True


def _footer() -> str:
    return f"\n\n--\nChoose which emails you get: {url_for('accounts.edit_profile', _external=True)}\n"


def _link(notification: Notification) -> str:
    return current_app.config["BASE_URL"] + target_url(notification)


@job("email.mention", max_attempts=6)
def email_mention(notification_id: int) -> None:
    """Runs after the commit that stored the mention; says only what is readable now."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or not email_enabled():
        return
    user = db.session.get(User, notification.user_id)
    if user is None or not user.email_mentions or user.is_suspended:
        return
    visible = services.list_notifications_by_id(user, [notification.id])
    if not visible:
        return  # no longer readable (moved out of sight, deleted) since it was written
    visible = visible[0]
    with public_links():
        body = f"{visible.text}\n\n{_link(visible)}"
        post = db.session.get(Post, visible.post_id) if visible.post_id else None
        if post is not None and permissions.can_read_post_body(user, post):
            quote = post.body if len(post.body) <= QUOTE_LENGTH else post.body[:QUOTE_LENGTH] + "…"
            body += "\n\n" + "\n".join(f"> {line}" for line in quote.splitlines())
        if not send_email(user.email, visible.text, body + _footer()):
            raise RetryLater("the SMTP server did not take the email")


@periodic("email.digests", crontab_at_hour("DIGEST_HOUR"), max_attempts=3, lease_seconds=3600)
def email_digests() -> None:
    send_digests()


def send_digests() -> int:
    """Email each member who asked for it what is unread and new since their last digest;
    returns how many digests went out. Each sent digest is recorded at once, so a failure
    halfway never resends the ones before it."""
    if not email_enabled():
        return 0
    sent = 0
    readers = db.session.scalars(select(User.id).where(User.email_digest.is_(True)).order_by(User.id)).all()
    for user_id in readers:
        user = db.session.get(User, user_id)
        if user.is_suspended:
            continue
        started = utcnow()
        unread = services.list_notifications(user, since=user.digest_sent_at, unread_only=True,
                                             limit=DIGEST_SIZE).items
        if not unread:
            continue
        with public_links():
            lines = [f"- {note.text}" + (f" ({note.count}×)" if note.count > 1 else "") + f"\n  {_link(note)}"
                     for note in unread]
            more = "\n(and more: see all of them on the site)" if len(unread) == DIGEST_SIZE else ""
            body = "Unread since your last digest:\n\n" + "\n".join(lines) + more + _footer()
        if send_email(user.email, f"Roundtable: {len(unread)} unread notification{'s' * (len(unread) > 1)}", body):
            user.digest_sent_at = started
            events.commit()
            sent += 1
    return sent
