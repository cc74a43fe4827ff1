"""Membership: organizations, invitations, sign-in and profiles."""
import hashlib
import re
import secrets
import unicodedata
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .. import events, permissions
from ..actors import Actor
from ..database import db, utcnow
from ..errors import AuthenticationFailed, Conflict, Forbidden, NotFound, ValidationFailed, check_fields
from ..moderation import audit
from ..tags import check_tags
from ..validation import check_choice, check_text
from . import device_sessions
from .models import Invitation, Organization, OrganizationDomain, Role, User, UserInterest

INVITATION_LIFETIME = timedelta(days=14)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
MAX_INTERESTS = 20
MAX_ORGANIZATION_DOMAINS = 50

# Everybody has an address at these, so none of them can say which company a person works for.
PUBLIC_EMAIL_DOMAINS = frozenset({
    "aol.com", "gmail.com", "googlemail.com", "gmx.com", "gmx.de", "gmx.net", "hotmail.com", "icloud.com",
    "live.com", "mail.com", "mail.ru", "me.com", "msn.com", "outlook.com", "proton.me", "protonmail.com",
    "qq.com", "web.de", "yahoo.com", "yandex.ru", "zoho.com",
})

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

# A real hash to check against when the email is unknown, so both failures take as long.
_UNKNOWN_USER_HASH = generate_password_hash(secrets.token_hex(16))


# Checks


def check_email(email: str | None) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise ValidationFailed({"email": "Enter a valid email address."})
    return email


def check_password(password: str | None) -> str:
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed({"password": f"Use at least {MIN_PASSWORD_LENGTH} characters."})
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed({"password": f"Use at most {MAX_PASSWORD_LENGTH} characters."})
    return password


def check_display_name(name: str | None) -> str:
    return check_text("display_name", name, max_length=80, required=True, missing="Enter your name.")


def check_role(role: str | None) -> str:
    return check_choice("role", role, Role, default=Role.MEMBER)


def check_interests(interests) -> list[str]:
    return check_tags(interests, field="interests", label="interest", max_count=MAX_INTERESTS)


MIN_HANDLE_LENGTH = 2


def handle_base(display_name: str) -> str:
    """`Zoë O'Neil` → `zoe_o_neil`: what a mention of this member looks like, before numbering."""
    ascii_name = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name).strip("_")[:24] or "member"


def new_handle(display_name: str) -> str:
    """A free handle for a new member: the base of their name, numbered when taken (`mia`,
    `mia2`…). Call inside the transaction that adds the member; the unique constraint on
    `users.handle` refuses a handle taken meanwhile."""
    base = handle_base(display_name)
    taken = set(db.session.scalars(select(User.handle).where(User.handle.startswith(base, autoescape=True))))
    # A mention needs two characters (markdown.MENTION): a one-letter name is numbered from 1 (`q1`).
    n, handle = 1, base if len(base) >= MIN_HANDLE_LENGTH else f"{base}1"
    while handle in taken:
        n += 1
        handle = f"{base}{n}"
    return handle


def normalize_domain(value: str) -> str | None:
    """`@Ärzte.Example.` → `xn--rzte-koa.example`: the form domains are stored and compared in,
    or None when `value` is not a domain name."""
    domain = str(value or "").strip().lower().removeprefix("@").rstrip(".")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or labels[-1].isdigit():
        return None
    return domain if all(_DOMAIN_LABEL.match(label) for label in labels) else None


def email_domain(email: str) -> str | None:
    return normalize_domain(email.rpartition("@")[2])


