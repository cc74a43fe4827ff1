"""The demo community behind `make demo`, built through the same services members use."""
from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from . import events
from .accounts import services as accounts
from .accounts.models import Role, User
from .actors import SYSTEM
from .database import db, utcnow
from .gatherings import agenda, calendar, meetings, presence, schedule
from .ideas import merging
from .ideas import services as ideas
from .threads import services as threads

DEMO_PASSWORD = "roundtable-demo"

PEOPLE = [
    # email, name, organization, title, role, interests
    ("admin@roundtable.test", "Ada Admin", "Roundtable Inc.", "Community Manager", Role.ADMIN,
     "community, roadmap"),
    ("mod@roundtable.test", "Max Moderator", "Roundtable Inc.", "Customer Success Lead", Role.MODERATOR,
     "onboarding, support"),
    ("alice@acme.test", "Alice Chen", "Acme Insurance", "Head of Claims Ops", Role.MEMBER,
     "automation, reporting, sso"),
    ("bob@globex.test", "Bob Okafor", "Globex Logistics", "IT Architect", Role.MEMBER,
     "integrations, api, sso"),
    ("carla@initech.test", "Carla Rossi", "Initech Bank", "Product Owner", Role.MEMBER,
     "reporting, compliance"),
]

# Newcomers at these domains who sign in by single sign-on join the customer company.
ORGANIZATION_DOMAINS = {"Acme Insurance": ["acme.test"], "Globex Logistics": ["globex.test"],
                        "Initech Bank": ["initech.test"]}

CATEGORIES = [
    ("Announcements", "News from the Roundtable team: releases, events and maintenance.", False),
    ("General", "Introduce yourself and talk shop with other customers.", False),
    ("Product help", "Questions about using the product, answered by peers and staff.", False),
    ("Integrations & API", "SSO, webhooks, the REST API and everything that connects.", False),
    ("Staff lounge", "Internal notes for the vendor's team. Customers never see this.", True),
]

# Questions there can have an accepted answer.
SUPPORT_CATEGORIES = {"Product help", "Integrations & API"}

THREADS = [
    ("Announcements", "admin@roundtable.test", "Welcome to the Roundtable customer community",
     "Hello everyone! This is **your** space to share practices, ask questions and tell us what to "
     "build next.\n\n- Be kind and specific\n- Search before posting\n- Staff answers are marked",
     [("alice@acme.test", "Glad this exists. Looking forward to comparing notes on claims automation.")]),
    ("General", "bob@globex.test", "How do you structure your admin team?",
     "We have two admins and a rotating on-call. Curious how larger teams organise ownership.",
     [("carla@initech.test", "We split by region, with one *global* owner for configuration changes."),
      ("alice@acme.test", "Same here, plus a monthly review of every custom field we added.")]),
    ("Product help", "carla@initech.test", "Exporting monthly reports to CSV",
     "Is there a way to schedule the monthly report export? Right now I run it by hand.",
     [("mod@roundtable.test", "Yes: open *Reports → Schedules* and add a monthly trigger. "
       "See the [reporting guide](https://example.com/docs/reports).")]),
    ("Integrations & API", "bob@globex.test", "SAML SSO with Azure AD: clock skew errors",
     "Logins fail with `NotBefore` errors after the last update. Anyone seen this?\n\n"
     "```\nSAML response not yet valid\n```",
     [("alice@acme.test", "We had it too; syncing the IdP's NTP fixed it.")]),
    ("Staff lounge", "mod@roundtable.test", "Renewal risk: Globex wants better SSO docs",
     "Internal: Bob's team is frustrated with SSO setup. Let's prioritise the docs update.", []),
]


IDEAS = [
    # author, title, description, tags, voters, (status, answered by, official answer) or None
    ("alice@acme.test", "Schedule report exports",
     "Let us schedule the monthly CSV export instead of running it by hand every month.",
     "reporting, automation", ["bob@globex.test", "carla@initech.test"],
     ("planned", "admin@roundtable.test", "Planned for the spring release: schedules for every report, "
      "delivered by email or to S3.")),
    ("bob@globex.test", "SCIM user provisioning",
     "Provision and deprovision members from Azure AD automatically.", "sso, integrations",
     ["alice@acme.test"], None),
    ("carla@initech.test", "Export the audit log to our SIEM",
     "Compliance asks for every admin action in Splunk.", "compliance, api",
     ["alice@acme.test", "bob@globex.test"],
     ("shipped", "mod@roundtable.test", "Shipped in 4.2: the audit log streams to any syslog or HTTPS endpoint. "
      "See the [release notes](https://example.com/releases/4.2).")),
    ("bob@globex.test", "Dark mode", "Our operators work night shifts; a dark theme would help.", "ui",
     ["carla@initech.test"], None),
]
# A duplicate of the first idea, merged into it by staff: its voters now count there.
DUPLICATE = ("carla@initech.test", "Automatic monthly CSV report", "Same as the scheduled export, really.",
             "reporting")


