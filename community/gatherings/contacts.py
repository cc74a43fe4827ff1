"""Badges and contacts: each attendee's personal badge code, scanning someone's badge to save
them as a contact (with one's own note and rating), and exporting one's contacts.

The scanned person decides (`contact_exchange`): `allow` saves the contact at once, `ask`
saves it pending until they accept. The scanner never learns more than the attendee card
(name, organization, title, interests), and nothing at all while a request is pending.
"""
import csv
import io

import vobject
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from .. import events
from ..accounts.models import User
from ..database import db, insert_unless_exists, utcnow
from ..errors import Conflict, NotFound, ValidationFailed, check_fields
from ..notifications.services import notify
from ..pagination import Keyset, Page, check_limit
from ..validation import check_choice, check_text
from .calendar import access_event
from .codes import normalize_code
from .models import Checkin, Contact, ContactExchange, ContactStatus, Event, Participant, Registration
from .presence import is_present
from .qr import qr_svg
from .schedule import participant

MAX_NOTE = 1000
CONTACTS_KEYSET = Keyset((Contact.id,), (int,), lambda c: (c.id,))
CSV_COLUMNS = ("name", "organization", "title", "interests", "rating", "note", "saved_at")


def is_attendee(actor: User, event: Event) -> bool:
    """Registered, or checked in now: who has a badge and may scan others'."""
    registered = db.session.scalar(select(Registration.user_id).where(
        Registration.event_id == event.id, Registration.user_id == actor.id)) is not None
    if registered:
        return True
    checkin = db.session.scalar(select(Checkin).where(Checkin.event_id == event.id, Checkin.user_id == actor.id))
    return is_present(checkin, utcnow())


def _attendee_event(actor: User, event_id: int) -> Event:
    event = access_event(actor, event_id)
    if not is_attendee(actor, event):
        raise Conflict("Register for the event (or check in) to get your badge and swap contacts.",
                       code="not_attending")
    return event


def access_badge(actor: User, event_id: int) -> Participant:
    """The actor's own badge at the event (made the first time): its code and their choice."""
    event = _attendee_event(actor, event_id)
    badge = participant(event, actor.id)
    events.commit()
    return badge


def badge_qr_svg(badge: Participant) -> str:
    """What another attendee's camera scans: the badge code itself (the app and the web page
    both read it; typing it works as well)."""
    return qr_svg(badge.badge_code)


def do_set_contact_exchange(actor: User, event_id: int, choice) -> Participant:
    event = _attendee_event(actor, event_id)
    value = check_choice("contact_exchange", choice, ContactExchange)
    badge = participant(event, actor.id, lock=True)
    badge.contact_exchange = value
    events.commit()
    return badge


def check_rating(value) -> int | None:
    if value is None or value == "":
        return None
    try:
        rating = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed({"rating": "Rate from 1 to 5."}) from None
    if isinstance(value, bool) or not 1 <= rating <= 5 or (isinstance(value, float) and value != rating):
        raise ValidationFailed({"rating": "Rate from 1 to 5."})
    return rating


def do_scan_badge(actor: User, event_id: int, badge_code, note=None, rating=None) -> Contact:
    """Save the owner of `badge_code` (typed or scanned) as the actor's contact at the event,
    with a note and a rating (1-5). Scanning again updates the note and rating."""
    event = _attendee_event(actor, event_id)
    values = check_fields(
        code=(lambda v: normalize_code(v) if isinstance(v, str) and v.strip() else _no_code(), badge_code),
        note=(lambda v: check_text("note", v, max_length=MAX_NOTE, multiline=True), note),
        rating=(check_rating, rating))
    scanned = db.session.scalar(select(Participant).where(Participant.event_id == event.id,
                                                          Participant.badge_code == values["code"]))
    if scanned is None or scanned.user.is_suspended:
        raise NotFound("No badge with this code at this event.")
    if scanned.user_id == actor.id:
        raise ValidationFailed({"badge_code": "This is your own badge."})
    now = utcnow()
    status = ContactStatus.ACCEPTED if scanned.contact_exchange == ContactExchange.ALLOW else ContactStatus.PENDING
    created = insert_unless_exists(Contact, event_id=event.id, owner_id=actor.id, contact_id=scanned.user_id,
                                   note=values["note"], rating=values["rating"], status=status,
                                   created_at=now, updated_at=now) is not None
    if created:
        text = (f"{actor.display_name} saved your contact at {event.name}." if status == ContactStatus.ACCEPTED
                else f"{actor.display_name} would like your contact at {event.name}: accept or decline.")
        notify([scanned.user], "contact_saved" if status == ContactStatus.ACCEPTED else "contact_requested",
               actor=actor, event_id=event.id, text=text)
    else:
        db.session.execute(update(Contact).where(
            Contact.event_id == event.id, Contact.owner_id == actor.id, Contact.contact_id == scanned.user_id)
            .values(note=values["note"], rating=values["rating"], updated_at=now)
            .execution_options(synchronize_session=False))
    events.commit()
    return db.session.scalar(select(Contact).where(Contact.event_id == event.id, Contact.owner_id == actor.id,
                                                   Contact.contact_id == scanned.user_id)
                             .execution_options(populate_existing=True))


