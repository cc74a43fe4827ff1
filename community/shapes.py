"""The output shapes every face shares: the API's answers, the realtime pushes, webhooks.

A shape is dumped *for a viewer*, passed in by whoever dumps it:

    with viewing_as(user):
        PostSchema().dump(post)

Per-viewer parts (`can_*` flags, a hidden post's body, the viewer's own subscription) ask the
policy about that viewer; without one they answer as for nobody signed in (false, placeholder),
which is what a push to a whole room must carry anyway.
"""
from typing import TypedDict

from marshmallow import Schema, fields, pre_dump
from marshmallow.experimental.context import Context

from . import permissions
from .accounts.models import User
from .ideas.models import IdeaStatus
from .moderation import services as moderation
from .threads import reactions
from .threads.services import CATEGORY_KINDS

# Enums that several fields share are components of the document (the API registers them), so
# a generated client has one type for each, not one per field.
SUBSCRIPTION_LEVEL = "SubscriptionLevel"  # a watch or mute of a thread, category or idea
IMPORTANCE = "Importance"  # of a vote


def _reference(component: str | type[Schema]) -> dict:
    name = component if isinstance(component, str) else component.__name__.removesuffix("Schema")
    return {"$ref": f"#/components/schemas/{name}"}


def component(name: str) -> dict:
    """Field metadata for the document: that component."""
    return {"allOf": [_reference(name)]}


def component_or_null(component: str | type[Schema]) -> dict:
    """Field metadata for the document: a component (a schema class, or a name) or null, in
    OpenAPI 3.1's words, so a generated client types the field (`type: object` would leave it a
    plain dict)."""
    return {"anyOf": [_reference(component), {"type": "null"}]}


class Viewing(TypedDict):
    viewer: User | None


ViewingContext = Context[Viewing]


def viewing_as(user: User | None) -> ViewingContext:
    """Dump shapes inside this block as `user` sees them."""
    return ViewingContext({"viewer": user})


def current_viewer() -> User | None:
    """The viewer of the dump in progress (None outside `viewing_as`)."""
    return ViewingContext.get({"viewer": None})["viewer"]


class Can(fields.Boolean):
    """A permission flag for the viewer, computed by the policy: `Can(permissions.can_reply)`.

    Clients show or hide actions by these flags and never recompute a rule.
    """

    def __init__(self, rule, **kwargs):
        super().__init__(dump_only=True, **kwargs)
        self.rule = rule

    def _serialize(self, value, attr, obj, **kwargs):
        return bool(self.rule(current_viewer(), obj))

    def get_value(self, obj, attr, accessor=None, default=None):
        return True  # the value comes from the rule, not from an attribute


def without_viewer_fields(schema_class: type[Schema], *per_viewer: str) -> Schema:
    """The shape for a push to a whole room: without the `can_*` flags and other per-viewer fields."""
    flags = [name for name, field in schema_class._declared_fields.items() if isinstance(field, Can)]
    return schema_class(exclude=[*flags, *per_viewer])


class UserRefSchema(Schema):
    """Who wrote or did something, as shown next to it."""

    id = fields.Integer()
    display_name = fields.String()
    handle = fields.String(metadata={"description": "Mention this member in a post as @handle."})
    organization = fields.String(attribute="organization_name")
    job_title = fields.String()
    role = fields.String()


class ProfileSchema(UserRefSchema):
    """A member's profile as other members see it (no email: customers' addresses stay private)."""

    bio = fields.String()
    interests = fields.List(fields.String())
    created_at = fields.DateTime()


class MeSchema(ProfileSchema):
    """The signed-in member: their profile plus what only they (and staff) see."""

    email = fields.String()
    status = fields.String()
    email_mentions = fields.Boolean(metadata={"description": "Email me at once when someone mentions me."})
    email_digest = fields.Boolean(metadata={"description": "Email me a daily digest of my unread notifications."})
    push_mentions = fields.Boolean(metadata={"description": "Push my devices when someone mentions me."})
    push_replies = fields.Boolean(metadata={"description": "Push replies and new threads in what I watch."})
    push_idea_updates = fields.Boolean(metadata={"description": "Push answers and status changes of my ideas."})
    push_meetings = fields.Boolean(metadata={"description": "Push meeting requests and answers."})


class CategorySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    position = fields.Integer()
    staff_only = fields.Boolean()
    kind = fields.String(metadata={"enum": list(CATEGORY_KINDS), "description": (
        "support: each thread is a question that can have one solution post.")})
    can_create_thread = Can(permissions.can_create_thread)


HIDDEN_BODY_HTML = "<p><em>This post was hidden by moderators.</em></p>\n"


class PostSchema(Schema):
    id = fields.Integer()
    thread_id = fields.Integer()
    author = fields.Nested(UserRefSchema)
    body = fields.Method("_body", metadata={"type": "string", "description": (
        "Markdown source, for editing; empty when the post is hidden from you.")})
    body_html = fields.Method("_body_html", metadata={"type": "string", "description": (
        "Sanitized HTML, for display; a placeholder when the post is hidden from you.")})
    created_at = fields.DateTime()
    edited_at = fields.DateTime(allow_none=True)
    deleted = fields.Function(lambda post: post.deleted_at is not None, metadata={"type": "boolean"})
    hidden = fields.Function(lambda post: post.hidden_at is not None, metadata={"type": "boolean"})
    hidden_reason = fields.Method("_hidden_reason", allow_none=True, metadata={
        "type": "string", "description": "Why staff hid it: for its author and staff only."})
    reactions = fields.Method("_reactions", metadata={
        "type": "object", "additionalProperties": {"type": "integer"},
        "description": "Reaction counts: " + ", ".join(reactions.REACTIONS) + "."})
    my_reactions = fields.Method("_my_reactions", metadata={"type": "array", "items": {"type": "string"}})
    can_edit = Can(permissions.can_edit_post)
    can_react = Can(permissions.can_react)
    can_delete = Can(permissions.can_delete_post)
    can_flag = Can(permissions.can_flag_post)
    can_hide = Can(permissions.can_hide_post)
    can_unhide = Can(permissions.can_unhide_post)
    can_view_history = Can(permissions.can_moderate_post)

    @pre_dump(pass_collection=True)
    def _look_up_the_viewers_flags(self, posts, many, **kwargs):
        """`can_flag` refuses a post the viewer flagged already: look that up, in one query for
        the whole dump, for the posts whose page has not (`moderation.attach_my_flags`)."""
        if "can_flag" in self.dump_fields:
            moderation.attach_my_flags(current_viewer(), [post for post in (posts if many else [posts])
                                                          if not hasattr(post, "flagged_by_viewer")])
        return posts

    def _body(self, post) -> str:
        return post.body if permissions.can_read_post_body(current_viewer(), post) else ""

    def _body_html(self, post) -> str:
        return post.body_html if permissions.can_read_post_body(current_viewer(), post) else HIDDEN_BODY_HTML

    def _reactions(self, post) -> dict:
        return reactions.summary_of(current_viewer(), post).counts

    def _my_reactions(self, post) -> list:
        return reactions.summary_of(current_viewer(), post).mine

    def _hidden_reason(self, post) -> str | None:
        return post.hidden_reason if permissions.can_see_hidden_reason(current_viewer(), post) else None