def check_domains(domains) -> list[str]:
    """A list of email domains, normalized, without repeats, sorted."""
    if isinstance(domains, str) or not isinstance(domains, (list, tuple)):
        raise ValidationFailed({"domains": "Give a list of email domains, such as [\"acme.com\"]."})
    checked = set()
    for value in domains:
        domain = normalize_domain(value) if isinstance(value, str) else None
        if domain is None:
            raise ValidationFailed({"domains": f"“{value}” is not an email domain such as acme.com."})
        if domain in PUBLIC_EMAIL_DOMAINS:
            raise ValidationFailed({"domains": f"{domain} is a public email service: anyone could sign up there."})
        checked.add(domain)
    if len(checked) > MAX_ORGANIZATION_DOMAINS:
        raise ValidationFailed({"domains": f"Use at most {MAX_ORGANIZATION_DOMAINS} domains."})
    return sorted(checked)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Organizations


def _organization_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if len(name) > 120:
        raise ValidationFailed({"organization": "Use at most 120 characters."})
    return name


def find_organization(name: str | None) -> Organization | None:
    """The organization of this name, in any case."""
    name = _organization_name(name)
    return db.session.scalar(select(Organization).where(Organization.name_key == name.casefold())) if name else None


def find_or_create_organization(name: str | None) -> Organization | None:
    """Call inside the transaction that uses it. An unknown name creates the organization."""
    name = _organization_name(name)
    if not name:
        return None
    organization = find_organization(name)
    if organization is None:
        organization = Organization(name=name, name_key=name.casefold())
        db.session.add(organization)
        db.session.flush()
    return organization


def find_organization_by_email(email: str) -> Organization | None:
    """The organization whose domains include this email's domain (at most one can)."""
    domain = email_domain(email)
    if domain is None:
        return None
    return db.session.scalar(select(Organization).join(OrganizationDomain)
                             .where(OrganizationDomain.domain == domain))


def do_set_organization_domains(actor: Actor, organization: Organization, domains) -> Organization:
    """Replace the organization's email domains; audit-logged. `actor` SYSTEM is the operator at
    the command line. A domain of another organization is refused: it belongs to one only."""
    set_organization_domains(actor, organization, domains)
    events.commit()
    return organization


def set_organization_domains(actor: User | None, organization: Organization, domains) -> bool:
    """`do_set_organization_domains` inside the caller's transaction (an account's other settings
    change with it, an import changes many): returns whether the domains changed."""
    if not permissions.can_edit_organization(actor):
        raise Forbidden("Only admins change an organization's domains.")
    domains = check_domains(domains)
    holders = db.session.execute(
        select(OrganizationDomain.domain, Organization.name).join(Organization)
        .where(OrganizationDomain.domain.in_(domains), OrganizationDomain.organization_id != organization.id)
    ).first()
    if holders is not None:
        raise Conflict(f"{holders.domain} already belongs to {holders.name}.", code="domain_taken")
    before = organization.domains
    kept = {row.domain: row for row in organization.domain_rows}
    organization.domain_rows = [kept.get(domain) or OrganizationDomain(domain=domain) for domain in domains]
    try:
        db.session.flush()
    except IntegrityError:  # another organization claimed one of them at the same moment
        events.rollback()
        raise Conflict("One of these domains was just given to another organization.", code="domain_taken") from None
    if before != domains:
        audit.record(actor, "organization.domains", "organization", organization.id,
                     before={"domains": before}, after={"domains": domains})
    return before != domains


# Users


