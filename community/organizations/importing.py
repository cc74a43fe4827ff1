"""Importing organizations from a CSV file (from the vendor's CRM, say): all or nothing.

Every row is checked before anything is written; one bad row refuses the whole file with the line
numbers of every bad row. Rows name organizations by name (case-insensitive): an unknown name is
created, a known one updated. Empty cells leave a field as it is, so importing the same file twice
changes nothing the second time.
"""
import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from .. import events
from ..accounts import services as accounts
from ..accounts.models import Organization
from ..actors import SYSTEM
from ..database import db, refresh_planner_statistics
from ..errors import DomainError, ValidationFailed
from . import services

COLUMNS = ("name", "domains", "tier", "weight", "crm_id")
MAX_NAME = 120


class ImportRefused(DomainError):
    """The file, or some of its rows, cannot be imported; nothing was."""

    code = "import_refused"
    status = 422

    def __init__(self, problems: list[str]):
        super().__init__("Nothing was imported:\n" + "\n".join(problems))
        self.problems = problems


@dataclass
class Row:
    line: int
    name: str
    values: dict


@dataclass
class Summary:
    created: list[str] = field(default_factory=list)
    updated: list[tuple[str, dict]] = field(default_factory=list)
    unchanged: int = 0

    def lines(self) -> list[str]:
        out = [f"created {name}" for name in self.created]
        out += [f"updated {name}: " + ", ".join(f"{key} {value!r}" for key, value in changes.items())
                for name, changes in self.updated]
        out.append(f"{len(self.created)} created, {len(self.updated)} updated, {self.unchanged} unchanged.")
        return out


def _check_name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise ValidationFailed({"name": "Give the organization's name."})
    if len(name) > MAX_NAME:
        raise ValidationFailed({"name": f"Use at most {MAX_NAME} characters."})
    return name


CHECKS = {"domains": lambda cell: accounts.check_domains(services.split_domains(cell)), "tier": services.check_tier,
          "weight": services.check_weight, "crm_id": services.check_crm_id}


def read_rows(data: bytes) -> list[Row]:
    """Parse and check every row; refuses with every problem found, each with its line number."""
    try:
        content = data.decode("utf-8-sig")  # spreadsheets often start UTF-8 with a byte-order mark
    except UnicodeDecodeError:
        raise ImportRefused(["The file is not UTF-8 text: save it as CSV UTF-8."]) from None
    reader = csv.DictReader(io.StringIO(content, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if "name" not in header:
        raise ImportRefused(["line 1: the header must name the columns, with at least `name` "
                             f"(known: {', '.join(COLUMNS)})."])
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise ImportRefused([f"line 1: unknown column {', '.join(map(repr, unknown))} "
                             f"(known: {', '.join(COLUMNS)})."])
    reader.fieldnames = header
    rows, problems, seen = [], [], {}
    for record in reader:
        line = reader.line_num
        if None in record:
            problems.append(f"line {line}: more cells than columns.")
            continue
        cells = {key: (value or "").strip() for key, value in record.items()}
        if not any(cells.values()):
            continue  # a blank line
        failures, values = {}, {}
        try:
            name = _check_name(cells.get("name", ""))
        except ValidationFailed as failure:
            failures.update(failure.fields)
            name = ""
        for column, check in CHECKS.items():
            if cells.get(column):
                try:
                    values[column] = check(cells[column])
                except ValidationFailed as failure:
                    failures.update(failure.fields)
        key = name.casefold()
        if key and key in seen:
            failures["name"] = f"{name!r} is already on line {seen[key]}."
        seen.setdefault(key, line)
        if failures:
            problems.extend(f"line {line}: {column}: {message}" for column, message in failures.items())
        else:
            rows.append(Row(line, name, values))
    if problems:
        raise ImportRefused(problems)
    return rows


def _apply(organization: Organization, values: dict) -> dict:
    """Set one row's values (domains through their own rule, which keeps a domain to one
    organization); returns what changed."""
    values = dict(values)
    domains = values.pop("domains", None)
    changed = {}
    if domains is not None and accounts.set_organization_domains(SYSTEM, organization, domains):
        changed["domains"] = domains
    return {**changed, **services.apply_changes(SYSTEM, organization, values)}


def import_organizations(data: bytes, *, progress: Callable[[list], Iterable] = lambda rows: rows) -> Summary:
    """Create or update the file's organizations in one transaction (logged in the audit log as
    the system's doing, a new weight reweighing the organization's ideas). `progress` wraps the
    rows as they are written (the CLI's progress bar)."""
    rows = read_rows(data)
    keys = [row.name.casefold() for row in rows]
    existing = {organization.name_key: organization for organization in db.session.scalars(
        select(Organization).where(Organization.name_key.in_(keys)))} if keys else {}
    summary = Summary()
    try:
        for row in progress(rows):
            organization = existing.get(row.name.casefold())
            if organization is None:
                organization = Organization(name=row.name, name_key=row.name.casefold(), tier="", weight=1.0)
                db.session.add(organization)
                db.session.flush()
                _apply(organization, row.values)
                summary.created.append(row.name)
                continue
            changed = _apply(organization, row.values)
            if changed:
                summary.updated.append((organization.name, changed))
            else:
                summary.unchanged += 1
        events.commit()
    except DomainError as error:  # a domain another organization holds: still all or nothing
        events.rollback()
        raise ImportRefused([f"{error.message} {' '.join(getattr(error, 'fields', {}).values())}".strip()]) from None
    except Exception:
        events.rollback()
        raise
    if summary.created or summary.updated:
        # Many new or reweighed rows at once: fresh statistics, so the planner's choices for the
        # account pages and the demand sort fit the new data at once.
        refresh_planner_statistics()
    return summary