class ThreadSchema(Schema):
    id = fields.Integer()
    category_id = fields.Integer()
    title = fields.String()
    author = fields.Nested(UserRefSchema)
    created_at = fields.DateTime()
    last_activity_at = fields.DateTime()
    reply_count = fields.Integer()
    pinned = fields.Boolean()
    locked = fields.Boolean()
    closed = fields.Boolean()
    deleted = fields.Function(lambda thread: thread.deleted_at is not None, metadata={"type": "boolean"})
    solution_post_id = fields.Integer(allow_none=True, metadata={
        "description": "The reply marked as the solution of this support question."})
    last_read_post_id = fields.Integer(allow_none=True, metadata={
        "description": "The last post you read (null: you never opened the thread)."})
    unread_count = fields.Integer(metadata={
        "description": "Visible posts after the last one you read (all of them if you never opened it)."})
    can_reply = Can(permissions.can_reply)
    can_edit_title = Can(permissions.can_edit_thread_title)
    can_moderate = Can(permissions.can_moderate_thread)
    can_delete = Can(permissions.can_delete_thread)
    can_restore = Can(permissions.can_restore_thread)
    can_mark_solution = Can(permissions.can_mark_solution)


class OfficialAnswerSchema(Schema):
    note = fields.String(metadata={"description": "Markdown source."})
    note_html = fields.String(metadata={"description": "Sanitized HTML, for display."})
    status = fields.String(metadata={"description": "The status this answer came with."})
    by = fields.Nested(UserRefSchema, allow_none=True)
    at = fields.DateTime()


class IdeaSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    body = fields.String(metadata={"description": "Markdown source of the description (its thread's first post)."})
    body_html = fields.String(metadata={"description": "Sanitized HTML, for display."})
    tags = fields.List(fields.String())
    status = fields.String(metadata={"enum": list(IdeaStatus)})
    vote_count = fields.Integer()
    voter_org_count = fields.Integer(metadata={"description": "How many customer organizations want it."})
    has_voted = fields.Boolean()
    importance = fields.Raw(attribute="my_importance", metadata={
        **component_or_null(IMPORTANCE),
        "description": "How important the idea is to you (your vote's); null: no vote."})
    vote_cast_by = fields.Nested(UserRefSchema, allow_none=True, metadata={
        "description": "The staff member who added your vote on your behalf (after a call, say); null: you did."})
    subscription = fields.Raw(metadata={**component_or_null(SUBSCRIPTION_LEVEL),
                                        "description": "Your own watch or mute of this idea; null: the default."})
    thread_id = fields.Integer(metadata={"description": "Its discussion: comments are posts of this thread."})
    author = fields.Nested(UserRefSchema)
    created_at = fields.DateTime()
    status_changed_at = fields.DateTime()
    official_answer = fields.Nested(OfficialAnswerSchema, allow_none=True)
    merged_into_id = fields.Integer(allow_none=True)
    organizations = fields.List(fields.String(), attribute="organization_names",
                                metadata={"description": "Names of the organizations that want it (staff only)."})
    can_vote = Can(permissions.can_vote)
    can_comment = Can(permissions.can_comment_on_idea)
    can_change_status = Can(permissions.can_change_idea_status)
    can_merge = Can(permissions.can_merge_idea)
    can_unmerge = Can(permissions.can_unmerge_idea)


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    thread_id = fields.Integer(allow_none=True)
    idea_id = fields.Integer(allow_none=True)
    event_id = fields.Integer(allow_none=True)
    actor = fields.Nested(UserRefSchema, allow_none=True)
    count = fields.Integer(metadata={"description": "How many happenings this one groups."})
    read = fields.Boolean()
    created_at = fields.DateTime(attribute="updated_at", metadata={"description": "When it last happened."})
    text = fields.String()


class MeetingSchema(Schema):
    id = fields.Integer()
    event_id = fields.Integer()
    requester = fields.Nested(UserRefSchema)
    recipient = fields.Nested(UserRefSchema)
    message = fields.String()
    zone = fields.Function(lambda m: m.zone.name if m.zone else None, allow_none=True, metadata={"type": "string"})
    status = fields.String(metadata={"enum": ["pending", "accepted", "declined", "superseded"]})
    starts_at = fields.DateTime(allow_none=True)
    ends_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    responded_at = fields.DateTime(allow_none=True)
    can_answer = Can(permissions.can_answer_meeting)