def access_user(actor: User | None, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not permissions.can_view_profile(actor, user):
        raise NotFound("No such member.")
    return user


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def find_users_by_handle(handles) -> list[User]:
    """The members with these handles (lower case); unknown handles find nobody."""
    handles = sorted(handles)
    return list(db.session.scalars(select(User).where(User.handle.in_(handles)))) if handles else []


MENTION_SUGGESTIONS = 8


def list_mention_candidates(actor: User, prefix: str, readable_by=None) -> list[User]:
    """Members whose handle or name starts with `prefix`, for the composer's @ autocomplete:
    active members other than the writer; with `readable_by(user)` (a thread's read rule) only
    those a mention would reach."""
    prefix = (prefix or "").strip().lstrip("@").lower()[:32]
    if not permissions.is_signed_in(actor) or not prefix:
        return []
    now = utcnow()
    query = (select(User).where(or_(User.handle.startswith(prefix, autoescape=True),
                                    func.lower(User.display_name).startswith(prefix, autoescape=True)),
                                User.id != actor.id, permissions.not_suspended_clause(now))
             .order_by(User.handle).limit(MENTION_SUGGESTIONS * 3))
    found = [user for user in db.session.scalars(query) if readable_by is None or readable_by(user)]
    return found[:MENTION_SUGGESTIONS]


def do_create_admin(email: str, password: str, display_name: str | None = None) -> User:
    """Create the first admin (or promote an existing account, resetting its password)."""
    email = check_email(email)
    password = check_password(password)
    display_name = check_display_name(display_name or email.split("@")[0])
    user = find_user_by_email(email)
    if user is None:
        user = User(email=email, display_name=display_name, handle=new_handle(display_name))
        db.session.add(user)
    user.role = Role.ADMIN
    user.password_hash = generate_password_hash(password)
    if user.id is not None:
        device_sessions.end_all_sessions(user.id)  # a reset password signs the old one's holders out
    events.commit()
    return user


def do_change_password(actor: User, current_password: str | None, new_password: str | None,
                       keep_session_id: int | None) -> User:
    """Set a new password; every other browser and app of the actor is signed out at once, and
    the session asking (`keep_session_id`) stays signed in."""
    if not check_password_hash(actor.password_hash, current_password or ""):
        raise ValidationFailed({"current_password": "That is not your current password."})
    try:
        password = check_password(new_password)
    except ValidationFailed as failure:
        raise ValidationFailed({"new_password": failure.fields["password"]}) from None
    actor.password_hash = generate_password_hash(password)
    device_sessions.end_all_sessions(actor.id, keep_session_id=keep_session_id)
    events.commit()
    return actor


def authenticate(email: str | None, password: str | None) -> User:
    """The same error, after the same work, for an unknown email and a wrong password."""
    user = find_user_by_email(email or "")
    if user is None:
        check_password_hash(_UNKNOWN_USER_HASH, password or "")
        raise AuthenticationFailed()
    if not check_password_hash(user.password_hash, password or ""):
        raise AuthenticationFailed()
    if not permissions.can_sign_in_with_password(user, current_app.config["PASSWORD_LOGIN"]):
        raise AuthenticationFailed()  # the same answer: it tells nobody which passwords are right
    check_not_suspended(user)
    return user


def check_not_suspended(user: User) -> None:
    """A suspended member is told why and until when, at sign-in and on every API request."""
    if user.is_suspended:
        raise permissions.account_suspended(user)


def check_not_silenced(user: User) -> None:
    """Silenced members read but do not post, vote or flag; they are told why and until when."""
    if user.is_silenced:
        raise permissions.account_silenced(user)


def do_update_profile(actor: User, user_id: int, *, display_name, job_title, bio, interests) -> User:
    user = access_user(actor, user_id)
    if not permissions.can_edit_profile(actor, user):
        raise Forbidden("You can only edit your own profile.")
    values = check_fields(
        display_name=(check_display_name, display_name),
        job_title=(lambda v: check_text("job_title", v, max_length=120), job_title),
        bio=(lambda v: check_text("bio", v, max_length=2000, multiline=True), bio),
        interests=(check_interests, interests),
    )
    user.display_name = values["display_name"]
    user.job_title = values["job_title"]
    user.bio = values["bio"]
    user.interest_rows = [UserInterest(tag=tag) for tag in values["interests"]]
    events.commit()
    return user


# What a member chooses to hear about by email and on their devices (all booleans on User).
NOTIFICATION_CHOICES = ("email_mentions", "email_digest", "push_mentions", "push_replies", "push_idea_updates",
                        "push_meetings")


def do_update_notification_choices(actor: User, **choices) -> User:
    """The member's own email and push choices; a choice not given (or None) stays as it is."""
    for name, value in choices.items():
        if name not in NOTIFICATION_CHOICES:
            raise ValidationFailed({name: "Unknown choice."})
        if value is None:
            continue
        if not isinstance(value, bool):
            raise ValidationFailed({name: "Must be true or false."})
        setattr(actor, name, value)
    events.commit()
    return actor


# Invitations


def do_invite(actor: Actor, email: str, organization: str | None = None,
              role: str | None = None) -> tuple[Invitation, str]:
    """Invite someone by email; returns the invitation and its one-time token.

    The operator at the command line invites as `SYSTEM`, who may invite anyone.
    """
    role = check_role(role)
    if not permissions.can_invite(actor, role):
        raise Forbidden("You may not invite members with that role.")
    email = check_email(email)
    if find_user_by_email(email) is not None:
        raise Conflict("That person is already a member.", code="already_member")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=email,
        organization=find_or_create_organization(organization),
        role=role,
        token_hash=hash_token(token),
        invited_by_id=actor.id,
        expires_at=utcnow() + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    events.commit()
    return invitation, token


def access_invitation(token: str) -> Invitation:
    """The invitation behind a token, if it can still be accepted."""
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token or "")))
    if invitation is None:
        raise NotFound("This invitation link is not valid.")
    if invitation.accepted_at is not None:
        raise Conflict("This invitation has already been used. Sign in instead.", code="invitation_used")
    if invitation.expires_at <= utcnow():
        raise Conflict("This invitation has expired. Ask for a new one.", code="invitation_expired")
    return invitation