def _no_code():
    raise ValidationFailed({"badge_code": "Scan or type a badge code."})


def list_contacts(actor: User, event_id: int, *, cursor: str | None = None, limit=None) -> Page[Contact]:
    """The contacts the actor saved at the event, newest first (pending ones without a card)."""
    event = access_event(actor, event_id)
    query = (select(Contact).where(Contact.event_id == event.id, Contact.owner_id == actor.id)
             .options(selectinload(Contact.contact, User.interest_rows)))
    return CONTACTS_KEYSET.paginate(query, cursor, check_limit(limit))


def list_contact_requests(actor: User, event_id: int) -> list[Contact]:
    """Who scanned the actor's badge and waits for their answer (they chose `ask`)."""
    event = access_event(actor, event_id)
    return list(db.session.scalars(select(Contact).where(
        Contact.event_id == event.id, Contact.contact_id == actor.id, Contact.status == ContactStatus.PENDING)
        .order_by(Contact.id)))


def do_answer_contact(actor: User, contact_id: int, accept: bool) -> Contact:
    """The scanned person accepts (their card goes to the scanner) or declines a request."""
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.contact_id != actor.id:
        raise NotFound("No such contact request.")
    answered = db.session.execute(
        update(Contact).where(Contact.id == contact.id, Contact.status == ContactStatus.PENDING)
        .values(status=ContactStatus.ACCEPTED if accept else ContactStatus.DECLINED, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not answered:
        events.rollback()
        raise Conflict("This request has already been answered.", code="contact_already_answered")
    if accept:
        event = db.session.get(Event, contact.event_id)
        notify([contact.owner], "contact_accepted", actor=actor, event_id=event.id,
               text=f"{actor.display_name} shared their contact with you ({event.name}).")
    events.commit()
    db.session.refresh(contact)
    return contact


def exported_contacts(actor: User, event_id: int) -> list[Contact]:
    """Every contact the actor may see the card of (accepted), oldest first, in one query."""
    event = access_event(actor, event_id)
    return list(db.session.scalars(
        select(Contact).where(Contact.event_id == event.id, Contact.owner_id == actor.id,
                              Contact.status == ContactStatus.ACCEPTED)
        .options(selectinload(Contact.contact, User.interest_rows)).order_by(Contact.id)))


def contacts_csv(contacts: list[Contact]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for contact in contacts:
        person = contact.contact
        writer.writerow([_cell(value) for value in (
            person.display_name, person.organization_name, person.job_title, ", ".join(person.interests),
            contact.rating or "", contact.note, contact.created_at.isoformat())])
    return out.getvalue()


def _cell(value) -> str:
    """A spreadsheet opening the file must not run a formula someone typed as their name."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def contacts_vcard(contacts: list[Contact]) -> str:
    """The contacts as vCard 3.0, one card each, readable by phones and address books."""
    cards = []
    for contact in contacts:
        person = contact.contact
        card = vobject.vCard()
        card.add("fn").value = person.display_name
        card.add("n").value = vobject.vcard.Name(family="", given=person.display_name)
        if person.organization_name:
            card.add("org").value = [person.organization_name]
        if person.job_title:
            card.add("title").value = person.job_title
        if person.interests:
            card.add("categories").value = person.interests
        note = " · ".join(part for part in (f"Rating {contact.rating}/5" if contact.rating else "", contact.note)
                          if part)
        if note:
            card.add("note").value = note
        cards.append(card.serialize())
    return "".join(cards)
