"""What each domain event tells the vendor's systems: the webhook type, its `data` (the API's own
output shapes, without the per-viewer parts), and whether it comes from a staff-only category."""
from dataclasses import dataclass

from .. import events
from ..shapes import IdeaSchema, PostSchema, ProfileSchema, ThreadSchema, UserRefSchema, without_viewer_fields

_thread = without_viewer_fields(ThreadSchema, "last_read_post_id", "unread_count")
_post = without_viewer_fields(PostSchema, "hidden_reason", "my_reactions")
_idea = without_viewer_fields(IdeaSchema, "has_voted", "organizations")
_profile = ProfileSchema()
_user_ref = UserRefSchema()


@dataclass(frozen=True)
class Message:
    type: str
    data: dict
    staff_only: bool = False


def _post_data(post) -> dict:
    # A new post is seen by every reader of its thread as written (the shape without a viewer
    # would show a placeholder in case it were hidden).
    return {**_post.dump(post), "body": post.body, "body_html": post.body_html}


def _thread_created(thread, post):
    return Message("thread.created", {"thread": _thread.dump(thread), "post": _post_data(post)},
                   thread.category.staff_only)


def _post_created(thread, post):
    return Message("post.created", {"post": _post_data(post)}, thread.category.staff_only)


def _idea_staff_only(idea) -> bool:
    return idea.thread.category.staff_only


def _idea_created(idea):
    return Message("idea.created", {"idea": _idea.dump(idea)}, _idea_staff_only(idea))


def _idea_status_changed(idea, status, note):
    return Message("idea.status_changed", {"idea": _idea.dump(idea), "status": str(status), "note": note},
                   _idea_staff_only(idea))


def _idea_merged(idea, into):
    return Message("idea.merged", {"idea": _idea.dump(idea), "into": _idea.dump(into)},
                   _idea_staff_only(idea) or _idea_staff_only(into))


def _idea_vote_changed(idea, vote_count, voter_org_count):
    return Message("idea.vote_changed", {"idea_id": idea.id, "vote_count": vote_count,
                                         "voter_org_count": voter_org_count}, _idea_staff_only(idea))


def _member_joined(user):
    # The vendor's CRM matches people by email; admins, who set webhooks up, see it anyway.
    return Message("member.joined", {"member": {**_profile.dump(user), "email": user.email}})


def _checkin_created(event, attendee):
    """`attendee` is the public view (never coordinates), or None for someone only counted."""
    return Message("checkin.created", {"event_id": event.id, "attendee": attendee})


def _meeting_accepted(event, meeting):
    # The meeting's message stays between the two people.
    return Message("meeting.accepted", {"meeting": {
        "id": meeting.id, "event_id": meeting.event_id, "requester": _user_ref.dump(meeting.requester),
        "recipient": _user_ref.dump(meeting.recipient), "zone": meeting.zone.name if meeting.zone else None,
        "status": str(meeting.status), "responded_at": meeting.responded_at.isoformat()}})


def _flag_created(flag, post):
    return Message("flag.created", {"flag": {"id": flag.id, "post_id": post.id, "thread_id": post.thread_id,
                                             "reason": str(flag.reason), "text": flag.text}},
                   post.thread.category.staff_only)


MESSAGES = {
    events.thread_created: _thread_created,
    events.post_created: _post_created,
    events.idea_created: _idea_created,
    events.idea_status_changed: _idea_status_changed,
    events.idea_merged: _idea_merged,
    events.idea_vote_changed: _idea_vote_changed,
    events.user_joined: _member_joined,
    events.checkin_created: _checkin_created,
    events.meeting_accepted: _meeting_accepted,
    events.flag_created: _flag_created,
}


TYPES_BY_SIGNAL = {signal: ("member.joined" if signal is events.user_joined else signal.name) for signal in MESSAGES}


def message_for(signal, payload: dict) -> Message | None:
    build = MESSAGES.get(signal)
    return build(**payload) if build else None
