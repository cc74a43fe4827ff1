"""The admins' page of background jobs: dead ones first, each with its last error and a retry.
Thin: parse, call a service, render."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from . import services

bp = Blueprint("jobs", __name__)


@bp.get("/admin/jobs")
def index():
    status = request.args.get("status", "dead")
    page = services.list_jobs(current_user, status=status, cursor=request.args.get("cursor"),
                              limit=request.args.get("limit"))
    return render_template("jobs/index.html", page=page, status=status, health=services.queue_health())


@bp.post("/admin/jobs/<int:job_id>/retry")
def retry(job_id: int):
    job = services.do_retry_job(current_user, job_id)
    flash(f"Job {job.id} ({job.name}) will run again.", "success")
    return redirect(url_for("jobs.index"))