def seed_ideas(people: dict[str, User]) -> None:
    """The ideas board of the demo, through the same services members and staff use."""
    posted = []
    for author, title, body, tags, voters, answer in IDEAS:
        idea = ideas.do_create_idea(people[author], title, body, tags)
        for voter in voters:
            ideas.do_vote(people[voter], idea.id, True)
        if answer is not None:
            status, staff, note = answer
            ideas.do_change_status(people[staff], idea.id, status, note)
        posted.append(idea)
    author, title, body, tags = DUPLICATE
    duplicate = ideas.do_create_idea(people[author], title, body, tags)
    merging.do_merge(people["mod@roundtable.test"], duplicate.id, posted[0].id)


VENUE = {"lat": 38.7684, "lng": -9.0940, "radius_m": 600}
# (minutes after the demo's first whole hour, title, zone, speakers)
DEMO_SESSIONS = (
    (0, "Welcome and roadmap keynote", "Main stage", "Ana Lima, VP Product"),
    (0, "Hands-on: the reporting API", "Workshop room 1", "Dev Relations"),
    (60, "Customer panel: SSO at scale", "Main stage", "Acme, Globex, Initech"),
    (60, "Workshop: building dashboards", "Workshop room 2", "Solutions team"),
    (120, "What is new in permissions", "Main stage", "Platform team"),
    (180, "Expo hall happy hour", "Expo hall", ""),
    (24 * 60, "Day two keynote", "Main stage", "CEO"),
)
CHECKINS = [
    # email, zone, position (or None), visibility
    ("alice@acme.test", "Expo hall", (38.7686, -9.0937), "listed"),
    ("bob@globex.test", "Main stage", (38.7680, -9.0946), "listed"),
    ("carla@initech.test", "Workshop room 2", None, "count_only"),
    ("mod@roundtable.test", "Expo hall", (38.7687, -9.0936), "listed"),
]


def seed_demo_event(people: dict[str, User]) -> None:
    """A conference that is on whenever the demo is seeded, with a few members checked in."""
    now = utcnow()
    event = calendar.do_create_event(
        SYSTEM, name="Roundtable Customer Summit", venue="Lisbon Congress Centre",
        description="Two days of talks, workshops and an expo. Check in to find the people you came to meet.",
        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=3), timezone="Europe/Lisbon",
        geofence=VENUE, zones=["Main stage", "Expo hall", "Workshop room 1", "Workshop room 2"])
    for email, zone, position, visibility in CHECKINS:
        calendar.do_register(people[email], event.id)
        where = {"lat": position[0], "lng": position[1]} if position else {}
        presence.do_check_in(people[email], event.id, {"code": event.checkin_code, "zone": zone,
                                                         "visibility": visibility, **where})
    meetings.do_request_meeting(people["bob@globex.test"], event.id, people["alice@acme.test"].id,
                                "Shall we compare notes on SSO rollouts?", "Expo hall")
    seed_demo_agenda(event, people)


def seed_demo_agenda(event, people: dict[str, User]) -> None:
    """Sessions on the hour from the event's first whole hour (so one is on now or next), in the
    zones, and people who published when they can meet."""
    hour = event.starts_at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    for offset, title, zone, speakers in DEMO_SESSIONS:
        start = hour + timedelta(minutes=offset)
        agenda.do_create_session(SYSTEM, event.id, {
            "title": title, "zone": zone, "speakers": speakers, "starts_at": start,
            "ends_at": start + timedelta(minutes=45)})
    for email in ("bob@globex.test", "carla@initech.test"):
        schedule.do_set_availability(people[email], event.id, [
            {"starts_at": hour + timedelta(hours=1), "ends_at": hour + timedelta(hours=6)}])


def seed_demo_community() -> list[str]:
    """Create the demo data once; returns the lines to print (the logins)."""
    logins = [f"  {email:<24} {DEMO_PASSWORD}   ({role})" for email, _, _, _, role, _ in PEOPLE]
    header = ["Demo logins (email, password):", *logins]
    if db.session.scalar(select(User.id).limit(1)) is not None:
        return ["The database already has members; nothing seeded.", *header]
    password_hash = generate_password_hash(DEMO_PASSWORD)
    people = {}
    for email, name, organization, title, role, _ in PEOPLE:
        user = User(email=email, display_name=name, password_hash=password_hash, job_title=title, role=role,
                    handle=accounts.new_handle(name), organization=accounts.find_or_create_organization(organization))
        db.session.add(user)
        people[email] = user
    events.commit()
    for name, domains in ORGANIZATION_DOMAINS.items():
        accounts.do_set_organization_domains(SYSTEM, accounts.find_organization(name), domains)
    for email, *_, interests in PEOPLE:
        user = people[email]
        accounts.do_update_profile(user, user.id, display_name=user.display_name, job_title=user.job_title,
                                   bio="", interests=interests)
    categories = {name: threads.do_create_category(SYSTEM, name, description, staff_only,
                                                   kind="support" if name in SUPPORT_CATEGORIES else None)
                  for name, description, staff_only in CATEGORIES}
    for category, author, title, body, replies in THREADS:
        thread = threads.do_create_thread(people[author], categories[category].id, title, body)
        for replier, reply in replies:
            threads.do_reply(people[replier], thread.id, reply)
    seed_ideas(people)
    seed_demo_event(people)
    return ["Demo community seeded.", *header]