def do_accept_invitation(token: str, display_name: str | None, password: str | None) -> User:
    """Join with a password. With `PASSWORD_LOGIN=false` invited people join by single sign-on
    instead (`sso.do_sign_in` finds their invitation)."""
    invitation = access_invitation(token)
    if not current_app.config["PASSWORD_LOGIN"]:
        raise Forbidden("Accept this invitation by signing in with single sign-on.", code="password_login_disabled")
    values = check_fields(display_name=(check_display_name, display_name), password=(check_password, password))
    if find_user_by_email(invitation.email) is not None:
        raise Conflict("That person is already a member. Sign in instead.", code="already_member")
    claim_invitation(invitation)
    user = add_member(User(
        email=invitation.email,
        display_name=values["display_name"],
        password_hash=generate_password_hash(values["password"]),
        organization_id=invitation.organization_id,
        role=invitation.role,
    ))
    invitation.user_id = user.id
    events.commit()
    return user


def claim_invitation(invitation: Invitation) -> None:
    """Mark the invitation used with a conditional update, so two simultaneous accepts make one
    member. Call inside the transaction that adds the member."""
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        events.rollback()
        raise Conflict("This invitation has already been used. Sign in instead.", code="invitation_used")


def add_member(user: User) -> User:
    """Add a new member (with a handle made from their name) and announce that they joined.
    Call inside the transaction that lets them in; the caller commits."""
    user.handle = new_handle(user.display_name)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the same email let in another way at the same moment
        events.rollback()
        raise Conflict("That person is already a member. Sign in instead.", code="already_member") from None
    events.announce(events.user_joined, user=user)
    return user


def find_open_invitation(email: str) -> Invitation | None:
    """The newest invitation for this email that can still be accepted."""
    return db.session.scalar(
        select(Invitation)
        .where(Invitation.email == email, Invitation.accepted_at.is_(None), Invitation.expires_at > utcnow())
        .order_by(Invitation.id.desc()).limit(1))


def list_pending_invitations(actor: User, limit: int = 50) -> list[Invitation]:
    if not permissions.can_invite(actor, Role.MEMBER):
        raise Forbidden()
    return list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.accepted_at.is_(None), Invitation.expires_at > utcnow())
            .order_by(Invitation.id.desc())
            .limit(limit)
        )
    )
