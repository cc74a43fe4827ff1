"""`SYSTEM` says "the operator or the system acts"; `None` is nobody signed in, refused every
write the operator may make (issue 16.2): a forgotten actor never becomes a superuser."""
from datetime import timedelta

import pytest

from community.accounts import services as accounts
from community.accounts.models import Organization
from community.actors import SYSTEM
from community.database import db, utcnow
from community.errors import Forbidden, NotFound
from community.gatherings import agenda, calendar
from community.threads import services as threads

from .factories import make_event

SOON = utcnow() + timedelta(days=30)
# Each write the operator makes as SYSTEM (the CLI, the demo seed, an import), given its actor and
# the ids it works on, with the refusal nobody signed in gets (an event they may not see is not
# found, as everywhere).
OPERATOR_WRITES = {
    "invite": (Forbidden, lambda actor, ids: accounts.do_invite(actor, "new@acme.test", "Acme", "member")),
    "set an organization's domains": (Forbidden, lambda actor, ids: accounts.do_set_organization_domains(
        actor, db.session.get(Organization, ids["organization"]), ["acme.test"])),
    "create an event": (Forbidden, lambda actor, ids: calendar.do_create_event(
        actor, name="Summit", venue="Lisbon", starts_at=SOON, ends_at=SOON + timedelta(hours=8))),
    "put a session on the agenda": (NotFound, lambda actor, ids: agenda.do_create_session(
        actor, ids["event"], {"title": "Keynote", "starts_at": SOON, "ends_at": SOON + timedelta(hours=1)})),
    "create a category": (Forbidden, lambda actor, ids: threads.do_create_category(actor, "Announcements")),
}


@pytest.mark.parametrize(("refusal", "write"), OPERATOR_WRITES.values(), ids=OPERATOR_WRITES)
def test_what_system_may_write_nobody_signed_in_may_not(app_context, people, refusal, write):
    event = make_event(starts_in=timedelta(days=29), lasts=timedelta(days=2))
    db.session.commit()
    ids = {"organization": people.acme.id, "event": event.id}
    with pytest.raises(refusal):
        write(None, ids)
    db.session.rollback()
    assert write(SYSTEM, ids) is not None  # the same call is a sound one: only the actor was missing
