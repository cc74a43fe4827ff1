"""Categories, threads and posts."""
from marshmallow import Schema, fields, validate

from community import rate_limits, shared_pages
from community.extensions import limiter
from community.notifications import subscriptions
from community.shapes import (
    SUBSCRIPTION_LEVEL,
    CategorySchema,
    PostSchema,
    ThreadSchema,
    component_or_null,
    current_viewer,
)
from community.threads import reactions, reading, services

from .common import (
    Id,
    ListArgsSchema,
    Moment,
    SubscriptionSchema,
    SubscriptionStateSchema,
    api_blueprint,
    json_answer,
    page_schema,
    user_rate_key,
    viewer,
)

bp = api_blueprint("threads", "Threads", "Categories, discussion threads and their posts.")


class CategoryCreateSchema(Schema):
    name = fields.String(required=True)
    description = fields.String(load_default="")
    staff_only = fields.Boolean(load_default=False)
    position = fields.Integer(load_default=None)
    kind = fields.String(load_default="discussion", validate=validate.OneOf(services.CATEGORY_KINDS))


class ReactionsSchema(Schema):
    reactions = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "How many members chose each reaction (only reactions someone chose)."})
    mine = fields.List(fields.String(), metadata={"description": "The reactions you chose."})


class ThreadDetailSchema(ThreadSchema):
    subscription = fields.Method("_subscription", metadata={
        **component_or_null(SUBSCRIPTION_LEVEL),
        "description": "Your own watch or mute of this thread; null: the default."})

    def _subscription(self, thread) -> str | None:
        return subscriptions.level_of(current_viewer(), thread=thread)


class CreatedThreadSchema(ThreadSchema):
    first_post = fields.Nested(PostSchema)


class ThreadListArgsSchema(ListArgsSchema):
    category_id = Id()
    sort = fields.String(validate=validate.OneOf(services.THREAD_SORTS), load_default="activity")
    unsolved = fields.Boolean(load_default=False, metadata={
        "description": "Only questions of support categories that have no solution yet."})


class PostListArgsSchema(ListArgsSchema):
    since = Moment(metadata={"description": "Only posts written, edited or deleted after this."})


class ThreadCreateSchema(Schema):
    category_id = Id(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)


class ThreadUpdateSchema(Schema):
    title = fields.String()
    category_id = Id()
    pinned = fields.Boolean()
    locked = fields.Boolean()
    closed = fields.Boolean()


class PostBodySchema(Schema):
    body = fields.String(required=True)


class SolutionSchema(Schema):
    post_id = Id(required=True)


class ReadSchema(Schema):
    post_id = Id(required=True, metadata={"description": "The last post read: every post up to it is read."})


def _for_viewer(thread):
    """The thread with the viewer's reading state, for answers about one thread."""
    return reading.load_reading_state(viewer(), thread)


@bp.get("/categories")
@bp.response(200, Schema.from_dict({"items": fields.List(fields.Nested(CategorySchema))}, name="CategoryList"))
def list_categories():
    """The categories you may read, in their display order."""
    return {"items": services.list_categories(viewer())}


@bp.post("/categories")
@bp.arguments(CategoryCreateSchema)
@bp.response(201, CategorySchema)
@bp.error(403, description="Admins only.")
@bp.error(409, description="A category with that name exists.")
def create_category(data):
    return services.do_create_category(viewer(), data["name"], data["description"], data["staff_only"],
                                       data["position"], data["kind"])


@bp.get("/threads")
@bp.arguments(ThreadListArgsSchema, location="query")
@bp.response(200, page_schema(ThreadSchema, "ThreadPage"))
def list_threads(args):
    """Threads you may read: by latest activity, newest, or most replied."""
    return json_answer(shared_pages.thread_page(viewer(), category_id=args.get("category_id"), sort=args["sort"],
                                                cursor=args.get("cursor"), limit=args.get("limit"),
                                                unsolved=args["unsolved"]))


@bp.post("/threads")
@bp.arguments(ThreadCreateSchema)
@bp.response(201, CreatedThreadSchema)
@bp.error(404, description="No such category (or not one you may read).")
@limiter.limit(rate_limits.WRITE, key_func=user_rate_key)
@limiter.limit(rate_limits.WRITE)
def create_thread(data):
    thread = _for_viewer(services.do_create_thread(viewer(), data["category_id"], data["title"], data["body"]))
    thread.first_post = services.list_posts(viewer(), thread.id, limit=1).items[0]
    return thread


@bp.get("/categories/<int:category_id>/subscription")
@bp.response(200, SubscriptionStateSchema)
@bp.error(404, description="No such category (or not one you may read).")
def get_category_subscription(category_id):
    return {"level": subscriptions.level_of(viewer(), category=services.access_category(viewer(), category_id))}


@bp.put("/categories/<int:category_id>/subscription")
@bp.arguments(SubscriptionSchema)
@bp.response(200, SubscriptionStateSchema)
@bp.error(404, description="No such category (or not one you may read).")
def set_category_subscription(data, category_id):
    """Watch a category (its new threads and all their replies) or mute it."""
    return {"level": services.do_set_category_subscription(viewer(), category_id, data["level"])}


@bp.delete("/categories/<int:category_id>/subscription")
@bp.response(200, SubscriptionStateSchema)
@bp.error(404, description="No such category (or not one you may read).")
def delete_category_subscription(category_id):
    return {"level": services.do_set_category_subscription(viewer(), category_id, None)}


@bp.get("/threads/<int:thread_id>")
@bp.response(200, ThreadDetailSchema)
@bp.error(404, description="No such thread (or not one you may read).")
def get_thread(thread_id):
    return _for_viewer(services.access_thread(viewer(), thread_id))


