"""Operator commands (names fixed by DESIGN.md)."""
from datetime import timedelta

import click
from flask import Flask, url_for

from .accounts import services as accounts
from .actors import SYSTEM
from .database import refresh_planner_statistics
from .demo import seed_demo_community
from .errors import DomainError
from .jobs import services as jobs
from .notifications.email import email_enabled, send_digests
from .organizations import importing


def _fail_cleanly(action):
    try:
        return action()
    except DomainError as error:
        details = "; ".join(getattr(error, "fields", {}).values())
        raise click.ClickException(f"{error.message} {details}".strip()) from None


def register_cli(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.option("--email", required=True)
    @click.option("--password", required=True)
    @click.option("--name", default=None, help="Display name (defaults to the email's local part).")
    def create_admin(email, password, name):
        """Create an admin account, or make an existing account admin with this password."""
        user = _fail_cleanly(lambda: accounts.do_create_admin(email, password, name))
        click.echo(f"Admin ready: {user.email}")

    @app.cli.command("invite")
    @click.argument("email")
    @click.option("--organization", default=None, help="The customer company; an unknown name creates it.")
    @click.option("--role", type=click.Choice(["member", "moderator"]), default="member", show_default=True)
    @click.option("--base-url", envvar="ROUNDTABLE_BASE_URL", default="http://127.0.0.1:5000",
                  show_default=True, help="Where members reach the site (env ROUNDTABLE_BASE_URL).")
    def invite(email, organization, role, base_url):
        """Invite EMAIL and print the invitation URL to send them."""
        invitation, token = _fail_cleanly(lambda: accounts.do_invite(SYSTEM, email, organization, role))
        with app.test_request_context(base_url=base_url):
            click.echo(url_for("accounts.accept_invitation", token=token, _external=True))

    @app.cli.command("org-domains")
    @click.argument("organization")
    @click.argument("domains", nargs=-1)
    @click.option("--clear", is_flag=True, help="Remove all of the organization's domains.")
    def org_domains(organization, domains, clear):
        """Set the email DOMAINS of ORGANIZATION (an unknown name creates it): people whose
        verified email is at one of them join it when they first sign in by single sign-on.
        Without DOMAINS, print the current ones."""
        if clear and domains:
            raise click.UsageError("Give domains or --clear, not both.")
        if not organization.strip():
            raise click.UsageError("Name the organization.")
        if domains or clear:
            org = _fail_cleanly(lambda: accounts.do_set_organization_domains(
                SYSTEM, accounts.find_or_create_organization(organization), list(domains)))
        else:
            org = _fail_cleanly(lambda: accounts.find_organization(organization))
        if org is None:
            raise click.ClickException(f"No organization is named “{organization}”.")
        click.echo(f"{org.name}: {', '.join(org.domains) or 'no domains'}")

    @app.cli.command("seed-demo")
    def seed_demo():
        """Fill an empty database with the demo community and print its logins."""
        for line in seed_demo_community():
            click.echo(line)
        refresh_planner_statistics()

    @app.cli.command("send-digests")
    def send_digests_command():
        """Email each member who chose the daily digest what is unread since their last one (run daily from cron)."""
        if not email_enabled():
            raise click.ClickException("SMTP_URL is not set: no email is sent.")
        click.echo(f"Sent {send_digests()} digest(s).")

    @app.cli.command("import-organizations")
    @click.argument("file", type=click.File("rb"))
    def import_organizations(file):
        """Create or update organizations from a CSV file with columns name, tier, weight, crm_id
        (only name is required). Checks every row first: one bad row imports nothing."""
        data = file.read()

        def with_progress_bar(rows):
            with click.progressbar(rows, label="Importing organizations", show_pos=True) as bar:
                yield from bar

        try:
            summary = importing.import_organizations(data, progress=with_progress_bar)
        except importing.ImportRefused as refused:
            raise click.ClickException(refused.message) from None
        for line in summary.lines():
            click.echo(line)

    @app.cli.command("worker")
    @click.option("--threads", default=4, show_default=True, help="Jobs run at the same time by this worker.")
    def worker(threads):
        """Run background jobs (emails, pushes, webhooks, digests) until stopped (SIGINT/SIGTERM).

        Start as many as you like, on any machine that reaches the database and REDIS_URL."""
        queue = jobs.current_queue()
        if queue.huey.immediate:
            raise click.ClickException("JOBS_IMMEDIATE runs each job in the process that commits it: no worker.")
        recovered = jobs.sweep(lost_after=timedelta(0))
        click.echo(f"Worker started with {threads} thread(s); {recovered} job(s) picked up from before.")
        queue.consumer(threads).run()
