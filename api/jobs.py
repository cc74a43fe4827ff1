"""Background jobs, for admins: what is dead (and why), and retrying it."""
from marshmallow import Schema, fields, validate

from community.jobs import services
from community.jobs.models import JobStatus

from .common import ListArgsSchema, api_blueprint, page_schema, viewer

bp = api_blueprint("jobs", "Background jobs",
                   "Background jobs (admins): emails, pushes, webhooks, digests; dead ones to retry.")


class JobArgsSchema(ListArgsSchema):
    status = fields.String(validate=validate.OneOf([s.value for s in JobStatus]),
                           metadata={"description": "Only jobs in this state (dead: failed for good)."})


class JobSchema(Schema):
    id = fields.Integer()
    name = fields.String(metadata={"description": "What the job does, e.g. email.mention or push.send."})
    arguments = fields.Dict()
    status = fields.String(metadata={"enum": [s.value for s in JobStatus]})
    attempts = fields.Integer()
    max_attempts = fields.Integer()
    last_error = fields.String()
    created_at = fields.DateTime()
    next_attempt_at = fields.DateTime(metadata={"description": "When a pending job runs next."})
    finished_at = fields.DateTime(allow_none=True)


@bp.get("/jobs")
@bp.arguments(JobArgsSchema, location="query")
@bp.response(200, page_schema(JobSchema, "JobPage"))
@bp.error(403, description="Admins only.")
def list_jobs(args):
    """Background jobs, newest first."""
    return services.list_jobs(viewer(), status=args.get("status"), cursor=args.get("cursor"), limit=args.get("limit"))


@bp.post("/jobs/<int:job_id>/retry")
@bp.response(200, JobSchema)
@bp.error(403, description="Admins only.")
@bp.error(404, description="No such job.")
@bp.error(409, description="Only a dead job can be retried.")
def retry_job(job_id):
    """Give a dead job a fresh set of attempts, starting now."""
    return services.do_retry_job(viewer(), job_id)