@bp.put("/threads/<int:thread_id>/solution")
@bp.arguments(SolutionSchema)
@bp.response(200, ThreadSchema)
@bp.error(403, description="Only the thread's author or its category's staff.")
@bp.error(409, description="Not a support question, or that post cannot be the solution.")
def set_solution(data, thread_id):
    """Mark a reply as the solution of a support question; its author is notified."""
    return _for_viewer(services.do_set_solution(viewer(), thread_id, data["post_id"]))


@bp.delete("/threads/<int:thread_id>/solution")
@bp.response(200, ThreadSchema)
@bp.error(403, description="Only the thread's author or its category's staff.")
def clear_solution(thread_id):
    return _for_viewer(services.do_set_solution(viewer(), thread_id, None))


@bp.post("/threads/<int:thread_id>/read")
@bp.arguments(ReadSchema)
@bp.response(200, ThreadSchema)
@bp.error(404, description="No such thread, or no such post in it (or not one you may read).")
def mark_thread_read(data, thread_id):
    """Mark the thread read up to a post; your place never moves backwards."""
    return services.do_mark_read(viewer(), thread_id, data["post_id"])


@bp.put("/threads/<int:thread_id>/subscription")
@bp.arguments(SubscriptionSchema)
@bp.response(200, SubscriptionStateSchema)
@bp.error(404, description="No such thread (or not one you may read).")
def set_thread_subscription(data, thread_id):
    """Watch (notified of every reply) or mute (never) this thread."""
    return {"level": services.do_set_thread_subscription(viewer(), thread_id, data["level"])}


@bp.delete("/threads/<int:thread_id>/subscription")
@bp.response(200, SubscriptionStateSchema)
@bp.error(404, description="No such thread (or not one you may read).")
def delete_thread_subscription(thread_id):
    """Back to the default: notified when you wrote in the thread or watch its category."""
    return {"level": services.do_set_thread_subscription(viewer(), thread_id, None)}


@bp.patch("/threads/<int:thread_id>")
@bp.arguments(ThreadUpdateSchema)
@bp.response(200, ThreadSchema)
@bp.error(403, description="Only the author may retitle; everything else is for staff of the category.")
@limiter.limit(rate_limits.WRITE, key_func=user_rate_key)
def update_thread(changes, thread_id):
    return _for_viewer(services.do_update_thread(viewer(), thread_id, changes))


@bp.delete("/threads/<int:thread_id>")
@bp.response(204)
@bp.error(403, description="Staff of the category only.")
@bp.error(409, description="Already deleted.")
def delete_thread(thread_id):
    """Soft-delete: members lose the thread everywhere; staff can restore it."""
    services.do_delete_thread(viewer(), thread_id)


@bp.post("/threads/<int:thread_id>/restore")
@bp.response(200, ThreadSchema)
@bp.error(403, description="Staff of the category only.")
@bp.error(409, description="Not deleted.")
def restore_thread(thread_id):
    return _for_viewer(services.do_restore_thread(viewer(), thread_id))


@bp.get("/threads/<int:thread_id>/posts")
@bp.arguments(PostListArgsSchema, location="query")
@bp.response(200, page_schema(PostSchema, "PostPage"))
def list_posts(args, thread_id):
    """Posts oldest first; `since` catches up on what changed while offline."""
    return json_answer(shared_pages.post_page(viewer(), thread_id, cursor=args.get("cursor"), limit=args.get("limit"),
                                              since=args.get("since")))


@bp.post("/threads/<int:thread_id>/posts")
@bp.arguments(PostBodySchema)
@bp.response(201, PostSchema)
@bp.error(409, description="The thread is locked or closed.")
@limiter.limit(rate_limits.WRITE, key_func=user_rate_key)
@limiter.limit(rate_limits.WRITE)
def reply(data, thread_id):
    return services.do_reply(viewer(), thread_id, data["body"])


@bp.get("/posts/<int:post_id>")
@bp.response(200, PostSchema)
def get_post(post_id):
    return services.access_post(viewer(), post_id)


@bp.patch("/posts/<int:post_id>")
@bp.arguments(PostBodySchema)
@bp.response(200, PostSchema)
@bp.error(403, description="Not your post (and you are not staff).")
@limiter.limit(rate_limits.WRITE, key_func=user_rate_key)
def edit_post(data, post_id):
    return services.do_edit_post(viewer(), post_id, data["body"])


@bp.delete("/posts/<int:post_id>")
@bp.response(204)
@bp.error(409, description="The first post goes only with its thread.")
def delete_post(post_id):
    services.do_delete_post(viewer(), post_id)


@bp.put("/posts/<int:post_id>/reactions/<reaction>")
@bp.response(200, ReactionsSchema)
@bp.error(403, description="Your own post, or one you cannot react to.")
@bp.error(422, description="Not one of the reactions: " + ", ".join(reactions.REACTIONS) + ".")
@limiter.limit(rate_limits.VOTE, key_func=user_rate_key)
def add_reaction(post_id, reaction):
    """React to a post; reacting again changes nothing."""
    return reactions.do_react(viewer(), post_id, reaction).as_dict()


@bp.delete("/posts/<int:post_id>/reactions/<reaction>")
@bp.response(200, ReactionsSchema)
@bp.error(403, description="Your own post, or one you cannot react to.")
@limiter.limit(rate_limits.VOTE, key_func=user_rate_key)
def remove_reaction(post_id, reaction):
    """Withdraw your reaction; withdrawing one you never gave changes nothing."""
    return reactions.do_react(viewer(), post_id, reaction, on=False).as_dict()
